package app

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// fakeRunGitHub is the part of GitHub the reporter and the run service use,
// in memory. Methods not set panic (the embedded interface is nil), so a
// test notices calls it did not expect.
type fakeRunGitHub struct {
	RunGitHub
	mu       sync.Mutex
	nextID   int64
	created  []checks.NewCheckRun
	updates  map[int64][]checks.CheckRunUpdate
	comments map[int64]string
	roles    map[string]string
	pr       PullRequest
}

func newFakeRunGitHub() *fakeRunGitHub {
	return &fakeRunGitHub{nextID: 100, updates: map[int64][]checks.CheckRunUpdate{}, comments: map[int64]string{}, roles: map[string]string{}}
}

func (f *fakeRunGitHub) FindCheckRun(context.Context, checks.Repo, string, string, string) (checks.CheckRunRef, bool, error) {
	return checks.CheckRunRef{}, false, nil
}

func (f *fakeRunGitHub) CreateCheckRun(_ context.Context, _ checks.Repo, run checks.NewCheckRun) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.created = append(f.created, run)
	return f.nextID, nil
}

func (f *fakeRunGitHub) UpdateCheckRun(_ context.Context, _ checks.Repo, id int64, upd checks.CheckRunUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates[id] = append(f.updates[id], upd)
	return nil
}

func (f *fakeRunGitHub) CreateComment(_ context.Context, _ checks.Repo, _ int, body string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.comments[f.nextID] = body
	return f.nextID, nil
}

func (f *fakeRunGitHub) UpdateComment(_ context.Context, _ checks.Repo, id int64, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.comments[id] = body
	return nil
}

func (f *fakeRunGitHub) Permission(_ context.Context, _ checks.Repo, user string) (string, error) {
	return f.roles[user], nil
}

func (f *fakeRunGitHub) PullRequest(context.Context, checks.Repo, int) (PullRequest, error) {
	return f.pr, nil
}

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func intp(i int) *int                    { return &i }
func (f *fakeRunGitHub) count(id int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.updates[id])
}
func (f *fakeRunGitHub) last(id int64) checks.CheckRunUpdate {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.updates[id]
	return u[len(u)-1]
}

