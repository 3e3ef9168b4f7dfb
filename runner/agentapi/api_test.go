package agentapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/agentapi"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
	"github.com/fivesafes/fivesafes/runner/outputs"
)

func TestClaimWakesWhenATaskIsQueued(t *testing.T) {
	e := newEnv(t, nil)
	type result struct {
		task agentapi.TaskJSON
		ok   bool
		at   time.Time
	}
	got := make(chan result, 1)
	go func() {
		task, ok := e.claim(tppToken, "30s")
		got <- result{task, ok, time.Now()}
	}()
	for !e.st.Notifier().Waiting("tpp") {
		time.Sleep(time.Millisecond) // until the agent is parked
	}
	queued := time.Now()
	_, js := jobstest.Run(t, e.st, nil, "tpp", "c1", "prepare")
	select {
	case r := <-got:
		if !r.ok || r.task.Job.ID != js[0].ID {
			t.Fatalf("claimed %+v", r.task)
		}
		if d := r.at.Sub(queued); d > time.Second {
			t.Fatalf("queue to claim took %s", d)
		}
		j := r.task.Job
		if r.task.Kind != "run_job" || r.task.Attempt != 1 || r.task.LeaseSeconds <= 0 || j.Repo != "owner/study" ||
			j.SHA != testSHA || j.Image != "ehrql:v1" || len(j.Outputs) != 1 || j.Outputs[0].Level != "moderately_sensitive" || j.Outputs[0].Outputs[0] != (agentapi.OutputJSON{Name: "out", Path: "output/generate_dataset.csv"}) ||
			j.Workspace != "owner/study/study" || j.TimeoutSeconds <= 0 || len(j.Needs) != 0 {
			t.Fatalf("task JSON %+v job %+v", r.task, j)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("claim did not wake when a task was queued")
	}
	e.wantJob(js[0].ID, jobs.Preparing)
}

func TestClaimAnswers204AfterWait(t *testing.T) {
	e := newEnv(t, nil, agentapi.WithMaxWait(200*time.Millisecond))
	start := time.Now()
	if _, ok := e.claim(tppToken, "50ms"); ok {
		t.Fatal("claimed a task that does not exist")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("answered after %s, before the wait", d)
	}
	// The wait is capped.
	start = time.Now()
	if _, ok := e.claim(tppToken, "10m"); ok {
		t.Fatal("claimed a task that does not exist")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("wait not capped: %s", d)
	}
	if status, body := e.do("POST", "/agent/v1/tasks/claim?wait=soon", tppToken, nil); status != http.StatusBadRequest || !strings.Contains(body2s(body), "error") {
		t.Fatalf("bad wait: %d %s", status, body)
	}
}

func body2s(b []byte) string { return string(b) }

func TestAnotherBackendsTasksAreInvisible(t *testing.T) {
	e := newEnv(t, nil)
	jobstest.Run(t, e.st, nil, "tpp", "c1", "generate_dataset")
	if _, ok := e.claim(emisToken, "0s"); ok {
		t.Fatal("emis claimed tpp's task")
	}
	task := e.mustClaim(tppToken)
	if status, _, body := e.update(emisToken, task.ID, map[string]any{"attempt": 1, "seq": 1, "stage": "executing"}); status != http.StatusNotFound {
		t.Fatalf("emis updating tpp's task: %d %s", status, body)
	}
	if status, body := e.do("GET", "/agent/v1/tasks/"+task.ID+"/code", emisToken, nil); status != http.StatusNotFound {
		t.Fatalf("emis fetching tpp's code: %d %s", status, body)
	}
	if status, body := e.do("GET", "/agent/v1/tasks/"+task.ID+"/code", tppToken, nil); status != http.StatusOK || string(body) != tarballFor+testSHA {
		t.Fatalf("code: %d %q", status, body)
	}
}

func TestUnknownTokensAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	for name, token := range map[string]string{"wrong": "nope", "missing": "", "hash instead of token": agentapi.HashToken(tppToken)} {
		status, body := e.do("POST", "/agent/v1/tasks/claim?wait=0s", token, nil)
		var msg map[string]string
		if status != http.StatusUnauthorized || json.Unmarshal(body, &msg) != nil || msg["error"] == "" {
			t.Errorf("%s token: %d %s", name, status, body)
		}
	}
	if _, err := agentapi.New(nil, []agentapi.Backend{{Name: "x", TokenSHA256: "plain-token"}}, nil); err == nil {
		t.Fatal("a token that is not a SHA-256 was accepted")
	}
}

