// Package agentapi is the HTTP API backend agents call, under /agent/v1:
// claim a task (long-poll), report on it, fetch its code.
package agentapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/prometheus/client_golang/prometheus"
)

// Backend is a secure zone the bot knows: its name and the SHA-256 (hex) of
// its agent's bearer token. The bot never stores the token itself.
type Backend struct {
	Name        string
	TokenSHA256 string
}

// CodeSource gives the repository tarball at a commit, read as the app
// installation that may; the bot's implementation fetches it from GitHub so
// that agents need no GitHub access.
type CodeSource interface {
	Tarball(ctx context.Context, installationID int64, repo, sha string) (io.ReadCloser, error)
}

// Server answers agents.
type Server struct {
	st       *jobs.Store
	backends []backendKey
	code     CodeSource
	now      func() time.Time
	log      *slog.Logger
	maxWait  time.Duration
	defWait  time.Duration
	maxBody  int64
	mux      *http.ServeMux
	reg      prometheus.Registerer
	metrics  *metrics
	stopping chan struct{}
	stopOnce sync.Once
	uploads  Uploads
}

type backendKey struct {
	name string
	hash []byte
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithMaxWait caps a claim's long-poll (default 60s).
func WithMaxWait(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.maxWait = d
		}
	}
}

// WithMaxBody caps request bodies (default 1 MiB).
func WithMaxBody(n int64) Option {
	return func(s *Server) {
		if n > 0 {
			s.maxBody = n
		}
	}
}

// New returns the API over st for the given backends.
func New(st *jobs.Store, backends []Backend, code CodeSource, opts ...Option) (*Server, error) {
	s := &Server{st: st, code: code, now: time.Now, log: slog.Default(), maxWait: 60 * time.Second,
		defWait: 30 * time.Second, maxBody: 1 << 20, metrics: newMetrics(), stopping: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.reg != nil {
		if err := s.metrics.register(s.reg); err != nil {
			return nil, fmt.Errorf("register agent API metrics: %w", err)
		}
	}
	seen := map[string]bool{}
	for _, b := range backends {
		h, err := hex.DecodeString(strings.ToLower(b.TokenSHA256))
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("backend %q: token_sha256 must be 64 hex digits (the SHA-256 of the agent's token)", b.Name)
		}
		if b.Name == "" || seen[b.Name] {
			return nil, fmt.Errorf("backend %q: names must be set and unique", b.Name)
		}
		seen[b.Name] = true
		s.backends = append(s.backends, backendKey{name: b.Name, hash: h})
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /agent/v1/tasks/claim", s.authed(s.claim))
	s.mux.HandleFunc("POST /agent/v1/tasks/{id}/update", s.authed(s.countUpdates(s.update)))
	s.mux.HandleFunc("GET /agent/v1/tasks/{id}/code", s.authed(s.codeTarball))
	s.mux.HandleFunc("PUT /agent/v1/releases/{id}/files/{path...}", s.authed(s.upload))
	s.mux.HandleFunc("/agent/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return s, nil
}

// Stop answers every waiting claim at once with "no task", and every later
// one without waiting, so that a server shutting down is not held up by
// agents' long polls; the agents claim again from the next server.
func (s *Server) Stop() { s.stopOnce.Do(func() { close(s.stopping) }) }

// ServeHTTP serves /agent/v1.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// HashToken is the SHA-256 (hex) of an agent token, as Backend holds it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// backendOf returns the backend whose token the request carries. Every
// configured hash is compared, in constant time, whatever matches.
func (s *Server) backendOf(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	name := ""
	for _, b := range s.backends {
		if subtle.ConstantTimeCompare(sum[:], b.hash) == 1 {
			name = b.name
		}
	}
	return name, name != ""
}

func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request, backend string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		backend, ok := s.backendOf(r)
		if !ok {
			s.metrics.unauthorized.Inc()
			w.Header().Set("WWW-Authenticate", `Bearer realm="fivesafes agent"`)
			writeError(w, http.StatusUnauthorized, "unknown or missing agent token (send Authorization: Bearer TOKEN)")
			return
		}
		h(w, r, backend)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fail answers an error from the store: the kinds an agent can act on with
// their message, anything else as a 500 that is logged, not shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such task for this backend")
	case errors.Is(err, jobs.ErrStaleAttempt):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, jobs.ErrIllegal):
		// Not 409: an agent reads 409 as "another attempt holds the task".
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	case r.Context().Err() != nil:
		// The agent went away; nothing to answer.
	default:
		log.Error("agent request failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; try again")
	}
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) countUpdates(h func(w http.ResponseWriter, r *http.Request, backend string)) func(w http.ResponseWriter, r *http.Request, backend string) {
	return func(w http.ResponseWriter, r *http.Request, backend string) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h(sw, r, backend)
		s.metrics.updates.WithLabelValues(backend, statusLabel(sw.status)).Inc()
	}
}
