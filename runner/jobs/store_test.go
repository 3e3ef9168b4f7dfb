package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/store"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

func intp(i int) *int { return &i }

type fixture struct {
	t   *testing.T
	db  *store.DB
	st  *jobs.Store
	now time.Time
}

func newFixture(t *testing.T, opts ...jobs.Option) *fixture {
	db := jobstest.OpenDB(t)
	return &fixture{t: t, db: db, st: jobs.New(db, opts...), now: time.Now()}
}

func (f *fixture) claim(backend string) jobs.Claim {
	f.t.Helper()
	c, ok, err := f.st.Claim(context.Background(), backend, f.now)
	if err != nil || !ok {
		f.f("claim on %s: ok=%v err=%v", backend, ok, err)
	}
	return c
}

func (f *fixture) noClaim(backend string) {
	f.t.Helper()
	if c, ok, err := f.st.Claim(context.Background(), backend, f.now); err != nil || ok {
		f.f("claim on %s: got task %s (job %s), err=%v; want none", backend, c.Task.ID, c.Job.Action, err)
	}
}

func (f *fixture) update(c jobs.Claim, u jobs.Update) jobs.Answer {
	f.t.Helper()
	a, err := f.st.ApplyUpdate(context.Background(), c.Task.Backend, c.Task.ID, u, f.now)
	if err != nil {
		f.f("update task %s: %v", c.Task.ID, err)
	}
	return a
}

func (f *fixture) succeed(c jobs.Claim, seq int64) {
	f.t.Helper()
	f.update(c, jobs.Update{Attempt: c.Task.Attempt, Seq: seq, Status: jobs.Succeeded, ExitCode: intp(0), Results: &outputs.Report{}})
}

func (f *fixture) job(id string) jobs.Job {
	f.t.Helper()
	j, err := f.st.Job(context.Background(), id)
	if err != nil {
		f.f("job %s: %v", id, err)
	}
	return j
}

func (f *fixture) wantJob(id string, state plan.JobState, status jobs.StatusCode) jobs.Job {
	f.t.Helper()
	j := f.job(id)
	if j.State != state || j.Status != status {
		f.f("job %s (%s) is %s/%s (%s), want %s/%s", id, j.Action, j.State, j.Status, j.Message, state, status)
	}
	return j
}

// auditKinds counts the log's entries by kind and checks the chain.
func (f *fixture) auditKinds() map[string]int {
	f.t.Helper()
	ctx := context.Background()
	n, err := audit.Verify(ctx, f.db.R)
	if err != nil {
		f.f("audit.Verify: %v", err)
	}
	es, err := audit.List(ctx, f.db.R, 0, 10000)
	if err != nil {
		f.f("audit.List: %v", err)
	}
	if int64(len(es)) != n {
		f.f("listed %d entries, verified %d", len(es), n)
	}
	out := map[string]int{}
	for _, e := range es {
		out[e.Kind]++
	}
	return out
}

func (f *fixture) f(format string, args ...any) { f.t.Helper(); f.t.Fatalf(format, args...) }

