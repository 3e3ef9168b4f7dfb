package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeGitHub is a plain struct standing in for GitHub: files by path, check
// runs with their accumulated annotations, and scripted failures.
type fakeGitHub struct {
	files       map[string]string
	runs        []*fakeRun
	failUpdate  map[int]error // update number (1-based) -> error
	loseCreate  bool          // create the run, then report a failure
	fileErr     error
	updateCount int
}

type fakeRun struct {
	NewCheckRun
	ID          int64
	Status      string
	Conclusion  string
	Title       string
	Summary     string
	Annotations []Annotation
}

func (f *fakeGitHub) FileAt(_ context.Context, _ Repo, _, path string, maxBytes int64) ([]byte, error) {
	if f.fileErr != nil {
		return nil, f.fileErr
	}
	s, ok := f.files[path]
	if !ok {
		return nil, fmt.Errorf("contents %s: %w", path, ErrNotFound)
	}
	if int64(len(s)) > maxBytes {
		return nil, fmt.Errorf("contents %s: %w", path, ErrTooLarge)
	}
	return []byte(s), nil
}

func (f *fakeGitHub) FindCheckRun(_ context.Context, _ Repo, sha, name, ext string) (CheckRunRef, bool, error) {
	for i := len(f.runs) - 1; i >= 0; i-- {
		r := f.runs[i]
		if r.HeadSHA == sha && r.Name == name && r.ExternalID == ext {
			return CheckRunRef{ID: r.ID, Status: r.Status, Conclusion: r.Conclusion}, true, nil
		}
	}
	return CheckRunRef{}, false, nil
}

func (f *fakeGitHub) CreateCheckRun(_ context.Context, _ Repo, run NewCheckRun) (int64, error) {
	r := &fakeRun{NewCheckRun: run, ID: int64(len(f.runs) + 1), Status: run.Status}
	f.runs = append(f.runs, r)
	if f.loseCreate {
		f.loseCreate = false
		return 0, errors.New("502 Bad Gateway")
	}
	return r.ID, nil
}

func (f *fakeGitHub) UpdateCheckRun(_ context.Context, _ Repo, id int64, upd CheckRunUpdate) error {
	f.updateCount++
	if err := f.failUpdate[f.updateCount]; err != nil {
		return err
	}
	r := f.runs[id-1]
	r.Status, r.Conclusion = upd.Status, upd.Conclusion
	if upd.Output != nil {
		r.Title, r.Summary = upd.Output.Title, upd.Output.Summary
		r.Annotations = append(r.Annotations, upd.Output.Annotations...)
	}
	return nil
}

type mapLedger map[string]Progress

func (m mapLedger) Load(_ context.Context, k string) (Progress, bool, error) {
	p, ok := m[k]
	return p, ok, nil
}

func (m mapLedger) Save(_ context.Context, k string, p Progress) error { m[k] = p; return nil }

var testRepo = Repo{InstallationID: 1, Owner: "ana", Name: "study"}

const validYAML = `version: '4.0'
actions:
  generate_dataset:
    run: ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz
    outputs:
      highly_sensitive:
        dataset: output/dataset.csv.gz
`

// manyBadOutputs is a file with n invalid moderately_sensitive outputs.
func manyBadOutputs(n int) string {
	var b strings.Builder
	b.WriteString("version: '4.0'\nactions:\n  a:\n    run: python:v2 a.py\n    outputs:\n      moderately_sensitive:\n")
	for i := range n {
		fmt.Fprintf(&b, "        o%d: output/o%d.pdf\n", i, i)
	}
	return b.String()
}

func newTestService(gh *fakeGitHub) (*Service, mapLedger) {
	l := mapLedger{}
	return NewService(gh, l, WithClock(func() time.Time { return time.Unix(0, 0) })), l
}

