package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// now is the pages' clock in the tests.
var now = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// fakeSource is a Source of plain values. Events holds the log oldest
// first; Events answers as the bot's source does, newest first.
type fakeSource struct {
	runs     []Run
	releases []Release
	events   []Event
	run      map[string]RunDetail
	release  map[string]ReleaseDetail
	err      error // every method fails with it
}

func (f fakeSource) RecentRuns(_ context.Context, limit int) ([]Run, error) {
	return f.runs[:min(limit, len(f.runs))], f.err
}

func (f fakeSource) RecentReleases(_ context.Context, limit int) ([]Release, error) {
	return f.releases[:min(limit, len(f.releases))], f.err
}

func (f fakeSource) Events(_ context.Context, q EventQuery) (EventPage, error) {
	if f.err != nil {
		return EventPage{}, f.err
	}
	var page EventPage
	for i := len(f.events) - 1; i >= 0; i-- {
		e := f.events[i]
		if q.Before > 0 && e.Seq >= q.Before || q.Repo != "" && e.Repo != q.Repo || q.Subject != "" && e.Subject != q.Subject {
			continue
		}
		if len(page.Events) == q.Limit {
			page.Next = page.Events[len(page.Events)-1].Seq
			break
		}
		page.Events = append(page.Events, e)
	}
	return page, nil
}

