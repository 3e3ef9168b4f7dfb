package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/checks"
)

func TestGitHubFileAtReadsTheRawFile(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		io.WriteString(w, "version: '4.0'\n")
	})
	f, _ := newTestClients(t, g)
	data, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "my study/project #1.yaml", 1<<20)
	if err != nil || string(data) != "version: '4.0'\n" {
		t.Fatalf("FileAt = %q, %v", data, err)
	}
	s := g.sent(http.MethodGet, "/repos/octo/study/contents/my study/project #1.yaml")
	if len(s) != 1 {
		t.Fatalf("no GET for the escaped path; sent %+v", g.sends)
	}
	if s[0].RawQuery != "ref="+testSHA || s[0].Accept != "application/vnd.github.raw" {
		t.Errorf("query %q, Accept %q; want ref=SHA and the raw media type", s[0].RawQuery, s[0].Accept)
	}
}

func TestGitHubFileAtMissingFile(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
	})
	f, _ := newTestClients(t, g)
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 100)
	if !errors.Is(err, checks.ErrNotFound) {
		t.Fatalf("err = %v, want checks.ErrNotFound", err)
	}
	if Retryable(err) {
		t.Errorf("Retryable(%v) = true for a 404", err)
	}
	if got := len(g.sent(http.MethodGet, contentsPath)); got != 1 {
		t.Errorf("GitHub saw %d GETs for a 404, want 1", got)
	}
}

func TestGitHubFileAtStopsReadingPastTheLimit(t *testing.T) {
	const limit = 1000
	cases := map[string]struct {
		serve   func(w http.ResponseWriter, r *http.Request, written *atomic.Int64)
		tooBig  bool
		maxSent int64 // the server must not have got further than this
	}{
		"declared 10 MB": {
			// Sends the header and a little, then holds the rest back: a
			// client that read the whole body would hang here.
			serve: func(w http.ResponseWriter, r *http.Request, written *atomic.Int64) {
				w.Header().Set("Content-Length", fmt.Sprint(10<<20))
				n, _ := w.Write(make([]byte, 100))
				written.Add(int64(n))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			},
			tooBig: true, maxSent: 100,
		},
		"streamed without a length": {
			serve: func(w http.ResponseWriter, r *http.Request, written *atomic.Int64) {
				chunk := []byte(strings.Repeat("a", 4096))
				for written.Load() < 256<<20 {
					n, err := w.Write(chunk)
					written.Add(int64(n))
					if err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			},
			tooBig: true, maxSent: 64 << 20,
		},
		"exactly the limit": {
			serve: func(w http.ResponseWriter, r *http.Request, written *atomic.Int64) {
				n, _ := w.Write(make([]byte, limit))
				written.Add(int64(n))
			},
			maxSent: limit,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var written atomic.Int64
			g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) { tc.serve(w, r, &written) })
			f, _ := newTestClients(t, g)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			data, err := NewChecksGitHub(f).FileAt(ctx, testRepo, testSHA, "project.yaml", limit)
			if tc.tooBig {
				if !errors.Is(err, checks.ErrTooLarge) {
					t.Fatalf("err = %v, want checks.ErrTooLarge", err)
				}
			} else if err != nil || len(data) != limit {
				t.Fatalf("FileAt = %d bytes, %v; want %d bytes", len(data), err, limit)
			}
			if w := written.Load(); w > tc.maxSent {
				t.Errorf("the server wrote %d bytes before the client stopped, want at most %d", w, tc.maxSent)
			}
		})
	}
}

func TestGitHubFileAtOverGitHubsOwnLimit(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusForbidden, `{"message":"This API returns blobs up to 100 MB in size.","errors":[{"resource":"Blob","field":"data","code":"too_large"}]}`)
	})
	f, _ := newTestClients(t, g)
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 100)
	if !errors.Is(err, checks.ErrTooLarge) || Retryable(err) {
		t.Errorf("err = %v, want checks.ErrTooLarge, not retryable", err)
	}
}

func TestGitHubFileAtADirectory(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, `[{"type":"file","name":"a.py","path":"project.yaml/a.py"}]`)
	})
	f, _ := newTestClients(t, g)
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 100)
	if err == nil || !strings.Contains(err.Error(), "is a directory, not a file") || errors.Is(err, checks.ErrNotFound) {
		t.Errorf("err = %v, want a clear \"is a directory\"", err)
	}
}

