package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/config"
	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/store"
)

// Server is the bot: the HTTP face (webhook intake, health, metrics) and the
// dispatcher that works through the inbox behind it.
type Server struct {
	cfg        *config.Config
	log        *slog.Logger
	db         *store.DB
	inbox      *inbox.Inbox
	metrics    *Metrics
	dispatcher *Dispatcher
	handler    http.Handler
	dispOpts   []DispatcherOption
	clientOpts []ClientOption
	intakeOnly bool
}

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) ServerOption { return func(s *Server) { s.log = l } }

// WithDispatcherOptions passes options through to the dispatcher.
func WithDispatcherOptions(opts ...DispatcherOption) ServerOption {
	return func(s *Server) { s.dispOpts = append(s.dispOpts, opts...) }
}

// WithIntakeOnly makes the server store deliveries without handling them, for
// maintenance: the work waits in the inbox for the next normal start.
func WithIntakeOnly() ServerOption { return func(s *Server) { s.intakeOnly = true } }

// WithClientOptions passes options through to the GitHub client factory.
func WithClientOptions(opts ...ClientOption) ServerOption {
	return func(s *Server) { s.clientOpts = append(s.clientOpts, opts...) }
}

// NewServer opens the database (running its migrations) and wires the bot.
// Close releases what it opened.
func NewServer(ctx context.Context, cfg *config.Config, opts ...ServerOption) (*Server, error) {
	s := &Server{cfg: cfg, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	db, err := store.Open(ctx, cfg.Database, store.WithLogger(s.log))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.Database, err)
	}
	s.db = db
	s.inbox = inbox.New(db)
	s.metrics = NewMetrics(s.inboxStats)

	clients, err := NewClientFactory(cfg.GitHub.AppID, cfg.PrivateKey, cfg.GitHub.APIURL, s.metrics,
		append([]ClientOption{WithClientLogger(s.log)}, s.clientOpts...)...)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("github client: %w", err)
	}
	pipelines := checks.NewService(NewChecksGitHub(clients), NewCheckRunLedger(db))
	handlers := []EventHandler{
		&PullRequestHandler{Checks: pipelines},
		&CheckSuiteHandler{Checks: pipelines},
		&CheckRunHandler{Checks: pipelines},
	}
	s.dispatcher = NewDispatcher(s.inbox, handlers, append([]DispatcherOption{
		WithWorkers(cfg.Workers), WithDispatcherMetrics(s.metrics),
	}, s.dispOpts...)...)
	s.handler = s.routes()
	return s, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/webhook", NewIntake(s.webhookSecrets, s.inbox, s.metrics))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.db.Ping(ctx); err != nil {
			http.Error(w, "database unreachable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) webhookSecrets() [][]byte {
	out := make([][]byte, len(s.cfg.GitHub.WebhookSecrets))
	for i, sec := range s.cfg.GitHub.WebhookSecrets {
		out[i] = []byte(sec)
	}
	return out
}

// inboxStats feeds the inbox gauges at scrape time.
func (s *Server) inboxStats() (int, float64) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	depth, oldest, err := s.inbox.Stats(ctx)
	if err != nil || depth == 0 {
		return depth, 0
	}
	return depth, time.Since(oldest).Seconds()
}

// Handler is the bot's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Metrics are the server's Prometheus series.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Serve answers HTTP on ln and drains the inbox until ctx is cancelled, then
// shuts down gracefully: no new deliveries are taken, in-flight requests and
// handlers get time to finish, and anything unfinished stays in the inbox.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, stop := context.WithCancel(logging.With(ctx, s.log))
	defer stop()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return logging.With(context.Background(), s.log) },
	}
	dispatched := make(chan error, 1)
	if s.intakeOnly {
		s.log.Warn("intake only: deliveries are stored but not handled")
		dispatched <- nil
	} else {
		go func() { dispatched <- s.dispatcher.Run(ctx) }()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "public_url", s.cfg.PublicURL)

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		stop() // the listener failed: stop the dispatcher too
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if e := srv.Shutdown(shutdown); e != nil {
		err = errors.Join(err, fmt.Errorf("http shutdown: %w", e))
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, <-dispatched)
}

// Close flushes the inbox and closes the database.
func (s *Server) Close() error {
	var errs []error
	if s.inbox != nil {
		errs = append(errs, s.inbox.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}
