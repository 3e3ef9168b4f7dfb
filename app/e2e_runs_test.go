package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fivesafes/fivesafes/app/sandbox"
	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

func TestE2ERunAllSucceeds(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	pr, sha, branch := e.openStudy(study(nil))
	c := e.Repo.Comment(pr, "ana", "Looks good, let's go.\n\n/run all\n")

	run := e.waitRun(sha, 1, "tpp")
	if run.Conclusion != "success" {
		t.Fatalf("run #1: %s (%s)\n%s", run.Conclusion, run.Output.Title, run.Output.Text)
	}
	for _, want := range []string{"generate", "process", "report", "output/counts.csv", "output/report.csv", "@ana"} {
		if !strings.Contains(run.Output.Summary+run.Output.Text, want) {
			t.Errorf("check run does not mention %q:\n%s\n%s", want, run.Output.Summary, run.Output.Text)
		}
	}
	if !strings.HasSuffix(run.DetailsURL, "/runs/"+e.requests(pr)[0].ID) {
		t.Errorf("details link %q is not the run's page", run.DetailsURL)
	}
	e.wantJobs(e.requests(pr)[0], map[string]jobs.StatusCode{"generate": jobs.Succeeded, "process": jobs.Succeeded, "report": jobs.Succeeded})
	if got := e.Repo.Reactions(c); !slices.Equal(got, []string{"eyes"}) {
		t.Errorf("reactions %v, want [eyes]", got)
	}
	if data, ok := e.released("tpp", branch, "output/report.csv"); !ok || data != "group,count\nall,10\n" {
		t.Errorf("report.csv in the medium privacy store: %q, %v", data, ok)
	}
	if _, ok := e.released("tpp", branch, "output/data.csv"); ok {
		t.Error("the highly sensitive dataset reached the medium privacy store")
	}
	status := e.reply(pr, c, "fivesafes:status")
	e.Emulator.WaitFor(e.ctx, func() bool {
		for _, cm := range e.Repo.Comments(pr) {
			if cm.ID == status.ID {
				status = cm
			}
		}
		return strings.Contains(status.Body, "✅")
	})
	if !strings.Contains(status.Body, "Run #1") || !strings.Contains(status.Body, "✅") {
		t.Errorf("status comment:\n%s", status.Body)
	}
	if n := len(e.Repo.Comments(pr)); n != 2 {
		t.Errorf("%d comments on the pull request, want the request and one status comment: %+v", n, e.Repo.Comments(pr))
	}
}

func TestE2EAFailedDependencyFailsItsDependantsAtOnce(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	pr, sha, _ := e.openStudy(study(map[string]string{"analysis/process.sh": "echo 'model did not converge' >&2\nexit 3\n"}))
	e.Repo.Comment(pr, "ana", "/run all")

	run := e.waitRun(sha, 1, "tpp")
	if run.Conclusion != "failure" || !strings.Contains(run.Output.Title, "process") || !strings.Contains(run.Output.Title, "nonzero_exit") {
		t.Fatalf("run #1: %s — %q", run.Conclusion, run.Output.Title)
	}
	if strings.Contains(run.Output.Text+run.Output.Summary, "did not converge") {
		t.Error("the job's log left the secure zone")
	}
	req := e.requests(pr)[0]
	e.wantJobs(req, map[string]jobs.StatusCode{"generate": jobs.Succeeded, "process": jobs.NonzeroExit, "report": jobs.DependencyFailed})
	js := e.jobsOf(req)
	if code := js["process"].ExitCode; code == nil || *code != 3 {
		t.Errorf("process exit code %v, want 3", code)
	}
	if !js["report"].StartedAt.IsZero() {
		t.Error("report started although process had failed")
	}
}

func TestE2EReuseAndRerunByFingerprint(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	pr, sha, branch := e.openStudy(study(nil))
	e.Repo.Comment(pr, "ana", "/run all")
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1: %s", run.Output.Title)
	}

	// Nothing changed: only the requested action runs; its dependencies are reused.
	e.Repo.Comment(pr, "ana", "/run report")
	run := e.waitRun(sha, 2, "tpp")
	if run.Conclusion != "success" || !strings.Contains(run.Output.Text, "reuse") {
		t.Fatalf("run #2: %s\n%s", run.Output.Title, run.Output.Text)
	}
	e.wantJobs(e.requests(pr)[0], map[string]jobs.StatusCode{"report": jobs.Succeeded, "process": "", "generate": ""})

	// process.sh changes: process runs again, generate is still reused.
	sha2 := e.Repo.Push(branch, map[string]string{"analysis/process.sh": "set -e\ntest -s output/data.csv\nprintf 'group,count\\nall,15\\n' > output/counts.csv\n"})
	e.Repo.Comment(pr, "ana", "/run report")
	run = e.waitRun(sha2, 3, "tpp")
	if run.Conclusion != "success" {
		t.Fatalf("run #3: %s\n%s", run.Output.Title, run.Output.Text)
	}
	r3 := e.requests(pr)[0]
	e.wantJobs(r3, map[string]jobs.StatusCode{"report": jobs.Succeeded, "process": jobs.Succeeded, "generate": ""})
	var why string
	for _, s := range r3.Plan {
		if s.Action == "process" {
			why = s.Reason
		}
	}
	if !strings.Contains(why, "analysis/process.sh") {
		t.Errorf("the plan does not say process runs because analysis/process.sh changed: %q", why)
	}
	if data, _ := e.released("tpp", branch, "output/report.csv"); data != "group,count\nall,15\n" {
		t.Errorf("report.csv after the re-run: %q", data)
	}
}

