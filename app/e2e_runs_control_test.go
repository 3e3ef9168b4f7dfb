package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fivesafes/fivesafes/app/runview"
	"github.com/fivesafes/fivesafes/app/sandbox"
	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

func TestE2ERunsOfReadersWaitForAMaintainer(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	e.Repo.SetPermission("eve", "read")
	e.Repo.SetPermission("mia", "maintain")
	pr, sha, _ := e.openStudy(study(nil))

	c := e.Repo.Comment(pr, "eve", "/run report")
	reply := e.reply(pr, c, "waiting for a maintainer")
	if !strings.Contains(reply.Body, "@eve has read permission") || !strings.Contains(reply.Body, "Approve run") {
		t.Errorf("reply to a reader's run:\n%s", reply.Body)
	}
	name := "fivesafes / run #1 (tpp)"
	held := e.waitCheckRun(sha, name, func(r ghemu.CheckRun) bool { return r.Conclusion == "action_required" })
	if len(held.Actions) != 1 || held.Actions[0].Identifier != runview.ApproveAction {
		t.Fatalf("held run's buttons: %+v", held.Actions)
	}
	if rs := e.requests(pr); len(rs) != 1 || rs[0].Status != jobs.RequestHeld || len(e.jobsOf(rs[0])) != 0 {
		t.Fatalf("held request %+v", rs)
	}

	// The requester's own click, and any reader's, approves nothing.
	e.Repo.ClickCheckRunAction(held.ID, runview.ApproveAction, "eve")
	e.reply(pr, c, "approving a run needs write permission")
	if rs := e.requests(pr); rs[0].Status != jobs.RequestHeld {
		t.Fatalf("a reader's click made the run %s", rs[0].Status)
	}

	e.Repo.ClickCheckRunAction(held.ID, runview.ApproveAction, "mia")
	run := e.waitCheckRun(sha, name, func(r ghemu.CheckRun) bool { return r.ID != held.ID && r.Status == "completed" })
	if run.Conclusion != "success" || !strings.Contains(run.Output.Summary, "@mia") {
		t.Fatalf("approved run: %s — %s\n%s", run.Conclusion, run.Output.Title, run.Output.Summary)
	}
	r := e.requests(pr)[0]
	if r.ApprovedBy != "mia" || r.Requester != "eve" {
		t.Errorf("request approved by %q for %q", r.ApprovedBy, r.Requester)
	}
	e.wantJobs(r, map[string]jobs.StatusCode{"generate": jobs.Succeeded, "process": jobs.Succeeded, "report": jobs.Succeeded})
	if old, _ := e.Emulator.CheckRun(held.ID); len(old.Actions) != 0 || !strings.Contains(old.Output.Title, "mia") {
		t.Errorf("the approval check run still offers %+v (%q)", old.Actions, old.Output.Title)
	}
}

func TestE2EAPushVoidsAPendingApproval(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	e.Repo.SetPermission("eve", "read")
	e.Repo.SetPermission("mia", "maintain")
	pr, sha, branch := e.openStudy(study(nil))
	e.Repo.Comment(pr, "eve", "/run all")
	held := e.waitCheckRun(sha, "fivesafes / run #1 (tpp)", func(r ghemu.CheckRun) bool { return r.Conclusion == "action_required" })

	sha2 := e.Repo.Push(branch, map[string]string{"analysis/report.sh": "set -e\ncp output/counts.csv output/report.csv\necho done\n"})
	if _, err := e.Repo.WaitCheckRun(e.ctx, sha2, "fivesafes / project.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := e.Emulator.WaitFor(e.ctx, func() bool {
		old, _ := e.Emulator.CheckRun(held.ID)
		return len(old.Actions) == 0
	}); err != nil {
		t.Fatal("the stale approval still offers its button")
	}
	if r := e.requests(pr)[0]; r.Status != jobs.RequestStale {
		t.Fatalf("request after the push: %s", r.Status)
	}
	if len(e.jobsOf(e.requests(pr)[0])) != 0 {
		t.Fatal("the stale request has jobs")
	}
}

