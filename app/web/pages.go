package web

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/internal/logging"
)

//go:embed templates/*.html static/style.css static/icon.svg
var assets embed.FS

// Pages serves the public pages and the log's JSON API. It is an
// http.Handler on its own (any path it does not know is a 404 page); the
// bot mounts its routes beside /webhook, /agent/v1, /healthz and /metrics
// with Register instead, which takes no catch-all.
type Pages struct {
	src    Source
	github string
	now    func() time.Time
	log    *slog.Logger
	gate   Gate
	pages  map[string]*template.Template
	style  asset
	icon   asset
	mux    *http.ServeMux
}

// Option configures Pages.
type Option func(*Pages)

// WithGitHubURL sets the web address of GitHub that commits and pull
// requests link to (BASE/OWNER/REPO/commit/SHA, BASE/OWNER/REPO/pull/N);
// https://github.com by default, https://HOST for GitHub Enterprise Server.
func WithGitHubURL(base string) Option {
	return func(p *Pages) {
		if base = strings.TrimRight(strings.TrimSpace(base), "/"); base != "" {
			p.github = base
		}
	}
}

// WithClock sets the clock that "5 minutes ago" and the durations of
// unfinished runs are measured from.
func WithClock(now func() time.Time) Option {
	return func(p *Pages) {
		if now != nil {
			p.now = now
		}
	}
}

// WithLogger sets the logger of failed requests. Without it, the logger
// carried by the request's context is used (see internal/logging).
func WithLogger(l *slog.Logger) Option {
	return func(p *Pages) { p.log = l }
}

// WithGate sets who may see the pages; by default everyone may (Everyone).
func WithGate(g Gate) Option {
	return func(p *Pages) {
		if g != nil {
			p.gate = g
		}
	}
}

// New returns the pages over src.
func New(src Source, opts ...Option) *Pages {
	p := &Pages{src: src, github: "https://github.com", now: time.Now, gate: Everyone}
	for _, o := range opts {
		o(p)
	}
	p.style = newAsset("style.css", "text/css; charset=utf-8")
	p.icon = newAsset("icon.svg", "image/svg+xml")
	p.pages = parsePages(p.funcs())
	p.mux = http.NewServeMux()
	p.Register(p.mux)
	p.mux.Handle("GET /", p.gated(p.page(p.notFound), false))
	return p
}

// The routes' paths. Everything else belongs to the bot.
const (
	homePattern       = "GET /{$}"
	eventsPattern     = "GET /events"
	apiPattern        = "GET /api/v1/events"
	runPattern        = "GET /runs/{id}"
	releasePattern    = "GET /releases/{id}"
	stylePattern      = "GET " + stylePath
	stylePath         = staticPath + "/style.css"
	iconPattern       = "GET " + staticPath + "/icon.svg"
	staticPath        = "/static"
	eventsPath        = "/events"
	apiEventsPath     = "/api/v1/events"
	runPathPrefix     = "/runs/"
	releasePathPrefix = "/releases/"
)

// Routes are the pages' ServeMux patterns (Go 1.22 syntax) and their
// handlers: the home page, the log and its JSON twin, a page per run and
// per release, the stylesheet, and a 404 page for any other path under
// /events/, /runs/, /releases/, /static/ and /api/v1/. None is a
// catch-all: "/" is matched exactly ("GET /{$}").
//
// Every handler but the stylesheet's and the icon's asks the Gate first;
// they hold nothing to protect, and the 403 page needs them.
func (p *Pages) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		homePattern:                p.gated(p.page(p.home), false),
		eventsPattern:              p.gated(p.page(p.events), false),
		"GET /events/":             p.gated(p.page(p.notFound), false),
		apiPattern:                 p.gated(p.api(p.eventsAPI), true),
		"GET /api/v1/":             p.gated(p.api(p.apiNotFound), true),
		runPattern:                 p.gated(p.page(p.run), false),
		"GET " + runPathPrefix:     p.gated(p.page(p.notFound), false),
		releasePattern:             p.gated(p.page(p.release), false),
		"GET " + releasePathPrefix: p.gated(p.page(p.notFound), false),
		stylePattern:               secured(http.HandlerFunc(p.style.serve)),
		iconPattern:                secured(http.HandlerFunc(p.icon.serve)),
		"GET /static/":             p.gated(p.page(p.notFound), false),
	}
}

// Register mounts Routes on mux.
func (p *Pages) Register(mux *http.ServeMux) {
	routes := p.Routes()
	patterns := make([]string, 0, len(routes))
	for pattern := range routes {
		patterns = append(patterns, pattern)
	}
	sort.Strings(patterns)
	for _, pattern := range patterns {
		mux.Handle(pattern, routes[pattern])
	}
}

// ServeHTTP serves the pages alone, with a 404 page for any other path.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mux.ServeHTTP(w, r)
}

// logger is the logger of r.
func (p *Pages) logger(r *http.Request) *slog.Logger {
	l := p.log
	if l == nil {
		l = logging.From(r.Context())
	}
	return l.With("method", r.Method, "path", r.URL.Path)
}

// contentSecurityPolicy allows the stylesheet and nothing else: no
// scripts, no inline styles, no frames, forms to the pages only.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secured sets the headers every answer carries.
func secured(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}
