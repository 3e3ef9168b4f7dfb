package agentapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/store"
	"github.com/fivesafes/fivesafes/runner/agentapi"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
)

const (
	tppToken   = "tpp-secret-token"
	emisToken  = "emis-secret-token"
	testSHA    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	tarballFor = "tarball of owner/study@"
)

// fakeCode serves a recognisable tarball for any commit.
type fakeCode struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeCode) Tarball(_ context.Context, _ int64, repo, sha string) (io.ReadCloser, error) {
	f.mu.Lock()
	f.calls = append(f.calls, repo+"@"+sha)
	f.mu.Unlock()
	return io.NopCloser(strings.NewReader("tarball of " + repo + "@" + sha)), nil
}

// clock is a settable clock shared by the server and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

type env struct {
	t     testing.TB
	db    *store.DB
	st    *jobs.Store
	srv   *httptest.Server
	clock *clock
	code  *fakeCode
}

func newEnv(t testing.TB, storeOpts []jobs.Option, opts ...agentapi.Option) *env {
	t.Helper()
	db := jobstest.OpenDB(t)
	e := &env{t: t, db: db, st: jobs.New(db, storeOpts...), clock: &clock{t: time.Now()}, code: &fakeCode{}}
	api, err := agentapi.New(e.st, []agentapi.Backend{
		{Name: "tpp", TokenSHA256: agentapi.HashToken(tppToken)},
		{Name: "emis", TokenSHA256: agentapi.HashToken(emisToken)},
	}, e.code, append([]agentapi.Option{agentapi.WithClock(e.clock.Now), agentapi.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(api)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request; body is JSON-encoded unless it is a string.
func (e *env) do(method, path, token string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// claim long-polls for a task; ok is false on 204.
func (e *env) claim(token, wait string) (agentapi.TaskJSON, bool) {
	e.t.Helper()
	status, body := e.do("POST", "/agent/v1/tasks/claim?wait="+wait, token, nil)
	var task agentapi.TaskJSON
	switch status {
	case http.StatusOK:
		if err := json.Unmarshal(body, &task); err != nil {
			e.t.Fatalf("claim answer %s: %v", body, err)
		}
		return task, true
	case http.StatusNoContent:
		return task, false
	}
	e.t.Fatalf("claim: %d %s", status, body)
	return task, false
}

func (e *env) mustClaim(token string) agentapi.TaskJSON {
	e.t.Helper()
	task, ok := e.claim(token, "0s")
	if !ok {
		e.t.Fatal("no task to claim")
	}
	return task
}

// update posts an update and returns the status and the decoded answer.
func (e *env) update(token, taskID string, u any) (int, agentapi.AnswerJSON, string) {
	e.t.Helper()
	status, body := e.do("POST", "/agent/v1/tasks/"+taskID+"/update", token, u)
	var a agentapi.AnswerJSON
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &a); err != nil {
			e.t.Fatalf("update answer %s: %v", body, err)
		}
	}
	return status, a, string(body)
}

func (e *env) wantJob(id string, status jobs.StatusCode) jobs.Job {
	e.t.Helper()
	j, err := e.st.Job(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	if j.Status != status {
		e.t.Fatalf("job %s (%s) is %s (%s), want %s", id, j.Action, j.Status, j.Message, status)
	}
	return j
}

func (e *env) auditKinds() map[string]int {
	e.t.Helper()
	ctx := context.Background()
	if _, err := audit.Verify(ctx, e.db.R); err != nil {
		e.t.Fatalf("audit.Verify: %v", err)
	}
	es, err := audit.List(ctx, e.db.R, 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, en := range es {
		out[en.Kind]++
	}
	return out
}

func intp(i int) *int { return &i }