func TestCreateRequestQueuesOnlyReadyJobs(t *testing.T) {
	f := newFixture(t)
	r, js := jobstest.Run(t, f.st, nil, "tpp", "comment-1", "model")
	if r.Number != 1 || r.Status != jobs.RequestRunning || len(js) != 3 {
		t.Fatalf("request #%d %s with %d jobs, want #1 running with 3", r.Number, r.Status, len(js))
	}
	f.wantJob(js[0].ID, plan.Pending, jobs.WaitingOnWorkers)
	f.wantJob(js[1].ID, plan.Pending, jobs.WaitingOnDependencies)
	if js[2].Spec.Image != "r:v2" || len(js[2].Spec.Args) != 1 || js[2].Needs[0] != js[1].ID {
		t.Fatalf("model job: spec %+v needs %v", js[2].Spec, js[2].Needs)
	}
	if js[0].ID != plan.JobID(r.ID, "generate_dataset") {
		t.Fatalf("job ID %s is not plan.JobID", js[0].ID)
	}
	before := f.auditKinds()
	// A redelivered comment makes the same request and nothing else.
	again, js2 := jobstest.Run(t, f.st, nil, "tpp", "comment-1", "model")
	if again.ID != r.ID || again.Number != 1 || len(js2) != 3 {
		t.Fatalf("second create: %+v, %d jobs", again, len(js2))
	}
	after := f.auditKinds()
	want := map[string]int{"run.requested": 1, "job.created": 3, "job.state": 1}
	for k, n := range want {
		if before[k] != n || after[k] != n {
			t.Fatalf("audit %s: %d then %d, want %d", k, before[k], after[k], n)
		}
	}
	c := f.claim("tpp")
	if c.Job.ID != js[0].ID || c.Task.Attempt != 1 || c.Repo != "owner/study" || c.SHA == "" {
		t.Fatalf("claimed %+v", c)
	}
	f.noClaim("tpp")
	f.noClaim("other")
	// A second run in the same PR is #2.
	r2, _ := jobstest.Run(t, f.st, nil, "tpp", "comment-2", "prepare")
	if r2.Number != 2 {
		t.Fatalf("second run is #%d", r2.Number)
	}
}

func TestSuccessQueuesDependantsAndFinishesTheRequest(t *testing.T) {
	f := newFixture(t)
	r, js := jobstest.Run(t, f.st, nil, "tpp", "c", "model")
	for i, want := range js {
		c := f.claim("tpp")
		if c.Job.ID != want.ID {
			t.Fatalf("claim %d got %s, want %s", i, c.Job.Action, want.Action)
		}
		f.noClaim("tpp")
		if a := f.update(c, jobs.Update{Attempt: 1, Seq: 1, Stage: jobs.Executing}); a.Cancel {
			t.Fatal("cancel without a cancellation")
		}
		f.wantJob(c.Job.ID, plan.Running, jobs.Executing)
		f.succeed(c, 2)
		f.wantJob(c.Job.ID, plan.Succeeded, jobs.Succeeded)
	}
	got, err := f.st.Request(context.Background(), r.ID)
	if err != nil || got.Status != jobs.RequestSucceeded || got.FinishedAt.IsZero() {
		t.Fatalf("request %+v, %v", got, err)
	}
	if k := f.auditKinds(); k["run.finished"] != 1 {
		t.Fatalf("audit %v", k)
	}
	latest, err := f.st.LatestJobs(context.Background(), r.Workspace, r.Backend)
	if err != nil || latest["model"].State != plan.Succeeded || latest["model"].Fingerprint.Sum == "" {
		t.Fatalf("latest %+v, %v", latest, err)
	}
	// Everything is reused now: a new run of model creates one job, queued at once.
	_, js2 := jobstest.Run(t, f.st, nil, "tpp", "c2", "model")
	if len(js2) != 1 || js2[0].Status != jobs.WaitingOnWorkers {
		t.Fatalf("rerun: %+v", js2)
	}
	// Another backend has none of those outputs: everything runs there.
	if other, err := f.st.LatestJobs(context.Background(), r.Workspace, "emis"); err != nil || len(other) != 0 {
		t.Fatalf("emis sees tpp's jobs: %+v, %v", other, err)
	}
	if _, js3 := jobstest.Run(t, f.st, nil, "emis", "c3", "model"); len(js3) != 3 {
		t.Fatalf("a run on another backend planned %d jobs, want 3", len(js3))
	}
}