func TestCheckValidFileMakesOneSuccessfulRun(t *testing.T) {
	gh := &fakeGitHub{files: map[string]string{"project.yaml": validYAML}}
	s, _ := newTestService(gh)
	req := Request{Repo: testRepo, SHA: "abc"}
	for range 2 { // a redelivery changes nothing
		if err := s.Check(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if len(gh.runs) != 1 {
		t.Fatalf("got %d check runs, want 1", len(gh.runs))
	}
	r := gh.runs[0]
	if r.Name != CheckName || r.Status != "completed" || r.Conclusion != ConclusionSuccess {
		t.Fatalf("run = %+v", r)
	}
	if gh.updateCount != 1 {
		t.Fatalf("updates = %d, want 1", gh.updateCount)
	}
}

func TestCheckBatchesAnnotationsFiftyAtATime(t *testing.T) {
	gh := &fakeGitHub{files: map[string]string{"project.yaml": manyBadOutputs(120)}}
	s, _ := newTestService(gh)
	if err := s.Check(context.Background(), Request{Repo: testRepo, SHA: "abc"}); err != nil {
		t.Fatal(err)
	}
	r := gh.runs[0]
	if r.Conclusion != ConclusionFailure || len(r.Annotations) < 120 {
		t.Fatalf("conclusion %q with %d annotations, want failure with >= 120", r.Conclusion, len(r.Annotations))
	}
	if want := (len(r.Annotations) + 49) / 50; gh.updateCount != want {
		t.Fatalf("updates = %d, want %d", gh.updateCount, want)
	}
}

func TestCheckResumesAfterFailedBatchWithoutRepeatingAnnotations(t *testing.T) {
	gh := &fakeGitHub{
		files:      map[string]string{"project.yaml": manyBadOutputs(120)},
		failUpdate: map[int]error{2: errors.New("502 Bad Gateway")},
	}
	s, ledger := newTestService(gh)
	req := Request{Repo: testRepo, SHA: "abc"}
	if err := s.Check(context.Background(), req); err == nil {
		t.Fatal("first attempt: want the update error")
	}
	if p := ledger[req.key()]; p.BatchesSent != 1 || p.Completed {
		t.Fatalf("progress after failure = %+v, want 1 batch sent", p)
	}
	if err := s.Check(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	r := gh.runs[0]
	seen := map[string]bool{}
	for _, a := range r.Annotations {
		k := fmt.Sprint(a.StartLine, a.Message)
		if seen[k] {
			t.Fatalf("annotation sent twice: %s", k)
		}
		seen[k] = true
	}
	if len(gh.runs) != 1 || r.Status != "completed" {
		t.Fatalf("runs = %d, status %q", len(gh.runs), r.Status)
	}
}

func TestCheckFindsRunWhoseCreateAnswerWasLost(t *testing.T) {
	gh := &fakeGitHub{files: map[string]string{"project.yaml": validYAML}, loseCreate: true}
	s, _ := newTestService(gh)
	req := Request{Repo: testRepo, SHA: "abc"}
	if err := s.Check(context.Background(), req); err == nil {
		t.Fatal("want the create error")
	}
	if err := s.Check(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(gh.runs) != 1 || gh.runs[0].Conclusion != ConclusionSuccess {
		t.Fatalf("runs = %d, want one successful run", len(gh.runs))
	}
}

func TestCheckRerunIsANewRun(t *testing.T) {
	gh := &fakeGitHub{files: map[string]string{"project.yaml": validYAML}}
	s, _ := newTestService(gh)
	for _, req := range []Request{
		{Repo: testRepo, SHA: "abc"},
		{Repo: testRepo, SHA: "abc", Attempt: "delivery-1"},
		{Repo: testRepo, SHA: "abc", Attempt: "delivery-1"},
	} {
		if err := s.Check(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if len(gh.runs) != 2 {
		t.Fatalf("got %d runs, want 2 (the check, and one re-run)", len(gh.runs))
	}
}

func TestCheckUnreadableFiles(t *testing.T) {
	cases := map[string]struct {
		gh   *fakeGitHub
		want string
	}{
		"missing":   {&fakeGitHub{files: map[string]string{}}, "no project.yaml"},
		"too large": {&fakeGitHub{files: map[string]string{"project.yaml": strings.Repeat("#", MaxFileBytes+1)}}, "larger than"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, _ := newTestService(tc.gh)
			if err := s.Check(context.Background(), Request{Repo: testRepo, SHA: "abc"}); err != nil {
				t.Fatal(err)
			}
			r := tc.gh.runs[0]
			if r.Conclusion != ConclusionFailure {
				t.Fatalf("conclusion = %q", r.Conclusion)
			}
			var text strings.Builder
			text.WriteString(r.Title + r.Summary)
			for _, a := range r.Annotations {
				text.WriteString(a.Message)
			}
			if !strings.Contains(text.String(), tc.want) {
				t.Fatalf("report %q does not mention %q", text.String(), tc.want)
			}
		})
	}
}

func TestCheckGitHubErrorIsReturnedForRetry(t *testing.T) {
	gh := &fakeGitHub{fileErr: errors.New("connection reset")}
	s, _ := newTestService(gh)
	err := s.Check(context.Background(), Request{Repo: testRepo, SHA: "abc"})
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err = %v", err)
	}
	if gh.runs[0].Status == "completed" {
		t.Fatal("a run must not complete when the file could not be read")
	}
}