func TestE2EForceRunDependencies(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	pr, sha, _ := e.openStudy(study(nil))
	e.Repo.Comment(pr, "ana", "/run all")
	e.waitRun(sha, 1, "tpp")
	e.Repo.Comment(pr, "ana", "/run --force-run-dependencies report")
	if run := e.waitRun(sha, 2, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #2: %s", run.Output.Title)
	}
	r := e.requests(pr)[0]
	e.wantJobs(r, map[string]jobs.StatusCode{"generate": jobs.Succeeded, "process": jobs.Succeeded, "report": jobs.Succeeded})
	if !r.Force {
		t.Error("the request does not record --force-run-dependencies")
	}
}

func TestE2ERefusals(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	pr, sha, branch := e.openStudy(study(nil))

	c := e.Repo.Comment(pr, "ana", "/run generate_dataset procss")
	got := e.reply(pr, c, "did not start")
	for _, want := range []string{"no action `generate_dataset`", "no action `procss`", "Did you mean `process`?", "Its actions: `generate`, `process`, `report`"} {
		if !strings.Contains(got.Body, want) {
			t.Errorf("reply to unknown actions lacks %q:\n%s", want, got.Body)
		}
	}
	if r := e.Repo.Reactions(c); !slices.Equal(r, []string{"confused"}) {
		t.Errorf("reactions %v, want [confused]", r)
	}

	c = e.Repo.Comment(pr, "ana", "/run --backend tp all")
	if got := e.reply(pr, c, "no backend `tp`"); !strings.Contains(got.Body, "Did you mean `tpp`?") {
		t.Errorf("reply to an unknown backend:\n%s", got.Body)
	}

	c = e.Repo.Comment(pr, "ana", "/rnu all")
	if got := e.reply(pr, c, "Unknown command `/rnu`"); !strings.Contains(got.Body, "Did you mean `/run`?") {
		t.Errorf("reply to a typo:\n%s", got.Body)
	}

	sha2 := e.Repo.Push(branch, map[string]string{"project.yaml": "version: '5.0'\nactions:\n  a:\n    run: sh analysis/a.sh\n"})
	c = e.Repo.Comment(pr, "ana", "/run all")
	if got := e.reply(pr, c, "is not valid"); !strings.Contains(got.Body, "line 3: Action a must contain a configuration for 'outputs'") {
		t.Errorf("reply to an invalid project.yaml:\n%s", got.Body)
	}

	cycle := "version: '5.0'\nactions:\n  a:\n    run: sh:v1 a.sh\n    needs: [b]\n    outputs: {moderately_sensitive: {o: a.csv}}\n  b:\n    run: sh:v1 b.sh\n    needs: [a]\n    outputs: {moderately_sensitive: {o: b.csv}}\n"
	sha3 := e.Repo.Push(branch, map[string]string{"project.yaml": cycle})
	c = e.Repo.Comment(pr, "ana", "/run a")
	if got := e.reply(pr, c, "cycle"); !strings.Contains(got.Body, "a -> b -> a") {
		t.Errorf("reply to a needs cycle:\n%s", got.Body)
	}

	if n := len(e.requests(pr)); n != 0 {
		t.Errorf("%d job requests stored; every ask was refused", n)
	}
	e.noRunCheckRuns(sha, sha2, sha3)
}

func TestE2EForkPullRequestsAreRefused(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	e.Repo.SetPermission("eve", "write")
	fork := e.Repo.Fork("eve")
	fork.Commit("patch", study(nil), "study from a fork")
	pr, sha := e.Repo.OpenPR("eve:patch", "main", "From a fork", "eve")
	c := e.Repo.Comment(pr, "eve", "/run all")
	got := e.reply(pr, c, "a fork")
	if !strings.Contains(got.Body, "`eve/"+sandbox.RepoName+"`") || !strings.Contains(got.Body, "Push the branch to") {
		t.Errorf("reply:\n%s", got.Body)
	}
	if len(e.requests(pr)) != 0 {
		t.Error("a run of a fork's code was stored")
	}
	e.noRunCheckRuns(sha)
}

func TestE2ETriggerLabel(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	pr, sha, _ := e.openStudy(study(nil))
	e.Repo.LabelPR(pr, "fivesafes:run-all", "ana")
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1: %s", run.Output.Title)
	}
	r := e.requests(pr)[0]
	if r.Requester != "ana" || !slices.Equal(r.Actions, []string{"run_all"}) {
		t.Errorf("request by %s for %v, want ana for run_all", r.Requester, r.Actions)
	}
	if err := e.Emulator.WaitFor(e.ctx, func() bool { return len(e.Repo.Labels(pr)) == 0 }); err != nil {
		t.Errorf("the label is still there: %v", e.Repo.Labels(pr))
	}
}