func TestFailureFailsEveryDependantAtOnce(t *testing.T) {
	f := newFixture(t)
	r, js := jobstest.Run(t, f.st, nil, "tpp", "c", "model")
	c := f.claim("tpp")
	f.update(c, jobs.Update{Attempt: 1, Seq: 1, Status: jobs.NonzeroExit, ExitCode: intp(3), Message: "exit 3"})
	j := f.wantJob(js[0].ID, plan.Failed, jobs.NonzeroExit)
	if j.ExitCode == nil || *j.ExitCode != 3 {
		t.Fatalf("exit code %v", j.ExitCode)
	}
	f.wantJob(js[1].ID, plan.Failed, jobs.DependencyFailed)
	f.wantJob(js[2].ID, plan.Failed, jobs.DependencyFailed)
	f.noClaim("tpp")
	got, _ := f.st.Request(context.Background(), r.ID)
	if got.Status != jobs.RequestFailed {
		t.Fatalf("request is %s", got.Status)
	}
	// A job planned later that waits on a failed job fails at once too.
	if k := f.auditKinds(); k["run.finished"] != 1 || k["job.state"] != 5 {
		t.Fatalf("audit %v", k)
	}
}

func TestWaitingOnAnotherRequestsJob(t *testing.T) {
	f := newFixture(t)
	_, js := jobstest.Run(t, f.st, nil, "tpp", "c1", "generate_dataset")
	// generate_dataset is pending: a second run waits on it instead of running it again.
	_, js2 := jobstest.Run(t, f.st, nil, "tpp", "c2", "prepare")
	if len(js2) != 1 || len(js2[0].Needs) != 1 || js2[0].Needs[0] != js[0].ID {
		t.Fatalf("second run jobs %+v", js2)
	}
	f.wantJob(js2[0].ID, plan.Pending, jobs.WaitingOnDependencies)
	c := f.claim("tpp")
	f.succeed(c, 1)
	f.wantJob(js2[0].ID, plan.Pending, jobs.WaitingOnWorkers)
	if c2 := f.claim("tpp"); c2.Job.ID != js2[0].ID {
		t.Fatalf("claimed %s", c2.Job.Action)
	}
}

func TestUpdatesAreIdempotent(t *testing.T) {
	f := newFixture(t)
	_, js := jobstest.Run(t, f.st, nil, "tpp", "c", "generate_dataset")
	c := f.claim("tpp")
	f.update(c, jobs.Update{Attempt: 1, Seq: 2, Stage: jobs.Finalizing})
	n := f.auditKinds()["job.state"]
	// The same update again, and an older one arriving late: nothing changes.
	f.update(c, jobs.Update{Attempt: 1, Seq: 2, Stage: jobs.Finalizing})
	f.update(c, jobs.Update{Attempt: 1, Seq: 1, Stage: jobs.Executing})
	f.wantJob(js[0].ID, plan.Running, jobs.Finalizing)
	if got := f.auditKinds()["job.state"]; got != n {
		t.Fatalf("job.state entries %d -> %d", n, got)
	}
	_, err := f.st.ApplyUpdate(context.Background(), "tpp", c.Task.ID, jobs.Update{Attempt: 2, Seq: 3, Stage: jobs.Executing}, f.now)
	if !errors.Is(err, jobs.ErrStaleAttempt) {
		t.Fatalf("stale attempt: %v", err)
	}
	_, err = f.st.ApplyUpdate(context.Background(), "other", c.Task.ID, jobs.Update{Attempt: 1, Seq: 3, Stage: jobs.Executing}, f.now)
	if !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("other backend: %v", err)
	}
	_, err = f.st.ApplyUpdate(context.Background(), "tpp", c.Task.ID, jobs.Update{Attempt: 1, Seq: 3, Status: jobs.Succeeded, ExitCode: intp(1)}, f.now)
	if !errors.Is(err, jobs.ErrIllegal) {
		t.Fatalf("inconsistent outcome: %v", err)
	}
	f.succeed(c, 3)
	f.succeed(c, 3)
	f.update(c, jobs.Update{Attempt: 1, Seq: 4, Status: jobs.NonzeroExit, ExitCode: intp(1)})
	f.wantJob(js[0].ID, plan.Succeeded, jobs.Succeeded)
}

