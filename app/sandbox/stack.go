// Package sandbox runs fivesafes locally without a GitHub App: the bot, the
// GitHub emulator and a demo study in one process. `fivesafes sandbox` uses
// it, and so do the end-to-end tests.
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/app"
	"github.com/fivesafes/fivesafes/internal/config"
	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/runner/agentapi"
	"github.com/fivesafes/fivesafes/runner/exec"
)

// Checkers are the demo's output checkers, unless Options.Config says
// otherwise: two must approve a release.
var Checkers = []string{"cara", "dan"}

// Installation, owner and repository of the demo study.
const (
	InstallationID = 4242
	Owner          = "demo-org"
	RepoName       = "covid-vaccine-study"
	appID          = 1234
)

// Stack is a running bot wired to a running emulator.
type Stack struct {
	Emulator *ghemu.Emulator
	Repo     *ghemu.Repo
	Config   *config.Config
	Secret   []byte

	dir        string
	log        *slog.Logger
	serverOpts []app.ServerOption
	bot        *bot
	listener   *keptListener     // the bot's socket, kept across restarts so that agents find it again
	backends   []string          // in the order configured: the first is the default
	tokens     map[string]string // backend -> its agent's token
	images     exec.Images
	execOpts   []exec.Option
	agents     []*Agent
}

// bot is one run of the server; a restart replaces it.
type bot struct {
	server *app.Server
	url    string
	cancel context.CancelFunc
	done   chan error
}

// Options configure Start.
type Options struct {
	Dir         string       // where the database and configuration go (required)
	Logger      *slog.Logger // the bot's and the emulator's logs
	SpecFailure func(error)  // called for requests GitHub would reject
	ServerOpts  []app.ServerOption
	// Backends are the secure zones the bot relays runs to (default: one,
	// "tpp"); StartAgent starts an agent for one.
	Backends []string
	// Images adds to (or replaces entries of) the agents' Images.
	Images exec.Images
	// ExecOptions configure the agents' executors (tests name their own
	// binary as the jobs' supervisor).
	ExecOptions []exec.Option
	// Config is YAML appended to the bot's fivesafes.yml: policy, runs ...
	// (runs.status_interval defaults to 200ms here, so that the demo shows
	// every step).
	Config string
}

// Start starts the emulator with a demo installation and repository, writes
// a configuration for it (as an operator would), and starts the bot.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate app key: %w", err)
	}
	emuOpts := []ghemu.Option{ghemu.WithAppKey(&key.PublicKey, appID), ghemu.WithLogger(o.Logger)}
	if o.SpecFailure != nil {
		emuOpts = append(emuOpts, ghemu.WithSpecFailure(o.SpecFailure))
	}
	emu := ghemu.New(emuOpts...)
	emu.AddInstallation(InstallationID, Owner)
	s := &Stack{
		Emulator:   emu,
		Repo:       emu.CreateRepo(Owner, RepoName),
		Secret:     randomSecret(),
		dir:        o.Dir,
		log:        o.Logger,
		serverOpts: append([]app.ServerOption{app.WithLogger(o.Logger)}, o.ServerOpts...),
		tokens:     map[string]string{},
		images:     maps.Clone(Images),
		execOpts:   o.ExecOptions,
	}
	maps.Copy(s.images, o.Images)
	if len(o.Backends) == 0 {
		o.Backends = []string{"tpp"}
	}
	s.backends = o.Backends
	for _, b := range o.Backends {
		s.tokens[b] = string(randomSecret())
	}
	// The bot's socket first, so that its public URL (the check runs'
	// details links) is where it really is.
	if s.listener, err = listenKept("127.0.0.1:0"); err != nil {
		emu.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	if s.Config, err = s.writeConfig(key, o.Config); err != nil {
		emu.Close()
		return nil, err
	}
	if err := s.StartBot(ctx); err != nil {
		emu.Close()
		return nil, err
	}
	return s, nil
}

func (s *Stack) backendNames() []string { return s.backends }

// writeConfig writes fivesafes.yml and the key file the way an operator
// would, and loads them through the real configuration loader.
func (s *Stack) writeConfig(key *rsa.PrivateKey, extra string) (*config.Config, error) {
	keyFile := filepath.Join(s.dir, "app-key.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		return nil, fmt.Errorf("write app key: %w", err)
	}
	var backends strings.Builder
	for _, b := range s.backendNames() {
		fmt.Fprintf(&backends, "  - name: %s\n    token_sha256: %s\n", b, agentapi.HashToken(s.tokens[b]))
	}
	if !strings.Contains(extra, "runs:") {
		extra = "runs:\n  status_interval: 200ms\n" + extra
	}
	if !strings.Contains(extra, "release:") {
		extra = "release:\n  approvals_required: 2\n  checkers:\n    users: [" + strings.Join(Checkers, ", ") + "]\n" + extra
	}
	yml := fmt.Sprintf(`# written by fivesafes sandbox
listen: 127.0.0.1:0
public_url: http://%s
database: fivesafes.db
workers: 4
github:
  api_url: %s/
  app_id: %d
  private_key_file: app-key.pem
  webhook_secret: %q
backends:
%s%s`, s.listener.ln.Addr(), s.Emulator.URL(), appID, string(s.Secret), backends.String(), extra)
	path := filepath.Join(s.dir, "fivesafes.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		return nil, fmt.Errorf("write configuration: %w", err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		return nil, fmt.Errorf("load the sandbox configuration: %w", err)
	}
	return cfg, nil
}

// StartBot starts the bot on a free loopback port and points the emulator's
// webhook at it. extra options apply to this start only.
func (s *Stack) StartBot(ctx context.Context, extra ...app.ServerOption) error {
	if s.bot != nil {
		return errors.New("sandbox: the bot is already running")
	}
	if s.listener == nil {
		kl, err := listenKept("127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		s.listener = kl
	}
	ln := s.listener.view()
	srv, err := app.NewServer(ctx, s.Config, append(slices.Clone(s.serverOpts), extra...)...)
	if err != nil {
		ln.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	b := &bot{server: srv, url: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- srv.Serve(ctx, ln) }()
	s.bot = b
	s.Emulator.SetWebhook(b.url+"/webhook", s.Secret)
	return nil
}

// StopBot shuts the bot down gracefully and closes its database.
func (s *Stack) StopBot() error {
	b := s.bot
	if b == nil {
		return nil
	}
	s.bot = nil
	b.cancel()
	return errors.Join(<-b.done, b.server.Close())
}

// BotURL is the running bot's base URL.
func (s *Stack) BotURL() string {
	if s.bot == nil {
		return ""
	}
	return s.bot.url
}

// Server is the running bot.
func (s *Stack) Server() *app.Server {
	if s.bot == nil {
		return nil
	}
	return s.bot.server
}

// Close stops the agents, the bot and the emulator.
func (s *Stack) Close() error {
	err := errors.Join(s.stopAgents(), s.StopBot())
	if s.listener != nil {
		err = errors.Join(err, s.listener.Close())
	}
	s.Emulator.Close()
	return err
}

func randomSecret() []byte {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return []byte(hex.EncodeToString(b))
}