func TestE2EHelpAndStatus(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	pr, _, _ := e.openStudy(study(nil))
	c := e.Repo.Comment(pr, "ana", "/help")
	if got := e.reply(pr, c, "/run [--backend NAME]"); !strings.Contains(got.Body, "`/cancel`") || !strings.Contains(got.Body, "--force-run-dependencies") {
		t.Errorf("help:\n%s", got.Body)
	}
	c = e.Repo.Comment(pr, "ana", "/status")
	status := e.reply(pr, c, "fivesafes:status")
	if !strings.Contains(strings.ToLower(status.Body), "no runs") {
		t.Errorf("status of a pull request without runs:\n%s", status.Body)
	}
	if r := e.Repo.Reactions(c); !slices.Equal(r, []string{"eyes"}) {
		t.Errorf("reactions to /status: %v", r)
	}
}

// A command whose handling fails half way (here GitHub loses the answers
// to the reaction and the reply) is retried, and still makes one request,
// one check run, one reaction and one reply.
func TestE2ECommandsAreIdempotentAcrossRetries(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	pr, sha, _ := e.openStudy(study(nil))
	e.Emulator.Fail("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", 1, http.StatusBadGateway, ghemu.AfterApplying())
	c := e.Repo.Comment(pr, "ana", "/run all")
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1: %s", run.Output.Title)
	}
	if n := len(e.requests(pr)); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if r := e.Repo.Reactions(c); !slices.Equal(r, []string{"eyes"}) {
		t.Errorf("reactions %v, want one eyes", r)
	}
	if n := e.Emulator.Requests("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"); n != 2 {
		t.Errorf("%d reactions sent, want 2: the fault was not met, or not retried", n)
	}

	e.Emulator.Fail("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", 1, http.StatusBadGateway, ghemu.AfterApplying())
	c = e.Repo.Comment(pr, "ana", "/run nope")
	e.reply(pr, c, "no action `nope`")
	e.Repo.Comment(pr, "ana", "/help") // handled after the retry: the same pull request's queue
	e.reply(pr, c, "/run [--backend NAME]")
	var replies int
	for _, cm := range e.Repo.Comments(pr) {
		if strings.Contains(cm.Body, "no action `nope`") {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d replies to one refused command, want 1", replies)
	}
	if n := len(e.Repo.CheckRuns(sha)); n != 2 {
		t.Errorf("%d check runs on the commit, want the project.yaml check and run #1", n)
	}
}

func TestE2EOperatorRequirements(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: "policy:\n  require: [approved, mergeable]\n"})
	e.agent("tpp")
	e.Repo.SetPermission("mia", "maintain")
	pr, sha, _ := e.openStudy(study(nil))

	c := e.Repo.Comment(pr, "ana", "/run all")
	got := e.reply(pr, c, "approving review of the head commit")
	if !strings.Contains(got.Body, "other than the author, @ana") {
		t.Errorf("reply:\n%s", got.Body)
	}
	e.Repo.SetPermission("rex", "read")
	e.Repo.Review(pr, "rex", "APPROVED", "a reader's approval")
	c = e.Repo.Comment(pr, "ana", "/run all")
	e.reply(pr, c, "approving review of the head commit") // a reader's approval does not count

	e.Repo.Review(pr, "mia", "APPROVED", "ok to run")
	e.Repo.SetMergeable(pr, false)
	c = e.Repo.Comment(pr, "ana", "/run all")
	if got := e.reply(pr, c, "did not start"); strings.Contains(got.Body, "approving review") || !strings.Contains(got.Body, "cannot (resolve its conflicts") {
		t.Errorf("reply with an approval but a conflict:\n%s", got.Body)
	}

	e.Repo.SetMergeable(pr, true)
	e.Repo.Comment(pr, "ana", "/run all")
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1 with every requirement met: %s", run.Output.Title)
	}
}

// GitHub creates the run's check run but the answer is lost: the reporter
// finds it the next time rather than making a second.
func TestE2EALostCheckRunCreateIsFoundNotRepeated(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{})
	e.agent("tpp")
	pr, sha, _ := e.openStudy(study(nil))
	if _, err := e.Repo.WaitCheckRun(e.ctx, sha, "fivesafes / project.yaml"); err != nil {
		t.Fatal(err)
	}
	e.Emulator.Fail("POST", "/repos/{owner}/{repo}/check-runs", 1, http.StatusBadGateway, ghemu.AfterApplying())
	e.Repo.Comment(pr, "ana", "/run all")
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		t.Fatalf("run #1: %s", run.Output.Title)
	}
	var runs int
	for _, r := range e.Repo.CheckRuns(sha) {
		if r.Name == "fivesafes / run #1 (tpp)" {
			runs++
		}
	}
	if runs != 1 {
		t.Errorf("%d check runs for run #1, want 1", runs)
	}
	if n := e.Emulator.Requests("POST", "/repos/{owner}/{repo}/check-runs"); n != 2 {
		t.Errorf("%d creates, want 2 (the project.yaml check and run #1's, never repeated)", n)
	}
}