func TestLeaseExpiryRetriesThenFails(t *testing.T) {
	f := newFixture(t, jobs.WithLease(time.Minute), jobs.WithMaxAttempts(3))
	_, js := jobstest.Run(t, f.st, nil, "tpp", "c", "prepare")
	ctx := context.Background()
	for attempt := 1; attempt <= 3; attempt++ {
		c := f.claim("tpp")
		if c.Task.Attempt != attempt || c.Job.ID != js[0].ID {
			t.Fatalf("claim: attempt %d job %s, want attempt %d", c.Task.Attempt, c.Job.Action, attempt)
		}
		// Not expired yet: an update renews the lease.
		f.now = f.now.Add(50 * time.Second)
		f.update(c, jobs.Update{Attempt: attempt, Seq: 1, Stage: jobs.Executing})
		f.now = f.now.Add(50 * time.Second)
		if n, err := f.st.ExpireLeases(ctx, f.now); err != nil || n != 0 {
			t.Fatalf("renewed lease expired: %d, %v", n, err)
		}
		f.now = f.now.Add(11 * time.Second)
		if n, err := f.st.ExpireLeases(ctx, f.now); err != nil || n != 1 {
			t.Fatalf("expire: %d, %v", n, err)
		}
		if attempt < 3 {
			f.wantJob(js[0].ID, plan.Pending, jobs.WaitingOnWorkers)
			if _, err := f.st.ApplyUpdate(ctx, "tpp", c.Task.ID, jobs.Update{Attempt: attempt, Seq: 2, Stage: jobs.Executing}, f.now); !errors.Is(err, jobs.ErrStaleAttempt) {
				t.Fatalf("update from the lost attempt: %v", err)
			}
		}
	}
	f.wantJob(js[0].ID, plan.Failed, jobs.InternalError)
	f.wantJob(js[1].ID, plan.Failed, jobs.DependencyFailed)
	f.noClaim("tpp")
	f.auditKinds()
}

func TestCancel(t *testing.T) {
	f := newFixture(t)
	r, js := jobstest.Run(t, f.st, nil, "tpp", "c", "model")
	c := f.claim("tpp")
	got, err := f.st.Cancel(context.Background(), "ana", []string{r.ID}, nil, f.now)
	if err != nil || len(got) != 3 {
		t.Fatalf("cancel: %d jobs, %v", len(got), err)
	}
	f.wantJob(js[1].ID, plan.Failed, jobs.CancelledByUser)
	f.wantJob(js[2].ID, plan.Failed, jobs.CancelledByUser)
	j := f.wantJob(js[0].ID, plan.Running, jobs.Preparing)
	if !j.CancelRequested {
		t.Fatal("running job not flagged")
	}
	// A free worker of the agent hears of it at once, through a cancel_job task.
	cancel := f.claim("tpp")
	if cancel.Task.Kind != jobs.CancelJob || cancel.Job.ID != js[0].ID {
		t.Fatalf("claimed %s for job %s, want cancel_job for %s", cancel.Task.Kind, cancel.Job.ID, js[0].ID)
	}
	f.update(cancel, jobs.Update{Attempt: 1, Seq: 1, Status: jobs.Succeeded, Message: "cancel requested"})
	f.wantJob(js[0].ID, plan.Running, jobs.Preparing) // the cancel task does not end the job: its run task does
	if a := f.update(c, jobs.Update{Attempt: 1, Seq: 1, Stage: jobs.Executing}); !a.Cancel {
		t.Fatal("agent not told to cancel")
	}
	f.update(c, jobs.Update{Attempt: 1, Seq: 2, Status: jobs.CancelledByUser})
	f.wantJob(js[0].ID, plan.Failed, jobs.CancelledByUser)
	req, _ := f.st.Request(context.Background(), r.ID)
	if req.Status != jobs.RequestFailed {
		t.Fatalf("request %s", req.Status)
	}
	f.noClaim("tpp")
}

