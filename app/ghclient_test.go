package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
)

const testAppID = 4242

var testAppKeyPEM = sync.OnceValue(func() []byte {
	k, err := rsa.GenerateKey(rand.Reader, 1024) // small: -race makes key work slow
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
})

// fakeGitHub stands in for GitHub: it mints installation tokens itself and
// hands every other request to route, with n counting the sends of that
// method and path so far (1 for the first).
type fakeGitHub struct {
	*httptest.Server
	route      func(w http.ResponseWriter, r *http.Request, n int)
	failTokens int // the first this many token mints get a 502

	mu     sync.Mutex
	tokens []sent // POST /app/installations/{id}/access_tokens
	sends  []sent // everything else
}

type sent struct {
	Method, Path, RawQuery, Auth, Accept string
	Body                                 []byte
}

func newFakeGitHub(t *testing.T, route func(w http.ResponseWriter, r *http.Request, n int)) *fakeGitHub {
	t.Helper()
	g := &fakeGitHub{route: route}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

func (g *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s := sent{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept"), Body: body}
	var installation int64
	if _, err := fmt.Sscanf(r.URL.Path, "/app/installations/%d/access_tokens", &installation); err == nil && r.Method == http.MethodPost {
		g.mu.Lock()
		g.tokens = append(g.tokens, s)
		fail := len(g.tokens) <= g.failTokens
		g.mu.Unlock()
		if fail {
			writeJSON(w, http.StatusBadGateway, `{"message":"Server Error"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":"ghs_installation_%d","expires_at":%q}`, installation, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		return
	}
	g.mu.Lock()
	n := 1
	for _, o := range g.sends {
		if o.Method == s.Method && o.Path == s.Path {
			n++
		}
	}
	g.sends = append(g.sends, s)
	g.mu.Unlock()
	g.route(w, r, n)
}

// sent returns the requests with this method and path, in order.
func (g *fakeGitHub) sent(method, path string) []sent {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []sent
	for _, s := range g.sends {
		if s.Method == method && s.Path == path {
			out = append(out, s)
		}
	}
	return out
}

func (g *fakeGitHub) tokenMints() []sent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sent(nil), g.tokens...)
}

// newTestClients builds the real chain against g, with millisecond backoff.
func newTestClients(t *testing.T, g *fakeGitHub, opts ...ClientOption) (*ClientFactory, *Metrics) {
	t.Helper()
	m := NewMetrics(nil)
	opts = append([]ClientOption{WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)
	opts = append([]ClientOption{WithClientLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))}, opts...)
	f, err := NewClientFactory(testAppID, testAppKeyPEM(), g.URL+"/", m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f, m
}

// newConnections is a base transport that never reuses a connection, so that
// net/http cannot quietly re-send a failed request itself: what the server
// sees is what the chain above sent.
func newConnections() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	return t
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const secondaryLimitBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`

var testRepo = checks.Repo{InstallationID: 7, Owner: "octo", Name: "study"}

const (
	testSHA       = "0123456789abcdef0123456789abcdef01234567"
	checkRunsPath = "/repos/octo/study/check-runs"
	contentsPath  = "/repos/octo/study/contents/project.yaml"
)

// githubRequests reads Metrics.GitHubRequests{method,status}.
func githubRequests(t *testing.T, m *Metrics, method, status string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "fivesafes_github_requests_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["method"] == method && labels["status"] == status {
				return metric.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestClientPOSTThatGets502IsNotRetried(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusBadGateway, `{"message":"Server Error"}`)
	})
	f, _ := newTestClients(t, g)
	_, err := NewChecksGitHub(f).CreateCheckRun(context.Background(), testRepo, checks.NewCheckRun{Name: "fivesafes / project.yaml", HeadSHA: testSHA})

	if got := len(g.sent(http.MethodPost, checkRunsPath)); got != 1 {
		t.Errorf("GitHub saw %d POSTs, want exactly 1: a create is never re-sent by the client", got)
	}
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusBadGateway {
		t.Fatalf("err = %v, want go-github's 502 ErrorResponse", err)
	}
	if !Retryable(err) {
		t.Errorf("Retryable(%v) = false, want true: the dispatcher retries the handler", err)
	}
}

func TestClientGETThatGets502IsRetried(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, http.StatusBadGateway, `{"message":"Server Error"}`)
			return
		}
		io.WriteString(w, "version: '4.0'\n")
	})
	f, m := newTestClients(t, g)
	data, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 1000)
	if err != nil || string(data) != "version: '4.0'\n" {
		t.Fatalf("FileAt = %q, %v; want the file after one retry", data, err)
	}
	if got := len(g.sent(http.MethodGet, contentsPath)); got != 2 {
		t.Errorf("GitHub saw %d GETs, want 2", got)
	}
	if a, b := githubRequests(t, m, "GET", "502"), githubRequests(t, m, "GET", "200"); a != 1 || b != 1 {
		t.Errorf("GitHubRequests{GET,502} = %v, {GET,200} = %v; want 1 and 1, one per send", a, b)
	}
}

func TestClientReturnsTheLastResponseWhenRetriesRunOut(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusServiceUnavailable, fmt.Sprintf(`{"message":"unavailable %d"}`, n))
	})
	f, m := newTestClients(t, g, WithRetryMax(2))
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 1000)

	if got := len(g.sent(http.MethodGet, contentsPath)); got != 3 {
		t.Errorf("GitHub saw %d GETs, want 3 (the first and 2 retries)", got)
	}
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusServiceUnavailable || er.Message != "unavailable 3" {
		t.Fatalf("err = %v, want the last answer: 503 \"unavailable 3\"", err)
	}
	if got := githubRequests(t, m, "GET", "503"); got != 3 {
		t.Errorf("GitHubRequests{GET,503} = %v, want 3", got)
	}
}

func TestClientResendsAPOSTAfterASecondaryRateLimitWithTheSameBody(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusForbidden, secondaryLimitBody)
			return
		}
		writeJSON(w, http.StatusCreated, `{"id":99}`)
	})
	f, m := newTestClients(t, g, WithBaseTransport(newConnections()))
	start := time.Now()
	id, err := NewChecksGitHub(f).CreateCheckRun(context.Background(), testRepo, checks.NewCheckRun{Name: "fivesafes / project.yaml", HeadSHA: testSHA, ExternalID: "pipeline"})
	if err != nil || id != 99 {
		t.Fatalf("CreateCheckRun = %d, %v; want 99 after the pause", id, err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("re-sent after %v, want a pause of about Retry-After: 1", waited)
	}
	posts := g.sent(http.MethodPost, checkRunsPath)
	if len(posts) != 2 {
		t.Fatalf("GitHub saw %d POSTs, want 2", len(posts))
	}
	if len(posts[0].Body) == 0 || string(posts[0].Body) != string(posts[1].Body) {
		t.Errorf("bodies differ:\n first %q\nsecond %q", posts[0].Body, posts[1].Body)
	}
	if a, b := githubRequests(t, m, "POST", "403"), githubRequests(t, m, "POST", "201"); a != 1 || b != 1 {
		t.Errorf("GitHubRequests{POST,403} = %v, {POST,201} = %v; want 1 and 1", a, b)
	}
}

func TestClientFetchesTheInstallationTokenOnce(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		io.WriteString(w, "x")
	})
	f, _ := newTestClients(t, g)
	gh := NewChecksGitHub(f)
	for range 3 {
		if _, err := gh.FileAt(context.Background(), testRepo, testSHA, "project.yaml", 10); err != nil {
			t.Fatal(err)
		}
	}
	other := checks.Repo{InstallationID: 8, Owner: "octo", Name: "study"}
	if _, err := gh.FileAt(context.Background(), other, testSHA, "project.yaml", 10); err != nil {
		t.Fatal(err)
	}

	mints := g.tokenMints()
	if len(mints) != 2 || mints[0].Path != "/app/installations/7/access_tokens" || mints[1].Path != "/app/installations/8/access_tokens" {
		t.Fatalf("token mints %v, want one for installation 7 and one for 8", mints)
	}
	if !strings.HasPrefix(mints[0].Auth, "Bearer ey") {
		t.Errorf("token mint Authorization = %q, want the app's JWT", mints[0].Auth)
	}
	gets := g.sent(http.MethodGet, contentsPath)
	for i, s := range gets {
		want := "token ghs_installation_7"
		if i == 3 {
			want = "token ghs_installation_8"
		}
		if s.Auth != want {
			t.Errorf("GET %d Authorization = %q, want %q", i, s.Auth, want)
		}
	}
	a, _ := f.Installation(7)
	b, _ := f.Installation(7)
	c, _ := f.Installation(8)
	if a != b || a == c {
		t.Errorf("Installation(7) twice gave different clients, or 7 and 8 the same")
	}
}

func TestClientRetriesAFailedTokenMintOnlyForIdempotentMethods(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusCreated, `{"id":1}`)
	})
	g.failTokens = 1
	f, _ := newTestClients(t, g)
	gh := NewChecksGitHub(f)

	_, err := gh.CreateCheckRun(context.Background(), testRepo, checks.NewCheckRun{Name: "n", HeadSHA: testSHA})
	if err == nil || !Retryable(err) {
		t.Errorf("CreateCheckRun with a failing token mint: %v, want a retryable error", err)
	}
	if got := len(g.sent(http.MethodPost, checkRunsPath)); got != 0 {
		t.Errorf("GitHub saw %d POSTs without a token", got)
	}
	g.mu.Lock()
	g.failTokens = 2
	g.mu.Unlock()
	if _, err := gh.FileAt(context.Background(), testRepo, testSHA, "project.yaml", 100); err != nil {
		t.Errorf("FileAt after one more failing mint: %v, want success on a retry", err)
	}
	if got := len(g.tokenMints()); got != 3 {
		t.Errorf("%d token mints, want 3", got)
	}
}

func TestClientGivesUpOnASecondaryRateLimitOverTheCap(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "120")
		writeJSON(w, http.StatusForbidden, secondaryLimitBody)
	})
	f, _ := newTestClients(t, g)
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 100)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || !Retryable(err) {
		t.Fatalf("err = %v, want a retryable *github.AbuseRateLimitError", err)
	}
	if d := RetryAfter(err); d != 120*time.Second {
		t.Errorf("RetryAfter = %v, want 120s", d)
	}
	if got := len(g.sent(http.MethodGet, contentsPath)); got != 1 {
		t.Errorf("GitHub saw %d GETs, want 1", got)
	}
}

func TestClientPausesOneRequestOnlySoOften(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusForbidden, secondaryLimitBody)
	})
	f, _ := newTestClients(t, g)
	f.opt.secondaryWaitsMax = 1
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 100)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) {
		t.Fatalf("err = %v, want *github.AbuseRateLimitError", err)
	}
	if got := len(g.sent(http.MethodGet, contentsPath)); got != 2 {
		t.Errorf("GitHub saw %d GETs, want 2: one pause, then the limit goes to the caller", got)
	}
}

func TestClientForTheAppSignsWithAJWT(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, `{"id":4242,"slug":"fivesafes"}`)
	})
	f, _ := newTestClients(t, g)
	c, err := f.App()
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := c.Apps.Get(context.Background(), "")
	if err != nil || app.GetSlug() != "fivesafes" {
		t.Fatalf("Apps.Get = %v, %v", app, err)
	}
	if s := g.sent(http.MethodGet, "/app"); len(s) != 1 || !strings.HasPrefix(s[0].Auth, "Bearer ey") {
		t.Errorf("GET /app sent %+v, want one request with the app's JWT", s)
	}
	if len(g.tokenMints()) != 0 {
		t.Errorf("the app client minted an installation token")
	}
	if c.BaseURL() != g.URL+"/" || c.UploadURL() != g.URL+"/" {
		t.Errorf("BaseURL %q, UploadURL %q; want %q", c.BaseURL(), c.UploadURL(), g.URL+"/")
	}
}

func TestClientDoesNotWaitOutALongRetryAfter(t *testing.T) {
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "120")
		writeJSON(w, http.StatusTooManyRequests, `{"message":"slow down"}`)
	})
	f, _ := newTestClients(t, g)
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 10)

	if got := len(g.sent(http.MethodGet, contentsPath)); got != 1 {
		t.Errorf("GitHub saw %d GETs, want 1: a wait over the cap is the dispatcher's", got)
	}
	if !Retryable(err) {
		t.Errorf("Retryable(%v) = false, want true", err)
	}
	if d := RetryAfter(err); d < 119*time.Second || d > 120*time.Second {
		t.Errorf("RetryAfter = %v, want 120s", d)
	}
}

func TestClientLeavesPrimaryRateLimitsToTheDispatcher(t *testing.T) {
	reset := time.Now().Add(10 * time.Minute).Unix()
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(reset))
		writeJSON(w, http.StatusForbidden, `{"message":"API rate limit exceeded"}`)
	})
	f, _ := newTestClients(t, g)
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 10)

	var rl *github.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want *github.RateLimitError", err)
	}
	if got := len(g.sent(http.MethodGet, contentsPath)); got != 1 {
		t.Errorf("GitHub saw %d GETs, want 1", got)
	}
	if d := RetryAfter(err); d < 9*time.Minute || d > 10*time.Minute {
		t.Errorf("RetryAfter = %v, want about 10m", d)
	}
}

func TestClientRetriesADroppedConnectionOnlyForIdempotentMethods(t *testing.T) {
	drop := func(w http.ResponseWriter) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case r.Method == http.MethodPost:
			drop(w)
		case n == 1:
			drop(w)
		default:
			io.WriteString(w, "ok")
		}
	})
	f, m := newTestClients(t, g, WithBaseTransport(newConnections()))
	gh := NewChecksGitHub(f)

	if data, err := gh.FileAt(context.Background(), testRepo, testSHA, "project.yaml", 10); err != nil || string(data) != "ok" {
		t.Errorf("FileAt = %q, %v; want ok after a retry", data, err)
	}
	if a, b := githubRequests(t, m, "GET", "error"), githubRequests(t, m, "GET", "200"); a != 1 || b != 1 {
		t.Errorf("GitHubRequests{GET,error} = %v, {GET,200} = %v; want 1 and 1", a, b)
	}
	_, err := gh.CreateCheckRun(context.Background(), testRepo, checks.NewCheckRun{Name: "n", HeadSHA: testSHA})
	if err == nil || !Retryable(err) {
		t.Errorf("CreateCheckRun err = %v, want a retryable network error", err)
	}
	if got := len(g.sent(http.MethodPost, checkRunsPath)); got != 1 {
		t.Errorf("GitHub saw %d POSTs, want 1", got)
	}
	if got := githubRequests(t, m, "POST", "error"); got != 1 {
		t.Errorf("GitHubRequests{POST,error} = %v, want 1", got)
	}
}

func TestClientDoesNotFollowARedirectToAnotherHost(t *testing.T) {
	other := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		io.WriteString(w, "elsewhere")
	})
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	f, _ := newTestClients(t, g)
	_, err := NewChecksGitHub(f).FileAt(context.Background(), testRepo, testSHA, "project.yaml", 100)
	if err == nil {
		t.Errorf("FileAt followed a redirect to another host")
	}
	if s := other.sent(http.MethodGet, "/steal"); len(s) != 0 {
		t.Errorf("the other host got %d requests carrying %q", len(s), s[0].Auth)
	}
}

func TestClientBackoff(t *testing.T) {
	withRetryAfter := func(v string) *http.Response {
		return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {v}}}
	}
	cases := map[string]struct {
		attempt  int
		resp     *http.Response
		min, max time.Duration
	}{
		"first retry is at most min":         {attempt: 0, min: 50 * time.Millisecond, max: 100 * time.Millisecond},
		"doubles per attempt":                {attempt: 2, min: 100 * time.Millisecond, max: 400 * time.Millisecond},
		"never above max":                    {attempt: 20, min: 500 * time.Millisecond, max: 10 * time.Second},
		"Retry-After in seconds is honoured": {attempt: 0, resp: withRetryAfter("3"), min: 3 * time.Second, max: 3 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for range 50 {
				d := backoff(100*time.Millisecond, 10*time.Second, tc.attempt, tc.resp)
				if tc.resp == nil && tc.attempt < 10 {
					// Jitter spreads each wait over the upper half of its step.
					step := 100 * time.Millisecond << tc.attempt
					if d < step/2 || d > step {
						t.Fatalf("backoff = %v, want within [%v, %v]", d, step/2, step)
					}
					continue
				}
				if d < tc.min || d > tc.max {
					t.Fatalf("backoff = %v, want within [%v, %v]", d, tc.min, tc.max)
				}
			}
		})
	}
}

func TestClientAPIURLs(t *testing.T) {
	cases := map[string][2]string{
		"":                                {"https://api.github.com/", "https://uploads.github.com/"},
		"https://api.github.com":          {"https://api.github.com/", "https://uploads.github.com/"},
		"https://ghe.example.com/api/v3":  {"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/"},
		"https://ghe.example.com/api/v3/": {"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/"},
		"http://127.0.0.1:9000/":          {"http://127.0.0.1:9000/", "http://127.0.0.1:9000/"},
	}
	for in, want := range cases {
		base, upload, err := apiURLs(in)
		if err != nil || base != want[0] || upload != want[1] {
			t.Errorf("apiURLs(%q) = %q, %q, %v; want %q, %q", in, base, upload, err, want[0], want[1])
		}
	}
	if _, _, err := apiURLs("api.github.com"); err == nil {
		t.Errorf("apiURLs accepted a URL without scheme")
	}
}

func TestNewClientFactoryRejectsABadKey(t *testing.T) {
	_, err := NewClientFactory(1, []byte("not a key"), "", nil)
	if err == nil || !strings.Contains(err.Error(), "private key") {
		t.Errorf("NewClientFactory with a bad key: %v", err)
	}
}

// The check-run create body, to compare JSON with JSON.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return m
}