func (f fakeSource) Run(_ context.Context, id string) (RunDetail, error) {
	if f.err != nil {
		return RunDetail{}, f.err
	}
	d, ok := f.run[id]
	if !ok {
		return d, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return d, nil
}

func (f fakeSource) Release(_ context.Context, id string) (ReleaseDetail, error) {
	if f.err != nil {
		return ReleaseDetail{}, f.err
	}
	d, ok := f.release[id]
	if !ok {
		return d, fmt.Errorf("release %s: %w", id, ErrNotFound)
	}
	return d, nil
}

// untouchable is a Source that fails the test when it is read.
type untouchable struct{ t *testing.T }

func (u untouchable) RecentRuns(context.Context, int) ([]Run, error) {
	u.t.Error("RecentRuns read")
	return nil, nil
}
func (u untouchable) RecentReleases(context.Context, int) ([]Release, error) {
	u.t.Error("RecentReleases read")
	return nil, nil
}
func (u untouchable) Events(context.Context, EventQuery) (EventPage, error) {
	u.t.Error("Events read")
	return EventPage{}, nil
}
func (u untouchable) Run(context.Context, string) (RunDetail, error) {
	u.t.Error("Run read")
	return RunDetail{}, nil
}
func (u untouchable) Release(context.Context, string) (ReleaseDetail, error) {
	u.t.Error("Release read")
	return ReleaseDetail{}, nil
}

func intp(n int) *int { return &n }

// studyRun is a run of octo-org/study that failed: one job succeeded, one
// failed, one was reused.
func studyRun() RunDetail {
	return RunDetail{
		Run: Run{ID: "a1b2c3d4e5f6a1b2c3d4e5f6", Number: 7, Repo: "octo-org/study", PR: 12,
			HeadSHA: "0123456789abcdef0123456789abcdef01234567", Backend: "tpp", Requester: "ana", Status: "failed",
			CreatedAt: now.Add(-90 * time.Minute), FinishedAt: now.Add(-60*time.Minute - 15*time.Second), Jobs: 2, JobsFailed: 1},
		Actions:    []string{"generate_dataset", "model"},
		ApprovedBy: "max",
		Plan: []PlanStep{
			{Action: "prepare", Decision: "reuse", Reason: "succeeded on this commit already", JobID: "old-job"},
			{Action: "generate_dataset", Decision: "run", Reason: "requested", JobID: "job-1"},
			{Action: "model", Decision: "run", Reason: "requested", JobID: "job-2"},
		},
		Jobs: []Job{
			{ID: "job-1", Action: "generate_dataset", State: "succeeded", Status: "succeeded", Message: "Completed successfully",
				CreatedAt: now.Add(-90 * time.Minute), StartedAt: now.Add(-89 * time.Minute), CompletedAt: now.Add(-80*time.Minute - 30*time.Second),
				ExitCode: intp(0),
				Outputs: []OutputFile{
					{Path: "output/summary.csv", Size: 1536},
					{Path: "output/small_counts.csv", Size: 200, Refused: "a count below 8"},
				},
				HighlySensitive: 2},
			{ID: "job-2", Action: "model", State: "failed", Status: "nonzero_exit", Message: "Job exited with an error",
				CreatedAt: now.Add(-90 * time.Minute), StartedAt: now.Add(-80 * time.Minute), CompletedAt: now.Add(-61 * time.Minute),
				ExitCode: intp(3), HighlySensitive: 1},
		},
		Releases: []Release{{ID: "rel-1", Number: 2, Repo: "octo-org/study", PR: 12, State: "in_review", Requester: "ana",
			Backend: "tpp", Files: 1, CreatedAt: now.Add(-50 * time.Minute)}},
	}
}

// studyRelease is a release of octo-org/study in review.
func studyRelease() ReleaseDetail {
	return ReleaseDetail{
		Release: Release{ID: "rel-1", Number: 2, Repo: "octo-org/study", PR: 12, ReleasePR: 13, Requester: "ana",
			Backend: "tpp", State: "in_review", Revision: 2, Files: 1, CreatedAt: now.Add(-50 * time.Minute)},
		ManifestCommit: "fedcba9876543210fedcba9876543210fedcba98",
		Files: []ReleaseFile{
			{Path: "output/summary.csv", Size: 1536, SHA256: strings.Repeat("ab", 32), Type: "csv", Rows: intp(120), Columns: intp(8),
				Findings: []Finding{{Check: "small_numbers", Message: "column n has 3 values below 8"}}},
			{Path: "output/figure.png", Size: 20480, SHA256: strings.Repeat("cd", 32), Type: "png", Received: true},
		},
		Counted: []string{"ben"},
		Ignored: map[string]string{"ana": "the requester's own approval never counts", "carl": "approved an older commit"},
		Runs:    []Run{studyRun().Run},
		History: []Event{
			{Seq: 40, At: now.Add(-50 * time.Minute), Kind: "release.requested", Actor: "ana", Repo: "octo-org/study", Subject: "rel-1",
				Data: json.RawMessage(`{"pr":12,"paths":["output/summary.csv","output/figure.png"]}`), Hash: "h40"},
			{Seq: 41, At: now.Add(-40 * time.Minute), Kind: "release.review", Actor: "ben", Repo: "octo-org/study", Subject: "rel-1",
				Data: json.RawMessage(`{"revision":2,"state":"approved"}`), Hash: "h41"},
		},
	}
}

// logOf is a log of n entries, seq 1 to n, alternating between two
// repositories.
func logOf(n int) []Event {
	out := make([]Event, n)
	for i := range out {
		seq := int64(i + 1)
		repo := "octo-org/study"
		if seq%2 == 0 {
			repo = "octo-org/other"
		}
		out[i] = Event{Seq: seq, At: now.Add(-time.Duration(n-i) * time.Minute), Kind: "job.state", Actor: "tpp", Repo: repo,
			Subject: fmt.Sprintf("job-%d", seq), Data: json.RawMessage(fmt.Sprintf(`{"request":"run-%d","state":"running"}`, seq)),
			PrevHash: fmt.Sprintf("%064x", seq-1), Hash: fmt.Sprintf("%064x", seq), Link: fmt.Sprintf("/runs/run-%d", seq)}
	}
	return out
}

// study is a source with the study's run and release, and a short log.
func study() fakeSource {
	r, rel := studyRun(), studyRelease()
	return fakeSource{
		runs:     []Run{r.Run},
		releases: []Release{rel.Release},
		events:   logOf(3),
		run:      map[string]RunDetail{r.ID: r},
		release:  map[string]ReleaseDetail{rel.ID: rel},
	}
}

func newPages(src Source, opts ...Option) *Pages {
	return New(src, append([]Option{WithClock(func() time.Time { return now }), WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// get sends GET path to h.
func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

// page is GET path's status and body.
func page(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	res := get(t, h, path)
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// shows fails t unless body holds each of want.
func shows(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
}

// hides fails t if body holds any of unwanted.
func hides(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("page shows %q", u)
		}
	}
}
