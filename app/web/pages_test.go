package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// sourcePaths are a request for each route that reads the Source.
var sourcePaths = map[string]string{
	"home":        "/",
	"log":         "/events",
	"log page":    "/events?repo=octo-org/study&before=3&limit=2",
	"API":         "/api/v1/events",
	"run":         "/runs/a1b2c3d4e5f6a1b2c3d4e5f6",
	"release":     "/releases/rel-1",
	"unknown run": "/runs/nope",
}

// pagePaths are a request for each route of the pages, HTML and JSON.
var pagePaths = func() map[string]string {
	m := map[string]string{
		"under runs": "/runs/a/b",
		"under log":  "/events/x",
		"under API":  "/api/v1/jobs",
		"static":     "/static/app.js",
	}
	for name, path := range sourcePaths {
		m[name] = path
	}
	return m
}()

func isAPI(path string) bool { return strings.HasPrefix(path, "/api/") }

func TestRoutesLeaveTheBotsPathsAlone(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	bot := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "bot:"+name) })
	}
	mux.Handle("/webhook", bot("webhook"))
	mux.Handle("/agent/v1/", bot("agent"))
	mux.Handle("GET /healthz", bot("healthz"))
	mux.Handle("GET /readyz", bot("readyz"))
	mux.Handle("GET /metrics", bot("metrics"))
	newPages(study()).Register(mux) // panics on a conflicting pattern

	for path, want := range map[string]string{
		"/webhook":                       "bot:webhook",
		"/agent/v1/tasks":                "bot:agent",
		"/agent/v1/":                     "bot:agent",
		"/healthz":                       "bot:healthz",
		"/readyz":                        "bot:readyz",
		"/metrics":                       "bot:metrics",
		"/favicon.ico":                   "404 page not found\n", // the mux's own, not a page
		"/webhooks":                      "404 page not found\n",
		"/api/v2/events":                 "404 page not found\n",
		"/":                              "Recent runs",
		"/events":                        "The log",
		"/runs/a1b2c3d4e5f6a1b2c3d4e5f6": "Run #7 in octo-org/study",
	} {
		_, body := page(t, mux, path)
		if !strings.Contains(body, want) {
			t.Errorf("GET %s = %q, want it to hold %q", path, short(200, body), want)
		}
	}
	res := httptest.NewRecorder()
	mux.ServeHTTP(res, httptest.NewRequest(http.MethodPost, "/webhook", nil))
	if res.Body.String() != "bot:webhook" {
		t.Errorf("POST /webhook = %q, want the bot's", res.Body.String())
	}
}

func TestRoutesHaveNoCatchAll(t *testing.T) {
	t.Parallel()
	for pattern := range newPages(study()).Routes() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || method != http.MethodGet {
			t.Errorf("pattern %q is not GET only", pattern)
		}
		if path == "/" || !strings.HasPrefix(path, "/") {
			t.Errorf("pattern %q takes every path", pattern)
		}
		for _, bots := range []string{"/webhook", "/agent", "/healthz", "/readyz", "/metrics"} {
			if strings.HasPrefix(path, bots) {
				t.Errorf("pattern %q takes the bot's %s", pattern, bots)
			}
		}
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	p := newPages(study())
	for name, path := range pagePaths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := get(t, p, path)
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
				t.Errorf("Content-Security-Policy %q allows scripts or inline code", csp)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if got := res.Header.Get("Referrer-Policy"); got == "" {
				t.Error("no Referrer-Policy")
			}
			want := "text/html; charset=utf-8"
			if isAPI(path) {
				want = "application/json; charset=utf-8"
			}
			if got := res.Header.Get("Content-Type"); got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
		})
	}
}

func TestPagesUseNothingFromElsewhere(t *testing.T) {
	t.Parallel()
	p := newPages(study())
	for name, path := range pagePaths {
		if isAPI(path) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, body := page(t, p, path)
			shows(t, body, `<meta name="viewport" content="width=device-width, initial-scale=1">`,
				`<link rel="stylesheet" href="/static/style.css?v=`, "<title>", "<header", "<nav", "<main>")
			hides(t, body, "<script", " src=", " style=", "<style", "@import", `rel="preload"`)
		})
	}
}