func TestUpdatesAreIdempotentAndOrdered(t *testing.T) {
	e := newEnv(t, nil)
	_, js := jobstest.Run(t, e.st, nil, "tpp", "c1", "prepare")
	task := e.mustClaim(tppToken)
	for _, u := range []map[string]any{
		{"attempt": 1, "seq": 1, "stage": "executing"},
		{"attempt": 1, "seq": 3, "stage": "finalizing", "message": "matching outputs"},
		{"attempt": 1, "seq": 3, "stage": "finalizing", "message": "matching outputs"}, // duplicate
		{"attempt": 1, "seq": 2, "stage": "executing"},                                 // arrived late
	} {
		if status, a, body := e.update(tppToken, task.ID, u); status != http.StatusOK || a.Cancel {
			t.Fatalf("update %v: %d %s", u, status, body)
		}
	}
	e.wantJob(js[0].ID, jobs.Finalizing)
	states := e.auditKinds()["job.state"]
	status, _, body := e.update(tppToken, task.ID, map[string]any{"attempt": 2, "seq": 4, "stage": "executing"})
	if status != http.StatusConflict || !strings.Contains(body, "attempt") {
		t.Fatalf("stale attempt: %d %s", status, body)
	}
	done := map[string]any{"attempt": 1, "seq": 4, "status_code": "succeeded", "exit_code": 0,
		"results": outputs.Report{Files: []outputs.FileReport{{Path: "output/generate_dataset.csv", Level: "moderately_sensitive", Size: 10, SHA256: strings.Repeat("ab", 32)}}}}
	for range 2 {
		if status, _, body := e.update(tppToken, task.ID, done); status != http.StatusOK {
			t.Fatalf("finish: %d %s", status, body)
		}
	}
	j := e.wantJob(js[0].ID, jobs.Succeeded)
	if j.Outputs == nil || len(j.Outputs.Files) != 1 {
		t.Fatalf("outputs %+v", j.Outputs)
	}
	// Finalizing and succeeded: two entries, not three.
	if got := e.auditKinds()["job.state"]; got != states+1+1 {
		t.Fatalf("job.state entries: %d before, %d after", states, got)
	}
	// Its dependant was queued in the same transaction.
	if next := e.mustClaim(tppToken); next.Job.ID != js[1].ID {
		t.Fatalf("next task is %s", next.Job.Action)
	}
}

