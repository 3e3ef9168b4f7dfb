package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/runner/agent"
	"github.com/fivesafes/fivesafes/runner/exec"
)

// Images are what the sandbox's agents run each image with: Go stand-ins
// built into this binary, so that the demo needs nothing but Go.
var Images = exec.Images{
	"ehrql":   {"builtin:ehrql"},
	"summary": {"builtin:csv-summary"},
}

// Agent is a backend agent running in the sandbox's process, as
// `fivesafes agent` would in a secure zone.
type Agent struct {
	Backend string
	Config  *agent.Config
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
	err     error
}

// Stop stops the agent. Its jobs carry on under their supervisors, as
// they do when a real agent restarts; a new agent on the same backend
// picks them up.
func (a *Agent) Stop() error {
	a.once.Do(func() {
		a.cancel()
		a.err = <-a.done
	})
	return a.err
}

// StartAgent starts an agent for backend, configured the way an operator
// would (agent.yml with the token in a file), with its high and medium
// privacy stores under the sandbox's directory. Starting one again for the
// same backend reuses its stores and state, as a restarted agent does.
func (s *Stack) StartAgent(ctx context.Context, backend string, opts ...agent.Option) (*Agent, error) {
	token, ok := s.tokens[backend]
	if !ok {
		return nil, fmt.Errorf("sandbox: no backend %q (backends: %s)", backend, strings.Join(s.backendNames(), ", "))
	}
	dir := filepath.Join(s.dir, "backend-"+backend)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "agent-token"), []byte(token+"\n"), 0o600); err != nil {
		return nil, err
	}
	yml := fmt.Sprintf(`# written by fivesafes sandbox
bot_url: %s
backend: %s
token_file: agent-token
workers: 2
high_privacy_dir: high_privacy
medium_privacy_dir: medium_privacy
state_dir: state
executor: local
local:
  images:
%s`, s.BotURL(), backend, imagesYAML(s.images))
	path := filepath.Join(dir, "agent.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		return nil, err
	}
	cfg, err := agent.LoadConfig(path, nil)
	if err != nil {
		return nil, fmt.Errorf("load the sandbox agent's configuration: %w", err)
	}
	e, err := cfg.NewExecutor(s.execOpts...)
	if err != nil {
		return nil, err
	}
	a, err := agent.New(cfg, e, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(logging.With(ctx, s.log.With("backend", backend, "component", "agent")))
	h := &Agent{Backend: backend, Config: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- a.Run(ctx) }()
	s.agents = append(s.agents, h)
	return h, nil
}

func imagesYAML(images exec.Images) string {
	keys := make([]string, 0, len(images))
	for k := range images {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		quoted := make([]string, len(images[k]))
		for i, w := range images[k] {
			quoted[i] = fmt.Sprintf("%q", w)
		}
		fmt.Fprintf(&b, "    %q: [%s]\n", k, strings.Join(quoted, ", "))
	}
	return b.String()
}

// stopAgents stops every agent the stack started.
func (s *Stack) stopAgents() error {
	var errs []error
	for _, a := range s.agents {
		errs = append(errs, a.Stop())
	}
	s.agents = nil
	return errors.Join(errs...)
}

// MediumPrivacyFile is where backend's agent keeps a moderately sensitive
// output of the demo repository's branch (path is relative to the
// workspace, e.g. "output/table1.csv").
func (s *Stack) MediumPrivacyFile(backend, branch, path string) string {
	ws, err := agent.WorkspaceDir(s.Repo.FullName() + "/" + branch)
	if err != nil {
		panic(err) // the demo's names are never empty
	}
	return filepath.Join(s.dir, "backend-"+backend, "medium_privacy", ws, filepath.FromSlash(path))
}

// AgentToken is the bearer token of backend's agent, for tests that speak
// the agent protocol themselves.
func (s *Stack) AgentToken(backend string) string { return s.tokens[backend] }