func TestE2ECancelARunningJob(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	flag := flagFile(t)
	pr, sha, _ := e.openStudy(study(map[string]string{"analysis/process.sh": waitsFor(flag, "output/counts.csv")}))
	e.Repo.Comment(pr, "ana", "/run all")
	name := "fivesafes / run #1 (tpp)"
	e.waitCheckRun(sha, name, func(r ghemu.CheckRun) bool { return strings.Contains(jobRow(r, "process"), "`executing`") })

	c := e.Repo.Comment(pr, "ana", "/cancel")
	reply := e.reply(pr, c, "Cancelled")
	if !strings.Contains(reply.Body, "`process`: running; the backend is stopping it") || !strings.Contains(reply.Body, "`report`: cancelled") {
		t.Errorf("reply to /cancel:\n%s", reply.Body)
	}
	run := e.waitRun(sha, 1, "tpp")
	if run.Conclusion != "cancelled" {
		t.Fatalf("run #1: %s — %s", run.Conclusion, run.Output.Title)
	}
	r := e.requests(pr)[0]
	e.wantJobs(r, map[string]jobs.StatusCode{"generate": jobs.Succeeded, "process": jobs.CancelledByUser, "report": jobs.CancelledByUser})
	c = e.Repo.Comment(pr, "ana", "/cancel")
	e.reply(pr, c, "nothing to cancel")
}

func TestE2EAgentKilledMidJobAndRestarted(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	a := e.agent("tpp")
	flag := flagFile(t)
	pr, sha, branch := e.openStudy(study(map[string]string{"analysis/process.sh": waitsFor(flag, "output/counts.csv")}))
	e.Repo.Comment(pr, "ana", "/run all")
	e.waitCheckRun(sha, "fivesafes / run #1 (tpp)", func(r ghemu.CheckRun) bool { return strings.Contains(jobRow(r, "process"), "`executing`") })

	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	e.agent("tpp") // a new agent on the same stores finds the job still running
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1 after the agent's restart: %s — %s\n%s", run.Conclusion, run.Output.Title, run.Output.Text)
	}
	e.wantJobs(e.requests(pr)[0], map[string]jobs.StatusCode{"process": jobs.Succeeded, "report": jobs.Succeeded})
	if _, ok := e.released("tpp", branch, "output/report.csv"); !ok {
		t.Error("the report is not in the medium privacy store")
	}
}

func TestE2EAnExpiredLeaseHandsTheTaskOutAgain(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: "runs:\n  status_interval: 0s\n  lease: 1s\n  max_attempts: 3\n"})
	a := e.agent("tpp")
	flag := flagFile(t)
	pr, sha, _ := e.openStudy(study(map[string]string{"analysis/generate.sh": waitsFor(flag, "output/data.csv")}))
	e.Repo.Comment(pr, "ana", "/run generate")
	name := "fivesafes / run #1 (tpp)"
	e.waitCheckRun(sha, name, func(r ghemu.CheckRun) bool { return strings.Contains(jobRow(r, "generate"), "`executing`") })

	// The agent goes silent: after its lease the job waits for a worker again.
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	e.waitCheckRun(sha, name, func(r ghemu.CheckRun) bool { return strings.Contains(jobRow(r, "generate"), "waiting_on_workers") })
	e.agent("tpp")
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1: %s — %s\n%s", run.Conclusion, run.Output.Title, run.Output.Text)
	}
	entries := e.auditKinds(t)
	if entries["job.state"] == 0 {
		t.Error("no job.state entries in the log")
	}
}

func TestE2ETwoBackendsTwoAgents(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Backends: []string{"tpp", "emis"}})
	e.agent("tpp")
	e.agent("emis")
	pr, sha, branch := e.openStudy(study(nil))
	e.Repo.Comment(pr, "ana", "/run --backend emis all")
	if run := e.waitRun(sha, 1, "emis"); run.Conclusion != "success" {
		t.Fatalf("run #1 on emis: %s", run.Output.Title)
	}
	e.Repo.Comment(pr, "ana", "/run report")
	if run := e.waitRun(sha, 2, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #2 on tpp: %s", run.Output.Title)
	}
	rs := e.requests(pr)
	for _, j := range e.jobsOf(rs[1]) {
		if j.Backend != "emis" {
			t.Errorf("job %s of the emis run is on %s", j.Action, j.Backend)
		}
	}
	// tpp has none of emis's outputs: nothing is reused across backends.
	e.wantJobs(rs[0], map[string]jobs.StatusCode{"generate": jobs.Succeeded, "process": jobs.Succeeded, "report": jobs.Succeeded})
	for _, b := range []string{"emis", "tpp"} {
		if _, ok := e.released(b, branch, "output/report.csv"); !ok {
			t.Errorf("%s's agent did not run its own jobs", b)
		}
	}
}