func TestLeaseExpiryReclaimsThenFails(t *testing.T) {
	e := newEnv(t, []jobs.Option{jobs.WithLease(time.Minute), jobs.WithMaxAttempts(3)})
	_, js := jobstest.Run(t, e.st, nil, "tpp", "c1", "model")
	ctx := context.Background()
	for attempt := 1; attempt <= 3; attempt++ {
		task := e.mustClaim(tppToken)
		if task.Attempt != attempt || task.Job.ID != js[0].ID {
			t.Fatalf("attempt %d: claimed %s attempt %d", attempt, task.Job.Action, task.Attempt)
		}
		if n, err := e.st.ExpireLeases(ctx, e.clock.Add(61*time.Second)); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		status, _, body := e.update(tppToken, task.ID, map[string]any{"attempt": attempt, "seq": 1, "stage": "executing"})
		if attempt < 3 && status != http.StatusConflict {
			t.Fatalf("update from a lost attempt: %d %s", status, body)
		}
	}
	e.wantJob(js[0].ID, jobs.InternalError)
	// The last attempt's agent, back from the dead, is told to stop.
	last := map[string]any{"attempt": 3, "seq": 2, "stage": "executing"}
	if status, a, body := e.update(tppToken, "run-"+js[0].ID, last); status != http.StatusOK || !a.Cancel {
		t.Fatalf("update from the abandoned attempt: %d %s", status, body)
	}
	e.wantJob(js[1].ID, jobs.DependencyFailed)
	e.wantJob(js[2].ID, jobs.DependencyFailed)
	if _, ok := e.claim(tppToken, "0s"); ok {
		t.Fatal("claimed after the last attempt")
	}
	if k := e.auditKinds(); k["run.finished"] != 1 {
		t.Fatalf("audit %v", k)
	}
}

func TestFailureCascadesAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	r, js := jobstest.Run(t, e.st, nil, "tpp", "c1", "model")
	task := e.mustClaim(tppToken)
	if status, _, body := e.update(tppToken, task.ID, map[string]any{"attempt": 1, "seq": 1, "status_code": "nonzero_exit", "exit_code": 1}); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	e.wantJob(js[1].ID, jobs.DependencyFailed)
	e.wantJob(js[2].ID, jobs.DependencyFailed)
	req, err := e.st.Request(context.Background(), r.ID)
	if err != nil || req.Status != jobs.RequestFailed {
		t.Fatalf("request %+v %v", req, err)
	}
	want := map[string]int{"run.requested": 1, "job.created": 3, "job.state": 1 + 1 + 1 + 2, "run.finished": 1}
	got := e.auditKinds()
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("audit %s = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

func TestCancelReachesTheAgent(t *testing.T) {
	e := newEnv(t, nil)
	r, js := jobstest.Run(t, e.st, nil, "tpp", "c1", "prepare")
	task := e.mustClaim(tppToken)
	if _, err := e.st.Cancel(context.Background(), "ana", []string{r.ID}, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.wantJob(js[1].ID, jobs.CancelledByUser)
	status, a, body := e.update(tppToken, task.ID, map[string]any{"attempt": 1, "seq": 1, "stage": "executing"})
	if status != http.StatusOK || !a.Cancel {
		t.Fatalf("update after cancel: %d %s", status, body)
	}
	e.update(tppToken, task.ID, map[string]any{"attempt": 1, "seq": 2, "status_code": "cancelled_by_user"})
	e.wantJob(js[0].ID, jobs.CancelledByUser)
}

func TestHostileUpdates(t *testing.T) {
	e := newEnv(t, nil, agentapi.WithMaxBody(4096))
	jobstest.Run(t, e.st, nil, "tpp", "c1", "generate_dataset")
	task := e.mustClaim(tppToken)
	file := func(p string) string {
		return `{"attempt":1,"seq":9,"status_code":"succeeded","exit_code":0,"results":{"moderately_sensitive":[{"path":"` + p +
			`","level":"moderately_sensitive","size":1,"sha256":"` + strings.Repeat("0", 64) + `"}],"highly_sensitive_count":0,"minimally_sensitive_count":0}}`
	}
	cases := map[string]struct {
		body string
		want int
	}{
		"not JSON":              {`{"attempt":`, http.StatusBadRequest},
		"unknown field":         {`{"attempt":1,"seq":1,"stage":"executing","logs":"secret"}`, http.StatusBadRequest},
		"two objects":           {`{"attempt":1,"seq":1} {"attempt":1,"seq":2}`, http.StatusBadRequest},
		"too large":             {`{"attempt":1,"seq":1,"message":"` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge},
		"unknown stage":         {`{"attempt":1,"seq":1,"stage":"rm -rf"}`, http.StatusUnprocessableEntity},
		"unknown status code":   {`{"attempt":1,"seq":1,"status_code":"pwned"}`, http.StatusUnprocessableEntity},
		"zero seq":              {`{"attempt":1,"seq":0,"stage":"executing"}`, http.StatusUnprocessableEntity},
		"absurd exit code":      {`{"attempt":1,"seq":1,"status_code":"nonzero_exit","exit_code":99999}`, http.StatusUnprocessableEntity},
		"path escapes":          {file("../etc/passwd"), http.StatusUnprocessableEntity},
		"absolute path":         {file("/etc/passwd"), http.StatusUnprocessableEntity},
		"unclean path":          {file("output/./x.csv"), http.StatusUnprocessableEntity},
		"backslash path":        {file(`output\\x.csv`), http.StatusUnprocessableEntity},
		"succeeded with exit 1": {`{"attempt":1,"seq":1,"status_code":"succeeded","exit_code":1}`, http.StatusUnprocessableEntity},
		"done without outcome":  {`{"attempt":1,"seq":1,"stage":"done","status_code":"executing"}`, http.StatusUnprocessableEntity},
		"stage and code differ": {`{"attempt":1,"seq":1,"stage":"preparing","status_code":"executing"}`, http.StatusUnprocessableEntity},
		"results mid-run":       {`{"attempt":1,"seq":1,"stage":"executing","results":{"moderately_sensitive":[]}}`, http.StatusUnprocessableEntity},
	}
	for name, tc := range cases {
		status, body := e.do("POST", "/agent/v1/tasks/"+task.ID+"/update", tppToken, tc.body)
		var msg map[string]string
		if status != tc.want || json.Unmarshal(body, &msg) != nil || msg["error"] == "" {
			t.Errorf("%s: %d %s, want %d with an error", name, status, body, tc.want)
		}
	}
	if status, _, body := e.update(tppToken, task.ID, file("output/x.csv")); status != http.StatusOK {
		t.Fatalf("a good update after hostile ones: %d %s", status, body)
	}
	if status, body := e.do("GET", "/agent/v1/nothing", tppToken, nil); status != http.StatusNotFound {
		t.Fatalf("unknown path: %d %s", status, body)
	}
}

// The agent sends every field, stage and status code together, and "done"
// with the outcome.
func TestTheAgentsUpdateShape(t *testing.T) {
	e := newEnv(t, nil)
	_, js := jobstest.Run(t, e.st, nil, "tpp", "c1", "generate_dataset")
	task := e.mustClaim(tppToken)
	sha := strings.Repeat("0", 64)
	for i, body := range []string{
		`{"attempt":1,"seq":1,"stage":"preparing","status_code":"preparing","message":"preparing the workspace","exit_code":null,"results":null}`,
		`{"attempt":1,"seq":2,"stage":"executing","status_code":"executing","message":"the job is running","exit_code":null,"results":null}`,
		`{"attempt":1,"seq":3,"stage":"finalizing","status_code":"finalizing","message":"checking the job's outputs","exit_code":0,"results":null}`,
		`{"attempt":1,"seq":4,"stage":"done","status_code":"succeeded","message":"","exit_code":0,"results":{"moderately_sensitive":[{"path":"output/generate_dataset.csv","level":"moderately_sensitive","size":3,"sha256":"` + sha + `"}],"highly_sensitive_count":0,"minimally_sensitive_count":0}}`,
	} {
		if status, _, got := e.update(tppToken, task.ID, body); status != http.StatusOK {
			t.Fatalf("update %d: %d %s", i+1, status, got)
		}
		if i == 2 {
			e.wantJob(js[0].ID, jobs.Finalizing)
		}
	}
	j := e.wantJob(js[0].ID, jobs.Succeeded)
	if j.ExitCode == nil || *j.ExitCode != 0 || j.Outputs.Files[0].SHA256 != sha {
		t.Fatalf("job %+v", j)
	}
}
