package agentapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
)

// Agents claiming at once each get a different task, and every task is
// handed out exactly once.
func TestConcurrentClaimsNeverShareATask(t *testing.T) {
	e := newEnv(t, nil)
	const n = 8
	results := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task, ok := e.claim(tppToken, "10s")
			if !ok {
				results <- ""
				return
			}
			results <- task.ID
		}()
	}
	// Each request in its own workspace, so that none waits on another's job.
	for i := range n {
		e.queueInWorkspace(t, fmt.Sprintf("ws%d", i))
	}
	wg.Wait()
	close(results)
	seen := map[string]bool{}
	for id := range results {
		if id == "" || seen[id] {
			t.Fatalf("task %q claimed twice or not at all (seen %v)", id, seen)
		}
		seen[id] = true
	}
}

func (e *env) queueInWorkspace(t *testing.T, branch string) {
	t.Helper()
	p := jobstest.Chain()
	pl := mustPlan(t, "generate_dataset")
	if _, err := e.st.CreateRequest(context.Background(), jobs.Request{ID: "req-" + branch, Repo: "owner/study", PR: 1,
		Workspace: jobs.Workspace("owner/study", branch), HeadSHA: testSHA, Backend: "tpp", Requester: "ana"}, pl, p, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// The sweeper releases a task whose agent went silent and wakes claimers.
func TestSweepRequeuesAndWakes(t *testing.T) {
	e := newEnv(t, []jobs.Option{jobs.WithLease(time.Second)})
	_, js := jobstest.Run(t, e.st, nil, "tpp", "c1", "generate_dataset")
	first := e.mustClaim(tppToken)
	woken := e.st.Notifier().Wait("tpp")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.st.Sweep(ctx, 10*time.Millisecond, func() time.Time { return time.Now().Add(time.Hour) }, func(err error) { t.Error(err) })
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("sweeper did not release the task")
	}
	cancel()
	second := e.mustClaim(tppToken)
	if second.ID != first.ID || second.Attempt != 2 || second.Job.ID != js[0].ID {
		t.Fatalf("re-claimed %+v", second)
	}
}

func TestCodeOnlyForAClaimedTask(t *testing.T) {
	e := newEnv(t, nil)
	_, js := jobstest.Run(t, e.st, nil, "tpp", "c1", "prepare")
	waiting := "run-" + js[1].ID
	if status, body := e.do("GET", "/agent/v1/tasks/"+waiting+"/code", tppToken, nil); status != http.StatusNotFound {
		t.Fatalf("code of a job not queued yet: %d %s", status, body)
	}
	queued := "run-" + js[0].ID
	if status, body := e.do("GET", "/agent/v1/tasks/"+queued+"/code", tppToken, nil); status != http.StatusConflict {
		t.Fatalf("code of an unclaimed task: %d %s", status, body)
	}
	task := e.mustClaim(tppToken)
	e.update(tppToken, task.ID, map[string]any{"attempt": 1, "seq": 1, "status_code": "internal_error"})
	if status, body := e.do("GET", "/agent/v1/tasks/"+task.ID+"/code", tppToken, nil); status != http.StatusConflict {
		t.Fatalf("code of a finished task: %d %s", status, body)
	}
	if len(e.code.calls) != 0 {
		t.Fatalf("fetched code %v", e.code.calls)
	}
}