// request stores a run of generate_dataset by ana on installation 7.
func request(t *testing.T, st *jobs.Store, trigger string, now time.Time) jobs.Request {
	t.Helper()
	p := jobstest.Chain()
	pl, err := plan.Make(plan.Request{Pipeline: p, Actions: []string{"generate_dataset"}, Files: jobstest.Files()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRequest(context.Background(), jobs.Request{
		ID: jobs.RequestID("owner/study", 1, trigger), Repo: "owner/study", InstallationID: 7, PR: 1,
		Workspace: jobs.Workspace("owner/study", "study"), HeadSHA: strings.Repeat("a", 40), Backend: "tpp",
		Requester: "ana", Actions: []string{"generate_dataset"},
	}, pl, p, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A busy run costs one check-run update per interval, and its end is
// shown at once.
func TestReporterCoalescesUpdates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := jobs.New(jobstest.OpenDB(t))
	gh := newFakeRunGitHub()
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	rep := NewRunReporter(st, gh, func(r jobs.Request) string { return "https://bot/runs/" + r.ID }, WithReportInterval(5*time.Second))
	rep.now = clk.now

	request(t, st, "c1", clk.t)
	rep.pass(ctx)
	if len(gh.created) != 1 || gh.created[0].Name != "fivesafes / run #1 (tpp)" || gh.created[0].DetailsURL == "" ||
		gh.created[0].Status != "queued" || gh.created[0].Output == nil {
		t.Fatalf("created %+v; want the run's check run, queued, with its table", gh.created)
	}
	id := gh.nextID - 1 // the check run; the status comment came after it
	if n := gh.count(id); n != 0 {
		t.Fatalf("%d updates right after the create, want none", n)
	}

	c, ok, err := st.Claim(ctx, "tpp", clk.t)
	if err != nil || !ok {
		t.Fatal(err)
	}
	for seq, stage := range []jobs.StatusCode{jobs.Preparing, jobs.Executing, jobs.Finalizing} {
		clk.advance(time.Second)
		if _, err := st.ApplyUpdate(ctx, "tpp", c.Task.ID, jobs.Update{Attempt: 1, Seq: int64(seq + 1), Stage: stage, Message: string(stage)}, clk.t); err != nil {
			t.Fatal(err)
		}
		if wake := rep.pass(ctx); !wake.After(clk.t) {
			t.Fatalf("the reporter wants to wake at %v, not after now (%v)", wake, clk.t)
		}
	}
	if n := gh.count(id); n != 0 {
		t.Fatalf("%d updates within the interval, want none", n)
	}
	clk.advance(2 * time.Second) // 5s since the last report
	rep.pass(ctx)
	if n := gh.count(id); n != 1 || gh.last(id).Status != "in_progress" || !strings.Contains(gh.last(id).Output.Text, "finalizing") {
		t.Fatalf("after the interval: %d updates, last %s:\n%s", n, gh.last(id).Status, gh.last(id).Output.Text)
	}

	clk.advance(time.Second) // well within the interval: the end is not held back
	if _, err := st.ApplyUpdate(ctx, "tpp", c.Task.ID, jobs.Update{Attempt: 1, Seq: 9, Status: jobs.Succeeded, ExitCode: intp(0),
		Results: &outputs.Report{}}, clk.t); err != nil {
		t.Fatal(err)
	}
	rep.pass(ctx)
	if n, last := gh.count(id), gh.last(id); n != 2 || last.Status != "completed" || last.Conclusion != "success" {
		t.Fatalf("after the end: %d updates, last %s/%s", n, last.Status, last.Conclusion)
	}
	rep.pass(ctx)
	if n := gh.count(id); n != 2 {
		t.Fatalf("%d updates with nothing new, want 2", n)
	}
}

// An approval clicked after a push (whose event the bot has not handled
// yet) finds the head moved, and makes the request stale instead.
func TestApprovalAfterAPushIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := jobs.New(jobstest.OpenDB(t))
	gh := newFakeRunGitHub()
	gh.roles["mia"] = "maintain"
	gh.pr = PullRequest{Number: 1, Open: true, HeadSHA: strings.Repeat("b", 40), HeadRef: "study", HeadRepo: "owner/study", BaseRepo: "owner/study"}
	held, err := st.HoldRequest(ctx, jobs.Request{ID: "r1", Repo: "owner/study", InstallationID: 7, PR: 1, Workspace: "owner/study/study",
		HeadSHA: strings.Repeat("a", 40), Backend: "tpp", Requester: "eve", Actions: []string{"run_all"}}, "eve may not run", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	runs := NewRuns(gh, st, RunPolicy{Permission: "write"}, []string{"tpp"}, "tpp")
	repo := checks.Repo{InstallationID: 7, Owner: "owner", Name: "study"}

	gh.roles["rex"] = "read"
	out, err := runs.Approve(ctx, repo, held.ID, "rex")
	if err != nil || out.Verdict != Held || !strings.Contains(out.Reply, "needs write permission") {
		t.Fatalf("a reader's approval: %+v, %v", out, err)
	}
	out, err = runs.Approve(ctx, repo, held.ID, "mia")
	if err != nil || out.Verdict != Refused || !strings.Contains(out.Reply, "new commits have been pushed") {
		t.Fatalf("approval after a push: %+v, %v", out, err)
	}
	if r, _ := st.Request(ctx, held.ID); r.Status != jobs.RequestStale {
		t.Fatalf("request is %s, want stale", r.Status)
	}
	if out, err := runs.Approve(ctx, checks.Repo{InstallationID: 7, Owner: "other", Name: "repo"}, held.ID, "mia"); err != nil || out.Verdict != Refused {
		t.Fatalf("an approval through another repository's check run: %+v, %v", out, err)
	}
}