func TestGitHubFindCheckRunPagesAndPicksTheNewestMatch(t *testing.T) {
	var g *fakeGitHub
	g = newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		run := func(id, app int, ext, status string) string {
			return fmt.Sprintf(`{"id":%d,"name":"fivesafes / project.yaml","external_id":%q,"status":%q,"conclusion":"success","app":{"id":%d}}`, id, ext, status, app)
		}
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=2>; rel="next"`, g.URL, r.URL.Path))
			writeJSON(w, http.StatusOK, `{"total_count":3,"check_runs":[`+run(5, testAppID, "pipeline", "queued")+`,`+run(6, testAppID, "other", "queued")+`]}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"total_count":3,"check_runs":[`+run(9, testAppID, "pipeline", "completed")+`,`+run(20, 1, "pipeline", "completed")+`]}`)
	})
	f, _ := newTestClients(t, g)
	ref, ok, err := NewChecksGitHub(f).FindCheckRun(context.Background(), testRepo, testSHA, "fivesafes / project.yaml", "pipeline")
	if err != nil || !ok {
		t.Fatalf("FindCheckRun = %v, %v, %v", ref, ok, err)
	}
	if want := (checks.CheckRunRef{ID: 9, Status: "completed", Conclusion: "success"}); ref != want {
		t.Errorf("FindCheckRun = %+v, want %+v (newest of this app's matches)", ref, want)
	}
	pages := g.sent(http.MethodGet, "/repos/octo/study/commits/"+testSHA+"/check-runs")
	if len(pages) != 2 {
		t.Fatalf("GitHub saw %d list requests, want 2 pages", len(pages))
	}
	for _, want := range []string{"check_name=fivesafes+%2F+project.yaml", "filter=all", fmt.Sprintf("app_id=%d", testAppID), "per_page=100"} {
		if !strings.Contains(pages[0].RawQuery, want) {
			t.Errorf("query %q lacks %q", pages[0].RawQuery, want)
		}
	}
}

func TestGitHubFindCheckRunNone(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, `{"total_count":0,"check_runs":[]}`)
	})
	f, _ := newTestClients(t, g)
	_, ok, err := NewChecksGitHub(f).FindCheckRun(context.Background(), testRepo, testSHA, "fivesafes / project.yaml", "pipeline")
	if ok || err != nil {
		t.Errorf("FindCheckRun = %v, %v; want not found", ok, err)
	}
}

func TestGitHubCreateCheckRunBody(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusCreated, `{"id":31}`)
	})
	f, _ := newTestClients(t, g)
	started := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	id, err := NewChecksGitHub(f).CreateCheckRun(context.Background(), testRepo, checks.NewCheckRun{
		Name: "fivesafes / project.yaml", HeadSHA: testSHA, ExternalID: "pipeline",
		DetailsURL: "https://bot.example.org/checks/1", Status: "in_progress", StartedAt: started,
	})
	if err != nil || id != 31 {
		t.Fatalf("CreateCheckRun = %d, %v", id, err)
	}
	got := decodeJSON(t, g.sent(http.MethodPost, checkRunsPath)[0].Body)
	want := map[string]any{
		"name": "fivesafes / project.yaml", "head_sha": testSHA, "external_id": "pipeline",
		"details_url": "https://bot.example.org/checks/1", "status": "in_progress", "started_at": "2025-03-01T12:00:00Z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("create body\n got %v\nwant %v", got, want)
	}
}

func TestGitHubUpdateCheckRunMapsAnnotations(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, `{"id":31}`)
	})
	f, _ := newTestClients(t, g)
	upd := checks.CheckRunUpdate{
		Status: "completed", Conclusion: "failure", CompletedAt: time.Date(2025, 3, 1, 12, 5, 0, 0, time.UTC),
		Output: &checks.CheckRunOutput{Title: "2 problems", Summary: "fix them", Annotations: []checks.Annotation{
			{Path: "project.yaml", StartLine: 3, EndLine: 3, StartColumn: 5, EndColumn: 9, Level: "failure", Title: "bad key", Message: "unknown key"},
			{Path: "project.yaml", StartLine: 3, EndLine: 6, StartColumn: 5, EndColumn: 9, Level: "warning", Message: "columns only on one line"},
			{Path: "project.yaml", Level: "failure", Message: "no line: the first one"},
			{Path: "project.yaml", StartLine: 4, StartColumn: 2, Level: "notice", Message: "end line and column default to the start"},
		}},
	}
	if err := NewChecksGitHub(f).UpdateCheckRun(context.Background(), testRepo, 31, upd); err != nil {
		t.Fatal(err)
	}
	patches := g.sent(http.MethodPatch, checkRunsPath+"/31")
	if len(patches) != 1 {
		t.Fatalf("GitHub saw %d PATCHes, want 1", len(patches))
	}
	got := decodeJSON(t, patches[0].Body)
	if _, has := got["name"]; has {
		t.Errorf("update sends a name: %v", got)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(`{
		"status": "completed", "conclusion": "failure", "completed_at": "2025-03-01T12:05:00Z",
		"output": {"title": "2 problems", "summary": "fix them", "annotations": [
			{"path": "project.yaml", "start_line": 3, "end_line": 3, "start_column": 5, "end_column": 9, "annotation_level": "failure", "title": "bad key", "message": "unknown key"},
			{"path": "project.yaml", "start_line": 3, "end_line": 6, "annotation_level": "warning", "message": "columns only on one line"},
			{"path": "project.yaml", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "no line: the first one"},
			{"path": "project.yaml", "start_line": 4, "end_line": 4, "start_column": 2, "end_column": 2, "annotation_level": "notice", "message": "end line and column default to the start"}
		]}}`), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("update body:\n%s", gotJSON)
	}
}
