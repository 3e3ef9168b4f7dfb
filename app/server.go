package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fivesafes/fivesafes/app/web"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/config"
	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/store"
	"github.com/fivesafes/fivesafes/release"
	"github.com/fivesafes/fivesafes/runner/agentapi"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/protocol"
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
	jobs       *jobs.Store
	reporter   *RunReporter
	releaser   *release.Releaser
	releases   *release.Store
	handler    http.Handler
	agentAPI   *agentapi.Server
	dispOpts   []DispatcherOption
	clientOpts []ClientOption
	ghOpts     []RunsGitHubOption
	intakeOnly bool
	sweepEvery time.Duration
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

// WithRunsGitHubOptions passes options through to the runs' GitHub adapter.
func WithRunsGitHubOptions(opts ...RunsGitHubOption) ServerOption {
	return func(s *Server) { s.ghOpts = append(s.ghOpts, opts...) }
}

// WithSweepInterval sets how often expired leases and timed-out jobs are
// looked for (default: a quarter of the lease, between 1s and 30s).
func WithSweepInterval(d time.Duration) ServerOption { return func(s *Server) { s.sweepEvery = d } }

// WithClientOptions passes options through to the GitHub client factory.
func WithClientOptions(opts ...ClientOption) ServerOption {
	return func(s *Server) { s.clientOpts = append(s.clientOpts, opts...) }
}

// NewServer opens the database (running its migrations), records the
// configuration file's hash in the audit log when it changed, and wires the
// bot. Close releases what it opened.
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
	head, err := audit.RecordConfig(ctx, db.W, time.Now(), cfg.FileSHA256)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.log.Info("audit log head", "seq", head.Seq, "hash", head.Hash)
	s.inbox = inbox.New(db)
	s.metrics = NewMetrics(s.inboxStats)

	clients, err := NewClientFactory(cfg.GitHub.AppID, cfg.PrivateKey, cfg.GitHub.APIURL, s.metrics,
		append([]ClientOption{WithClientLogger(s.log)}, s.clientOpts...)...)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("github client: %w", err)
	}
	gh := NewRunsGitHub(clients, s.ghOpts...)
	pipelines := checks.NewService(gh.ChecksGitHub, NewCheckRunLedger(db))
	s.jobs = jobs.New(db, jobs.WithLease(cfg.Runs.Lease), jobs.WithMaxAttempts(cfg.Runs.MaxAttempts), jobs.WithJobTimeout(cfg.Runs.JobTimeout))
	if s.releases, err = release.NewStore(db, s.jobs, filepath.Join(filepath.Dir(cfg.Database), "released")); err != nil {
		s.Close()
		return nil, err
	}
	if s.agentAPI, err = newAgentAPI(cfg, s.jobs, gh, s.releases, s.log, s.metrics); err != nil {
		s.Close()
		return nil, err
	}
	runs := NewRuns(gh, s.jobs, RunPolicy{Permission: cfg.Policy.RunPermission, Require: cfg.Policy.Require},
		backendNames(cfg.Backends), cfg.Runs.DefaultBackend)
	checkers := release.Policy{ApprovalsRequired: cfg.Release.ApprovalsRequired, Users: cfg.Release.Checkers.Users, Teams: cfg.Release.Checkers.Teams}
	rgh := NewReleasesGitHub(gh)
	rel := NewReleases(rgh, s.releases, s.jobs, runs, checkers)
	replies := NewReplies(db, gh)
	handlers := []EventHandler{
		&PullRequestHandler{Checks: pipelines, Runs: runs, Releases: rel, Replies: replies, GitHub: gh, TriggerLabel: cfg.Policy.TriggerLabel},
		&CheckSuiteHandler{Checks: pipelines},
		&CheckRunHandler{Checks: pipelines, Runs: runs, Replies: replies},
		&IssueCommentHandler{Runs: runs, Releases: rel, GitHub: gh, Replies: replies},
		&PullRequestReviewHandler{Releases: rel},
	}
	s.dispatcher = NewDispatcher(s.inbox, handlers, append([]DispatcherOption{
		WithWorkers(cfg.Workers), WithDispatcherMetrics(s.metrics),
	}, s.dispOpts...)...)
	s.releaser = release.NewReleaser(s.releases, rgh, checkers, webPR(cfg.GitHub.APIURL), release.WithReleaserLogger(s.log),
		release.WithReleasePages(func(id string) string { return cfg.PublicURL + "/releases/" + id }))
	s.reporter = NewRunReporter(s.jobs, gh, s.RunURL, WithReportInterval(cfg.Runs.StatusInterval), WithReporterLogger(s.log))
	if s.sweepEvery <= 0 {
		s.sweepEvery = min(max(cfg.Runs.Lease/4, time.Second), 30*time.Second)
	}
	s.handler = s.routes()
	return s, nil
}

// RunURL is a job request's public page, the details link of its check run.
func (s *Server) RunURL(r jobs.Request) string { return s.cfg.PublicURL + "/runs/" + r.ID }

// DB is the bot's database.
func (s *Server) DB() *store.DB { return s.db }

// Releases is the release store.
func (s *Server) Releases() *release.Store { return s.releases }

// Jobs is the job store.
func (s *Server) Jobs() *jobs.Store { return s.jobs }

// webPR is a pull request's page on the GitHub the API URL belongs to:
// github.com for api.github.com, the same host for GitHub Enterprise
// Server (https://HOST/api/v3/).
func webPR(apiURL string) func(repo string, pr int) string {
	web := webBase(apiURL)
	return func(repo string, pr int) string { return fmt.Sprintf("%s/%s/pull/%d", web, repo, pr) }
}

// webBase is the web address of the GitHub the API URL belongs to.
func webBase(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "api.github.com" {
		return "https://github.com"
	}
	return u.Scheme + "://" + u.Host
}

func backendNames(bs []config.Backend) []string {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.Name
	}
	return names
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/webhook", NewIntake(s.webhookSecrets, s.inbox, s.metrics))
	mux.Handle(protocol.APIPrefix+"/", s.agentAPI)
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
	web.New(pagesSource{db: s.db, jobs: s.jobs, releases: s.releases},
		web.WithGitHubURL(webBase(s.cfg.GitHub.APIURL)), web.WithLogger(s.log)).Register(mux)
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
	srv.RegisterOnShutdown(s.agentAPI.Stop) // agents' long polls would hold the shutdown up
	dispatched := make(chan error, 1)
	var background sync.WaitGroup
	if s.intakeOnly {
		s.log.Warn("intake only: deliveries are stored but not handled")
		dispatched <- nil
	} else {
		go func() { dispatched <- s.dispatcher.Run(ctx) }()
		background.Go(func() { s.reporter.Run(ctx) })
		background.Go(func() { s.releaser.Run(ctx) })
		background.Go(func() {
			s.jobs.Sweep(ctx, s.sweepEvery, time.Now, func(err error) { s.log.Error("sweep leases and timeouts", "err", err) })
		})
	}
	defer background.Wait()
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