func TestStylesheet(t *testing.T) {
	t.Parallel()
	p := newPages(study())
	res := get(t, p, "/static/style.css")
	css, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !bytes.Contains(css, []byte(".status.ok")) {
		t.Fatalf("GET /static/style.css = %d, %q", res.StatusCode, short(100, string(css)))
	}
	if got := res.Header.Get("Content-Type"); got != "text/css; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "max-age=") {
		t.Errorf("Cache-Control = %q, want it cacheable", got)
	}
	if bytes.Contains(css, []byte("url(")) || bytes.Contains(css, []byte("@import")) {
		t.Error("the stylesheet loads something from elsewhere")
	}

	etag := res.Header.Get("ETag")
	_, home := page(t, p, "/")
	if !strings.Contains(home, "/static/style.css?v="+strings.Trim(etag, `"`)) {
		t.Errorf("pages do not link to the stylesheet's version %s", etag)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/static/style.css", nil)
	req.Header.Set("If-None-Match", etag)
	p.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("GET with If-None-Match %s = %d, want 304", etag, rec.Code)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	p := newPages(study())
	for path, want := range map[string]string{
		"/runs/nope":                         "There is no run with ID &#34;nope&#34;.",
		"/releases/nope":                     "There is no release with ID &#34;nope&#34;.",
		"/runs/a1b2c3d4e5f6a1b2c3d4e5f6x":    "There is no run",
		"/releases/a1b2c3d4e5f6a1b2c3d4e5f6": "There is no release", // a run's ID is no release's
		"/runs/":                             "There is no page at this address.",
		"/runs/a/b":                          "There is no page at this address.",
		"/releases/":                         "There is no page at this address.",
		"/releases/rel-1/files":              "There is no page at this address.",
		"/events/":                           "There is no page at this address.",
		"/events/1":                          "There is no page at this address.",
		"/static/":                           "There is no page at this address.",
		"/static/app.js":                     "There is no page at this address.",
		"/nowhere":                           "There is no page at this address.", // Pages on its own
		"/runs/" + strings.Repeat("x", 300):  "There is no run",
	} {
		code, body := page(t, p, path)
		if code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, code)
		}
		shows(t, body, "<title>Not found · fivesafes</title>", want, `<a href="/events">`)
	}

	res := get(t, p, "/api/v1/jobs")
	var e apiError
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil || res.StatusCode != http.StatusNotFound || !strings.Contains(e.Error, "/api/v1/events") {
		t.Errorf("GET /api/v1/jobs = %d, %+v, %v; want 404 with a JSON error", res.StatusCode, e, err)
	}
}

func TestOtherMethodsAreNotAllowed(t *testing.T) {
	t.Parallel()
	p := newPages(untouchable{t})
	for _, path := range []string{"/events", "/api/v1/events", "/runs/x"} {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("x")))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s = %d, want 405", path, rec.Code)
		}
	}
}

func TestSourceErrorIsA500Page(t *testing.T) {
	t.Parallel()
	const secret = "database is locked: /var/lib/fivesafes/db.sqlite token=ghs_abc123"
	for name, path := range sourcePaths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			p := newPages(fakeSource{err: errors.New(secret)}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			code, body := page(t, p, path)
			if code != http.StatusInternalServerError {
				t.Fatalf("GET %s = %d, want 500", path, code)
			}
			hides(t, body, "database", "ghs_abc123", "sqlite")
			if isAPI(path) {
				shows(t, body, `"error": "something went wrong; it has been logged"`)
			} else {
				shows(t, body, "<title>Something went wrong · fivesafes</title>", "It has been logged")
			}
			if !strings.Contains(logs.String(), "database is locked") || !strings.Contains(logs.String(), "path=") {
				t.Errorf("the error is not logged with its path: %s", logs.String())
			}
		})
	}
}