func TestAnUnclaimedCancelTaskEndsWithItsJob(t *testing.T) {
	f := newFixture(t)
	r, js := jobstest.Run(t, f.st, nil, "tpp", "c", "generate_dataset")
	c := f.claim("tpp")
	if _, err := f.st.Cancel(context.Background(), "ana", []string{r.ID}, nil, f.now); err != nil {
		t.Fatal(err)
	}
	f.update(c, jobs.Update{Attempt: 1, Seq: 1, Status: jobs.CancelledByUser})
	f.wantJob(js[0].ID, plan.Failed, jobs.CancelledByUser)
	f.noClaim("tpp") // nothing left to cancel
}

func TestCancelOneAction(t *testing.T) {
	f := newFixture(t)
	r, js := jobstest.Run(t, f.st, nil, "tpp", "c", "model")
	got, err := f.st.Cancel(context.Background(), "ana", []string{r.ID}, []string{"prepare"}, f.now)
	if err != nil || len(got) != 1 {
		t.Fatalf("cancel: %d jobs, %v", len(got), err)
	}
	f.wantJob(js[0].ID, plan.Pending, jobs.WaitingOnWorkers)
	f.wantJob(js[1].ID, plan.Failed, jobs.CancelledByUser)
	f.wantJob(js[2].ID, plan.Failed, jobs.DependencyFailed)
}

func TestTimeOut(t *testing.T) {
	f := newFixture(t, jobs.WithJobTimeout(time.Hour), jobs.WithLease(2*time.Hour))
	_, js := jobstest.Run(t, f.st, nil, "tpp", "c", "prepare")
	c := f.claim("tpp")
	ctx := context.Background()
	if n, _ := f.st.TimeOut(ctx, f.now.Add(59*time.Minute)); n != 0 {
		t.Fatalf("timed out %d early", n)
	}
	if n, err := f.st.TimeOut(ctx, f.now.Add(61*time.Minute)); err != nil || n != 1 {
		t.Fatalf("timed out %d, %v", n, err)
	}
	f.wantJob(js[0].ID, plan.Failed, jobs.TimedOut)
	f.wantJob(js[1].ID, plan.Failed, jobs.DependencyFailed)
	if a := f.update(c, jobs.Update{Attempt: 1, Seq: 1, Stage: jobs.Executing}); !a.Cancel {
		t.Fatal("agent not told to stop")
	}
	f.wantJob(js[0].ID, plan.Failed, jobs.TimedOut)
	if k := f.claim("tpp"); k.Task.Kind != jobs.CancelJob || k.Job.ID != js[0].ID {
		t.Fatalf("after a timeout the agent got %s for %s, want cancel_job for %s", k.Task.Kind, k.Job.ID, js[0].ID)
	}
	f.auditKinds()
}

func TestDecisionsAreLogged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := jobs.Decision{Repo: "owner/study", PR: 1, HeadSHA: "abc", Actor: "eve", Actions: []string{"all"}, Reason: "fork"}
	if err := errors.Join(f.st.Refuse(ctx, d, f.now), f.st.NothingToRun(ctx, d, f.now)); err != nil {
		t.Fatal(err)
	}
	k := f.auditKinds()
	if k["run.refused"] != 1 || k["run.nothing_to_do"] != 1 {
		t.Fatalf("audit %v", k)
	}
}

// heldRequest is a request for model by eve, who may not run.
func (f *fixture) heldRequest(trigger, sha string) jobs.Request {
	f.t.Helper()
	r, err := f.st.HoldRequest(context.Background(), jobs.Request{
		ID: jobs.RequestID("owner/study", 1, trigger), Repo: "owner/study", PR: 1, InstallationID: 7,
		Workspace: jobs.Workspace("owner/study", "study"), HeadSHA: sha, Backend: "tpp", Requester: "eve",
		Actions: []string{"model"},
	}, "eve has read permission; run needs write", f.now)
	if err != nil {
		f.f("hold: %v", err)
	}
	return r
}

