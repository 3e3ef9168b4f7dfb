package agentapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/agentapi"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// fakeUploads records each upload it is given and answers err.
type fakeUploads struct {
	mu    sync.Mutex
	err   error
	calls []upload
}

type upload struct {
	backend, release, path string
	size                   int64
	body                   string
}

func (f *fakeUploads) Receive(_ context.Context, backend, releaseID, path string, size int64, body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, upload{backend: backend, release: releaseID, path: path, size: size, body: string(b)})
	return f.err
}

func (f *fakeUploads) received() []upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]upload(nil), f.calls...)
}

// put uploads body as path of release id; a nil body is sent without a
// Content-Length (chunked).
func (e *env) put(token, id, path string, body io.Reader) (int, map[string]string) {
	e.t.Helper()
	return e.putURL(token, e.srv.URL+protocol.APIPrefix+protocol.UploadPath(id, path), body)
}

func (e *env) putURL(token, url string, body io.Reader) (int, map[string]string) {
	e.t.Helper()
	status, raw := e.do("PUT", strings.TrimPrefix(url, e.srv.URL), token, body)
	var msg map[string]string
	if err := json.Unmarshal(raw, &msg); err != nil {
		e.t.Fatalf("answer %d %q is not a JSON object: %v", status, raw, err)
	}
	return status, msg
}

func TestUploadAnswersWhatTheReceiverSays(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		err  error
		want int
	}{
		"received":              {nil, http.StatusOK},
		"no such release":       {fmt.Errorf("release r1: %w", protocol.ErrNoSuchRelease), http.StatusNotFound},
		"not waiting":           {fmt.Errorf("%w: release #1 is in_review", protocol.ErrUploadRefused), http.StatusConflict},
		"not the approved file": {fmt.Errorf("%w: output/a.csv arrived as 3 bytes", protocol.ErrUploadMismatch), http.StatusUnprocessableEntity},
		"anything else":         {errors.New("disk full"), http.StatusInternalServerError},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := &fakeUploads{err: tc.err}
			e := newEnv(t, nil, agentapi.WithUploads(up))
			status, msg := e.put(tppToken, "r1", "output/a.csv", strings.NewReader("a,b\n1,2\n"))
			if status != tc.want {
				t.Fatalf("answered %d %v, want %d", status, msg, tc.want)
			}
			switch {
			case tc.err == nil && msg["status"] != "received":
				t.Errorf("answer %v", msg)
			case tc.want == http.StatusInternalServerError && (msg["error"] == "" || strings.Contains(msg["error"], "disk full")):
				t.Errorf("an internal error shown to the agent: %v", msg)
			case tc.err != nil && tc.want != http.StatusInternalServerError && msg["error"] != tc.err.Error():
				t.Errorf("error %q, want %q", msg["error"], tc.err.Error())
			}
			want := []upload{{backend: "tpp", release: "r1", path: "output/a.csv", size: 8, body: "a,b\n1,2\n"}}
			if got := up.received(); !reflect.DeepEqual(got, want) {
				t.Errorf("receiver got %+v, want %+v", got, want)
			}
		})
	}
}

func TestUploadPassesTheBackendAndPathThrough(t *testing.T) {
	t.Parallel()
	up := &fakeUploads{}
	e := newEnv(t, nil, agentapi.WithUploads(up), agentapi.WithMaxBody(4096))
	big := strings.Repeat("0123456789abcdef", 4096) // larger than an update may be
	paths := []string{
		"output/my tables/counts by region.csv",
		"output/50% of #1?.csv",
		"output/a/b/c/d.csv",
		"output/naïve.csv",
	}
	for _, p := range paths {
		if status, msg := e.put(emisToken, "rel-2", p, strings.NewReader(big)); status != http.StatusOK {
			t.Fatalf("upload of %q: %d %v", p, status, msg)
		}
	}
	got := up.received()
	if len(got) != len(paths) {
		t.Fatalf("receiver got %d uploads, want %d", len(got), len(paths))
	}
	for i, p := range paths {
		if got[i].backend != "emis" || got[i].release != "rel-2" || got[i].path != p || got[i].size != int64(len(big)) || got[i].body != big {
			t.Errorf("upload %d: %s %s %q size %d, %d bytes; want emis rel-2 %q size %d",
				i, got[i].backend, got[i].release, got[i].path, got[i].size, len(got[i].body), p, len(big))
		}
	}
}