// agentCall speaks the agent protocol to the bot, as backend.
func (e *runEnv) agentCall(backend, method, path string, body any, into any) int {
	e.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		json.NewEncoder(&buf).Encode(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.BotURL()+protocol.APIPrefix+path, &buf)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.AgentToken(backend))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			e.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestE2EDuplicateAndOutOfOrderAgentUpdates(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	pr, sha, _ := e.openStudy(study(nil))
	e.Repo.Comment(pr, "ana", "/run generate")
	var task protocol.Task
	if code := e.agentCall("tpp", "POST", "/tasks/claim?wait=20s", nil, &task); code != http.StatusOK || task.Job.Action != "generate" {
		t.Fatalf("claim: %d %+v", code, task)
	}
	update := func(seq int64, stage, status string, exit *int) int {
		u := protocol.Update{Attempt: task.Attempt, Seq: seq, Stage: stage, StatusCode: status, ExitCode: exit}
		if status == protocol.CodeSucceeded {
			u.Results = &outputs.Report{HighlySensitiveCount: 1}
		}
		var ans protocol.Answer
		return e.agentCall("tpp", "POST", "/tasks/"+task.ID+"/update", u, &ans)
	}
	zero := 0
	for _, u := range []struct {
		seq           int64
		stage, status string
	}{
		{1, protocol.StagePreparing, protocol.CodePreparing},
		{3, protocol.StageExecuting, protocol.CodeExecuting},
		{2, protocol.StagePreparing, protocol.CodePreparing}, // late: overtaken by seq 3
		{3, protocol.StageExecuting, protocol.CodeExecuting}, // again
	} {
		if code := update(u.seq, u.stage, u.status, nil); code != http.StatusOK {
			t.Fatalf("update seq %d: %d", u.seq, code)
		}
	}
	if j := e.jobsOf(e.requests(pr)[0])["generate"]; j.Status != jobs.Executing {
		t.Fatalf("after a late and a repeated update the job is %s, want executing", j.Status)
	}
	for range 2 { // the final report, twice
		if code := update(4, protocol.StageDone, protocol.CodeSucceeded, &zero); code != http.StatusOK {
			t.Fatalf("final update: %d", code)
		}
	}
	if code := update(2, protocol.StageExecuting, protocol.CodeExecuting, nil); code != http.StatusOK {
		t.Fatalf("an update after the end: %d", code)
	}
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1: %s", run.Output.Title)
	}
	var states []string
	for _, en := range e.audit(t) {
		if en.Kind == "job.state" {
			var d struct{ Status string }
			json.Unmarshal(en.Data, &d)
			states = append(states, d.Status)
		}
	}
	if want := []string{"waiting_on_workers", "preparing", "executing", "succeeded"}; !slices.Equal(states, want) {
		t.Errorf("job states in the log %v, want %v: duplicates or late updates changed something", states, want)
	}
}

func TestE2EABotRestartLosesNothing(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	flag := flagFile(t)
	pr, sha, _ := e.openStudy(study(map[string]string{"analysis/process.sh": waitsFor(flag, "output/counts.csv")}))
	e.Repo.Comment(pr, "ana", "/run all")
	e.waitCheckRun(sha, "fivesafes / run #1 (tpp)", func(r ghemu.CheckRun) bool { return strings.Contains(jobRow(r, "process"), "`executing`") })
	if err := e.StopBot(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.StartBot(e.ctx); err != nil {
		t.Fatal(err)
	}
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1 across a bot restart: %s — %s", run.Conclusion, run.Output.Title)
	}
	e.wantJobs(e.requests(pr)[0], map[string]jobs.StatusCode{"generate": jobs.Succeeded, "process": jobs.Succeeded, "report": jobs.Succeeded})
}