func TestHeldRequestRunsOnlyOnceApproved(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.heldRequest("c1", "sha1")
	if r.Status != jobs.RequestHeld || r.Number != 1 {
		t.Fatalf("held request is #%d %s", r.Number, r.Status)
	}
	if stored, _ := f.st.Request(ctx, r.ID); stored.HoldReason != "eve has read permission; run needs write" {
		t.Fatalf("hold reason %q", stored.HoldReason)
	}
	if again := f.heldRequest("c1", "sha1"); again.ID != r.ID || again.Number != 1 {
		t.Fatalf("holding twice made #%d", again.Number)
	}
	f.noClaim("tpp")
	p, err := plan.Make(plan.Request{Pipeline: jobstest.Chain(), Actions: r.Actions, Files: jobstest.Files()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.st.ApproveRequest(ctx, r.ID, "mia", p, nil, jobstest.Chain(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != jobs.RequestRunning || got.ApprovedBy != "mia" || len(got.Plan) != 3 || got.Plan[2].JobID == "" {
		t.Fatalf("approved request %+v", got)
	}
	if c := f.claim("tpp"); c.Job.Action != "generate_dataset" || c.InstallationID != 7 {
		t.Fatalf("claimed %s of installation %d", c.Job.Action, c.InstallationID)
	}
	if _, err := f.st.ApproveRequest(ctx, r.ID, "mia", p, nil, jobstest.Chain(), f.now); !errors.Is(err, jobs.ErrNotHeld) {
		t.Fatalf("approving twice: %v", err)
	}
	if k := f.auditKinds(); k["run.held"] != 1 || k["run.approved"] != 1 || k["job.created"] != 3 {
		t.Fatalf("audit %v", k)
	}
}

func TestPushMakesHeldRequestsStale(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.heldRequest("c1", "sha1")
	current := f.heldRequest("c2", "sha2")
	stale, err := f.st.ExpireHeld(ctx, "owner/study", 1, "sha2", f.now)
	if err != nil || len(stale) != 1 || stale[0].ID != old.ID {
		t.Fatalf("stale %+v, %v", stale, err)
	}
	if r, _ := f.st.Request(ctx, old.ID); r.Status != jobs.RequestStale {
		t.Fatalf("old request is %s", r.Status)
	}
	if r, _ := f.st.Request(ctx, current.ID); r.Status != jobs.RequestHeld {
		t.Fatalf("current request is %s", r.Status)
	}
	if _, err := f.st.ApproveRequest(ctx, old.ID, "mia", plan.Plan{}, nil, jobstest.Chain(), f.now); !errors.Is(err, jobs.ErrNotHeld) {
		t.Fatalf("approving a stale request: %v", err)
	}
	withdrawn, err := f.st.Withdraw(ctx, "eve", []string{old.ID, current.ID}, f.now)
	if err != nil || len(withdrawn) != 1 || withdrawn[0].ID != current.ID {
		t.Fatalf("withdrawn %+v, %v", withdrawn, err)
	}
	if k := f.auditKinds(); k["run.stale"] != 1 || k["run.withdrawn"] != 1 {
		t.Fatalf("audit %v", k)
	}
}

func TestChangesWaitInTheOutboxUntilReported(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, _ := jobstest.Run(t, f.st, nil, "tpp", "c", "generate_dataset")
	select {
	case <-f.st.Changed():
	default:
		t.Fatal("creating a request did not signal a change")
	}
	un, err := f.st.Unreported(ctx, 10)
	if err != nil || len(un) != 1 || un[0].ID != r.ID {
		t.Fatalf("unreported %+v, %v", un, err)
	}
	prs, err := f.st.UnreportedPRs(ctx, 10)
	if err != nil || len(prs) != 1 || prs[0].PR != 1 {
		t.Fatalf("unreported pull requests %+v, %v", prs, err)
	}
	if err := f.st.MarkReported(ctx, r.ID, un[0].Version, f.now); err != nil {
		t.Fatal(err)
	}
	if err := f.st.MarkPRReported(ctx, "owner/study", 1, prs[0].Version, f.now); err != nil {
		t.Fatal(err)
	}
	if un, _ := f.st.Unreported(ctx, 10); len(un) != 0 {
		t.Fatalf("still unreported after marking: %+v", un)
	}
	f.claim("tpp") // the job moves: GitHub is behind again
	if un, _ := f.st.Unreported(ctx, 10); len(un) != 1 || un[0].Version <= prs[0].Version-1 {
		t.Fatalf("a claim left nothing to report: %+v", un)
	}
	if prs, _ := f.st.UnreportedPRs(ctx, 10); len(prs) != 1 {
		t.Fatalf("a claim left the status comment current: %+v", prs)
	}
	// An older version reported late never hides a newer one.
	if err := f.st.MarkReported(ctx, r.ID, 1, f.now); err != nil {
		t.Fatal(err)
	}
	if un, _ := f.st.Unreported(ctx, 10); len(un) != 1 {
		t.Fatal("a late report of an old version hid the new one")
	}
}

func TestSilentAgentOfACancelledJob(t *testing.T) {
	f := newFixture(t, jobs.WithLease(time.Minute))
	r, js := jobstest.Run(t, f.st, nil, "tpp", "c", "generate_dataset")
	f.claim("tpp")
	if _, err := f.st.Cancel(context.Background(), "ana", []string{r.ID}, nil, f.now); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(2 * time.Minute)
	if n, err := f.st.ExpireLeases(context.Background(), f.now); err != nil || n != 1 {
		t.Fatalf("expire: %d, %v", n, err)
	}
	f.wantJob(js[0].ID, plan.Failed, jobs.CancelledByUser)
	f.noClaim("tpp")
}

func TestRequestsForRendering(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r1, _ := jobstest.Run(t, f.st, nil, "tpp", "c1", "generate_dataset")
	r2, _ := jobstest.Run(t, f.st, nil, "tpp", "c2", "model")
	if err := f.st.SetCheckRun(ctx, r2.ID, 42); err != nil {
		t.Fatal(err)
	}
	if err := f.st.SetCheckRun(ctx, "nope", 1); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	rs, err := f.st.Requests(ctx, "owner/study", 1)
	if err != nil || len(rs) != 2 || rs[0].ID != r2.ID || rs[1].ID != r1.ID || rs[0].CheckRunID != 42 || rs[0].Number != 2 {
		t.Fatalf("requests %+v, %v", rs, err)
	}
	if rs[0].Actions[0] != "model" || rs[0].HeadSHA == "" || rs[0].Requester != "ana" || rs[0].CreatedAt.IsZero() {
		t.Fatalf("request %+v", rs[0])
	}
	if _, err := f.st.Request(ctx, "nope"); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	// model's request waits on the first request's generate_dataset.
	js, err := f.st.Jobs(ctx, r2.ID)
	if err != nil || len(js) != 2 || js[0].Action != "prepare" || js[1].Action != "model" {
		t.Fatalf("jobs %+v, %v", js, err)
	}
}

func TestJobCountsCountEachRequestsJobs(t *testing.T) {
	f := newFixture(t)
	r1, js := jobstest.Run(t, f.st, nil, "tpp", "c1", "model")
	c := f.claim("tpp")
	f.update(c, jobs.Update{Attempt: 1, Seq: 1, Status: jobs.NonzeroExit, ExitCode: intp(1)})
	r2, _ := jobstest.Run(t, f.st, nil, "emis", "c2", "generate_dataset")
	got, err := f.st.JobCounts(context.Background(), []string{r1.ID, r2.ID, "nope"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]jobs.JobCount{r1.ID: {Jobs: len(js), Failed: 3}, r2.ID: {Jobs: 1}}
	if len(got) != len(want) || got[r1.ID] != want[r1.ID] || got[r2.ID] != want[r2.ID] {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
}