func TestUploadRefusesBadRequests(t *testing.T) {
	t.Parallel()
	up := &fakeUploads{}
	e := newEnv(t, nil, agentapi.WithUploads(up))
	base := e.srv.URL + protocol.APIPrefix + "/releases/"
	cases := map[string]struct {
		url   string
		token string
		body  io.Reader
		want  int
	}{
		"no token":              {base + "r1/files/output/a.csv", "", strings.NewReader("x"), http.StatusUnauthorized},
		"a wrong token":         {base + "r1/files/output/a.csv", "nope", strings.NewReader("x"), http.StatusUnauthorized},
		"no Content-Length":     {base + "r1/files/output/a.csv", tppToken, io.MultiReader(strings.NewReader("x")), http.StatusLengthRequired},
		"a plain ..":            {base + "r1/files/output/../../etc/passwd", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"an escaped ..":         {base + "r1/files/output/%2E%2E/%2E%2E/etc/passwd", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"a .. in a segment":     {base + "r1/files/output%2F..%2F..%2Fetc%2Fpasswd", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"a leading ..":          {base + "r1/files/%2E%2E%2Fsecret.csv", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"an absolute path":      {base + "r1/files/%2Fetc%2Fpasswd", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"an unclean path":       {base + "r1/files/output%2F.%2Fa.csv", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"a backslash":           {base + "r1/files/output%5Ca.csv", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"a control character":   {base + "r1/files/output/a%0A.csv", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"no path":               {base + "r1/files/", tppToken, strings.NewReader("x"), http.StatusNotFound},
		"a release ID too long": {base + strings.Repeat("r", 129) + "/files/output/a.csv", tppToken, strings.NewReader("x"), http.StatusNotFound},
	}
	for name, tc := range cases {
		status, msg := e.putURL(tc.token, tc.url, tc.body)
		if status != tc.want || msg["error"] == "" {
			t.Errorf("%s: %d %v, want %d with an error", name, status, msg, tc.want)
		}
		// The mux itself cleans a plain .. away, to a path no route serves.
		if tc.want == http.StatusNotFound && name != "a plain .." && msg["error"] != "no such release file" {
			t.Errorf("%s: refused with %q, not by the upload route", name, msg["error"])
		}
	}
	if got := up.received(); len(got) != 0 {
		t.Fatalf("the receiver was given %+v", got)
	}
	// And a plain upload still goes through.
	if status, msg := e.put(tppToken, "r1", "output/a.csv", strings.NewReader("x")); status != http.StatusOK {
		t.Fatalf("a good upload: %d %v", status, msg)
	}
}

func TestUploadWithoutAReceiverIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if status, msg := e.put(tppToken, "r1", "output/a.csv", strings.NewReader("x")); status != http.StatusNotFound || msg["error"] == "" {
		t.Fatalf("upload with no receiver: %d %v", status, msg)
	}
}

// manifestLog is a prepare_release finisher that records what it heard.
type manifestLog struct {
	mu    sync.Mutex
	heard []jobs.Update
}

func (m *manifestLog) FinishTask(_ context.Context, _ *sql.Tx, _ jobs.Task, u jobs.Update, _ time.Time) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.heard = append(m.heard, u)
	return nil, nil
}

func (m *manifestLog) updates() []jobs.Update {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]jobs.Update(nil), m.heard...)
}

// newReleaseEnv is newEnv with fin finishing prepare_release tasks, set
// before the server starts.
func newReleaseEnv(t *testing.T, fin jobs.TaskFinisher) *env {
	t.Helper()
	db := jobstest.OpenDB(t)
	e := &env{t: t, db: db, st: jobs.New(db), clock: &clock{t: time.Now()}, code: &fakeCode{}}
	e.st.HandleTasks(jobs.PrepareRelease, fin)
	api, err := agentapi.New(e.st, []agentapi.Backend{
		{Name: "tpp", TokenSHA256: agentapi.HashToken(tppToken)},
		{Name: "emis", TokenSHA256: agentapi.HashToken(emisToken)},
	}, e.code, agentapi.WithClock(e.clock.Now), agentapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(api)
	t.Cleanup(e.srv.Close)
	return e
}

// queuePrepare queues a prepare_release task for tpp, as the release store does.
func (e *env) queuePrepare(id string, rt protocol.ReleaseTask) {
	e.t.Helper()
	ctx := context.Background()
	tx, err := e.db.W.BeginTx(ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback()
	if err := jobs.QueueTask(ctx, tx, jobs.NewTask{ID: id, Backend: "tpp", Kind: jobs.PrepareRelease, Payload: rt}, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
	e.st.Wake("tpp")
}

func TestAReleaseTaskCarriesItsReleaseAndTakesAManifest(t *testing.T) {
	t.Parallel()
	fin := &manifestLog{}
	e := newReleaseEnv(t, fin)
	rt := protocol.ReleaseTask{ID: "rel-1", Revision: 2, Workspace: "owner/study/study",
		Files: []protocol.ReleaseFile{{Path: "output/a.csv"}, {Path: "output/b.csv"}}}
	e.queuePrepare("prepare-rel-1-2", rt)
	if _, ok := e.claim(emisToken, "0s"); ok {
		t.Fatal("emis claimed tpp's release task")
	}
	task := e.mustClaim(tppToken)
	if task.ID != "prepare-rel-1-2" || task.Kind != protocol.KindPrepareRelease || task.Attempt != 1 || task.Job.ID != "" {
		t.Fatalf("claimed %+v", task)
	}
	if task.Release == nil || !reflect.DeepEqual(*task.Release, rt) {
		t.Fatalf("release %+v, want %+v", task.Release, rt)
	}
	// On the wire: a release, and no job.
	status, raw := e.do("GET", "/agent/v1/tasks/"+task.ID+"/code", tppToken, nil)
	if status != http.StatusNotFound {
		t.Fatalf("code of a release task: %d %s", status, raw)
	}

	sha := strings.Repeat("ab", 32)
	good := []protocol.ManifestFile{
		{Path: "output/a.csv", Size: 10, SHA256: sha, Type: "csv", Rows: intp(3), Columns: intp(2),
			Findings: []protocol.Finding{{Check: protocol.CheckSmallCount, Message: "1 cell of 1 to 7"}}},
		{Path: "output/b.csv", Problem: "not a regular file", Findings: []protocol.Finding{}},
	}
	bad := func(change func(f *protocol.ManifestFile)) []protocol.ManifestFile {
		out := []protocol.ManifestFile{good[0], good[1]}
		change(&out[0])
		return out
	}
	many := make([]protocol.Finding, 101)
	for i := range many {
		many[i] = protocol.Finding{Check: protocol.CheckUnroundedCount, Message: "count not a multiple of 5"}
	}
	refused := map[string]map[string]any{
		"a manifest without an outcome": {"attempt": 1, "seq": 1, "stage": "executing", "manifest": good},
		"a negative size": {"attempt": 1, "seq": 2, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.Size = -1 })},
		"an upper case sha256": {"attempt": 1, "seq": 3, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.SHA256 = strings.ToUpper(sha) })},
		"a short sha256": {"attempt": 1, "seq": 4, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.SHA256 = sha[:63] })},
		"a path out of the workspace": {"attempt": 1, "seq": 5, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.Path = "../x" })},
		"an absolute path": {"attempt": 1, "seq": 6, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.Path = "/etc/passwd" })},
		"a file twice": {"attempt": 1, "seq": 7, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.Path = "output/b.csv" })},
		"101 findings": {"attempt": 1, "seq": 8, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.Findings = many })},
		"negative rows": {"attempt": 1, "seq": 9, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.Rows = intp(-1) })},
		"a type with a newline": {"attempt": 1, "seq": 10, "status_code": "succeeded",
			"manifest": bad(func(f *protocol.ManifestFile) { f.Type = "csv\n" })},
	}
	for name, u := range refused {
		status, _, body := e.update(tppToken, task.ID, u)
		var msg map[string]string
		if status != http.StatusUnprocessableEntity || json.Unmarshal([]byte(body), &msg) != nil || msg["error"] == "" {
			t.Errorf("%s: %d %s, want 422 with an error", name, status, body)
		}
	}
	if heard := fin.updates(); len(heard) != 0 {
		t.Fatalf("%d refused manifests reached the release store", len(heard))
	}

	// The task is still the agent's: a good manifest ends it.
	status, ans, body := e.update(tppToken, task.ID, map[string]any{"attempt": 1, "seq": 20, "stage": "done",
		"status_code": "succeeded", "manifest": good})
	if status != http.StatusOK || ans.Cancel {
		t.Fatalf("a good manifest: %d %s", status, body)
	}
	heard := fin.updates()
	if len(heard) != 1 || heard[0].Status != jobs.Succeeded {
		t.Fatalf("the finisher heard %+v", heard)
	}
	var files []protocol.ManifestFile
	if err := json.Unmarshal(heard[0].Result, &files); err != nil || !reflect.DeepEqual(files, good) {
		t.Fatalf("the finisher got the manifest %s (%v), want %+v", heard[0].Result, err, good)
	}
	// Said again, it is answered, and not heard twice.
	if status, ans, body := e.update(tppToken, task.ID, map[string]any{"attempt": 1, "seq": 21, "status_code": "succeeded",
		"manifest": good}); status != http.StatusOK || !ans.Cancel {
		t.Fatalf("a manifest after the end: %d %s", status, body)
	}
	if n := len(fin.updates()); n != 1 {
		t.Fatalf("the finisher heard %d updates", n)
	}
	if _, ok := e.claim(tppToken, "0s"); ok {
		t.Fatal("a finished release task was handed out again")
	}
}