func TestGateRefusesEveryRoute(t *testing.T) {
	t.Parallel()
	refuse := GateFunc(func(*http.Request) (bool, error) { return false, nil })
	p := newPages(untouchable{t}, WithGate(refuse))
	for name, path := range pagePaths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, body := page(t, p, path)
			if code != http.StatusForbidden {
				t.Fatalf("GET %s = %d, want 403", path, code)
			}
			if isAPI(path) {
				var e apiError
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
					t.Errorf("body %q is not a JSON error: %v", body, err)
				}
			} else {
				shows(t, body, "<title>Not allowed · fivesafes</title>", "signed-in members")
			}
		})
	}

	// The 403 page needs its stylesheet, which holds nothing to protect.
	if code, _ := page(t, p, "/static/style.css"); code != http.StatusOK {
		t.Errorf("GET /static/style.css behind a refusing gate = %d, want 200", code)
	}

	// Mounted on the bot's mux, the routes ask the gate too.
	mux := http.NewServeMux()
	p.Register(mux)
	for _, path := range pagePaths {
		if code, _ := page(t, mux, path); code != http.StatusForbidden {
			t.Errorf("GET %s on the bot's mux = %d, want 403", path, code)
		}
	}
}

// signIn is a gate for members only that sends others to sign in.
type signIn struct{}

func (signIn) Allow(r *http.Request) (bool, error) { return r.Header.Get("X-Member") == "yes", nil }
func (signIn) SignInURL(r *http.Request) string    { return "/auth/github?next=" + r.URL.Path }

func TestSignInGateRedirectsPagesOnly(t *testing.T) {
	t.Parallel()
	p := newPages(study(), WithGate(signIn{}))
	res := get(t, p, "/runs/a1b2c3d4e5f6a1b2c3d4e5f6")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/auth/github?next=/runs/a1b2c3d4e5f6a1b2c3d4e5f6" {
		t.Errorf("refused page = %d to %q, want 303 to sign in", res.StatusCode, res.Header.Get("Location"))
	}
	if res := get(t, p, "/api/v1/events"); res.StatusCode != http.StatusForbidden {
		t.Errorf("refused API = %d, want 403", res.StatusCode)
	}

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/runs/a1b2c3d4e5f6a1b2c3d4e5f6", nil)
	req.Header.Set("X-Member", "yes")
	p.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Run #7") {
		t.Errorf("a member's page = %d, want the run", rec.Code)
	}
}

func TestGateCanKeepTheLogPublic(t *testing.T) {
	t.Parallel()
	logOnly := GateFunc(func(r *http.Request) (bool, error) {
		return r.Pattern == "GET /events" || r.Pattern == "GET /api/v1/events", nil
	})
	p := newPages(study(), WithGate(logOnly))
	for path, want := range map[string]int{
		"/events":                        http.StatusOK,
		"/api/v1/events":                 http.StatusOK,
		"/":                              http.StatusForbidden,
		"/runs/a1b2c3d4e5f6a1b2c3d4e5f6": http.StatusForbidden,
		"/releases/rel-1":                http.StatusForbidden,
	} {
		if code, _ := page(t, p, path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
}

func TestGateErrorIsA500(t *testing.T) {
	t.Parallel()
	broken := GateFunc(func(*http.Request) (bool, error) { return false, errors.New("org lookup: 502 from api.github.com") })
	p := newPages(untouchable{t}, WithGate(broken))
	for _, path := range []string{"/", "/api/v1/events"} {
		code, body := page(t, p, path)
		if code != http.StatusInternalServerError {
			t.Errorf("GET %s = %d, want 500", path, code)
		}
		hides(t, body, "502", "org lookup")
	}
}

func TestDefaultGateLetsEveryoneIn(t *testing.T) {
	t.Parallel()
	p := New(study()) // no options at all
	for _, path := range []string{"/", "/events", "/api/v1/events", "/runs/a1b2c3d4e5f6a1b2c3d4e5f6", "/releases/rel-1"} {
		if code, _ := page(t, p, path); code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
	}
}
