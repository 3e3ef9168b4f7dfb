// Package ghemu is an in-process GitHub for end-to-end tests and for
// `fivesafes sandbox`: it keeps state (installations, repositories and their
// commits, Git blobs and trees, issues and pull requests with their
// comments, reactions, labels, reviews and review requests, check runs,
// collaborator roles, teams, webhook deliveries), serves the REST
// endpoints the bot calls, checks every request against GitHub's OpenAPI
// description, sends signed webhooks the way GitHub does, and can inject
// faults.
//
//	emu := ghemu.New(ghemu.WithSpecFailure(func(err error) { t.Error(err) }))
//	defer emu.Close()
//	emu.AddInstallation(7, "ana")
//	repo := emu.CreateRepo("ana", "study")
//	emu.SetWebhook(bot.URL+"/webhook", secret)
//	n, sha := repo.OpenPR("feature", "main", "Add study", "ana")
//	run, err := repo.WaitCheckRun(ctx, sha, "fivesafes / project.yaml")
//	repo.Comment(n, "ana", "/run all")
//	reply, err := repo.WaitComment(ctx, n, func(c ghemu.Comment) bool { return c.User == ghemu.AppLogin })
//
// Helpers on Repo act like people using GitHub (OpenPR, Push, Comment,
// Review, LabelPR, ClickCheckRunAction, ...): they change the state, send
// the webhooks GitHub would send and return once the receiver has answered
// them. What the app changes through the REST API is announced the same
// way (its own comments, labels, pull requests and pushes come back as
// webhooks with sender AppLogin), delivered before the emulator answers
// the request. A login ending in "[bot]" is a Bot account; any other is a
// user, who exists once a helper has named them.
//
// Adding an endpoint: list it in openapi/operations.go, run go generate
// here (it trims GitHub's full description into
// openapi/github-trimmed.json.gz) and register its handler in routes.go.
package ghemu

//go:generate go run ./cmd/trimspec -spec ../../../shared/github/api.github.com.json.gz -out openapi/github-trimmed.json.gz

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Emulator is a running GitHub emulator. All methods are safe for
// concurrent use.
type Emulator struct {
	url      string
	server   *http.Server
	hookHTTP *http.Client
	routes   []*route

	log         *slog.Logger
	specFailure func(error)
	now         func() time.Time
	appID       int64
	appKey      *rsa.PublicKey

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	st      state
}

// Option configures an Emulator.
type Option func(*Emulator)

// WithSpecFailure sets the function called for every request GitHub would
// reject as malformed: one that matches no operation of GitHub's REST
// description, violates its schemas, or breaks a documented rule (more than
// 50 annotations, a completed check run without a conclusion, ...). It is
// also called when a response of the emulator itself does not match the
// description. Tests pass a t.Errorf-based function; the default logs.
func WithSpecFailure(f func(error)) Option {
	return func(e *Emulator) { e.specFailure = f }
}

// WithAppKey makes the /app endpoints accept only JWTs signed (RS256) with
// the private half of key and issued by appID, as GitHub does. Without it
// any bearer token is accepted there, and the app ID is 1.
func WithAppKey(key *rsa.PublicKey, appID int64) Option {
	return func(e *Emulator) { e.appKey, e.appID = key, appID }
}

// WithLogger sets where the emulator logs requests and deliveries.
func WithLogger(l *slog.Logger) Option {
	return func(e *Emulator) { e.log = l }
}

// WithClock sets the clock used for timestamps and token expiry.
func WithClock(now func() time.Time) Option {
	return func(e *Emulator) { e.now = now }
}

// New starts an emulator listening on 127.0.0.1. It panics if it cannot
// listen or if its embedded OpenAPI description is broken: both are bugs of
// the environment or of the emulator, not of the code under test.
func New(opts ...Option) *Emulator {
	routes, err := loadRoutes()
	if err != nil {
		panic(fmt.Sprintf("ghemu: %v", err))
	}
	e := &Emulator{
		routes:   routes,
		log:      slog.New(slog.DiscardHandler),
		now:      time.Now,
		appID:    1,
		changed:  make(chan struct{}),
		st:       newState(),
		hookHTTP: &http.Client{Timeout: 10 * time.Second}, // GitHub gives up on a delivery after 10 s
	}
	for _, o := range opts {
		o(e)
	}
	if e.specFailure == nil {
		e.specFailure = func(err error) { e.log.Error("request GitHub would reject", "err", err) }
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("ghemu: listen: %v", err))
	}
	e.url = "http://" + ln.Addr().String()
	e.server = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := e.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("emulator server stopped", "err", err)
		}
	}()
	return e
}

// URL is the emulator's base URL, without a trailing slash. go-github's
// BaseURL is URL()+"/"; ghinstallation's BaseURL is URL().
func (e *Emulator) URL() string { return e.url }

// AppID is the ID of the GitHub App the emulator acts for.
func (e *Emulator) AppID() int64 { return e.appID }

// Close stops the server and closes its connections.
func (e *Emulator) Close() {
	_ = e.server.Close()
	e.hookHTTP.CloseIdleConnections()
}

// WaitFor blocks until cond returns true or ctx ends. cond is evaluated
// now and again after every change of the emulator's state (a request that
// changed something, a helper call, a webhook delivery); it may call any
// method of the emulator.
func (e *Emulator) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		e.mu.Lock()
		ch := e.changed
		e.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("ghemu: condition still false: %w", ctx.Err())
		}
	}
}

// act makes a change under the lock and then sends the webhooks it
// produced, outside the lock: the receiver may well call back.
func (e *Emulator) act(change func() []outgoing) {
	out := func() []outgoing {
		e.mu.Lock()
		defer e.mu.Unlock()
		defer e.changedLocked()
		return change()
	}()
	e.deliverAll(out)
}

// changedLocked wakes every WaitFor. The caller holds e.mu.
func (e *Emulator) changedLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// timestamp is the current time as GitHub writes it.
func (e *Emulator) timestamp() time.Time { return e.now().UTC().Truncate(time.Second) }
