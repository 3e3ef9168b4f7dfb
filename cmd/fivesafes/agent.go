package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/runner/agent"
	"github.com/fivesafes/fivesafes/runner/exec"
)

const agentUsage = `Usage: fivesafes agent [--config agent.yml]

Run the backend agent inside a secure zone. It makes only outbound HTTP(S)
calls to the bot: it claims tasks, runs jobs with the configured executor,
keeps their outputs in the high privacy store, copies moderately sensitive
outputs that pass the level-4 gates to the medium privacy store, and reports
status codes, exit codes and file names, sizes and hashes. Logs and file
contents never leave the zone.

Jobs run under a supervisor ('fivesafes ` + exec.SupervisorCommand + `') and survive a restart
of the agent; a new agent on the same state_dir picks them up.

The bearer token comes from ` + agent.EnvToken + ` or token_file.

Example agent.yml:

  bot_url: https://fivesafes.example.org
  backend: tpp
  token_file: /etc/fivesafes/agent-token
  workers: 4
  high_privacy_dir: /srv/high_privacy/workspaces
  medium_privacy_dir: /srv/medium_privacy/workspaces
  state_dir: /var/lib/fivesafes-agent
  job_timeout: 24h
  executor: docker            # or local, for development
  docker:
    registry: ghcr.io/opensafely-core
    cpus: "4"
    memory: 16g
  local:
    images:
      python: [python3]
      ehrql: ["builtin:ehrql"]

Flags:
  --config FILE   the agent's configuration (default agent.yml)
`

// runAgent is `fivesafes agent`.
func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("agent", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	path := flags.String("config", "agent.yml", "configuration file")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, agentUsage)
			return 0
		}
		fmt.Fprintf(stderr, "fivesafes agent: %v\n\n%s", err, agentUsage)
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "fivesafes agent: unexpected argument %q\n\n%s", flags.Arg(0), agentUsage)
		return 2
	}
	cfg, err := agent.LoadConfig(*path, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "fivesafes agent: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("backend", cfg.Backend)
	ctx = logging.With(ctx, log)
	e, err := cfg.NewExecutor()
	if err != nil {
		log.Error("cannot open the executor", "err", err)
		return 1
	}
	a, err := agent.New(cfg, e)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	log.Info("agent starting", "bot_url", cfg.BotURL, "executor", cfg.Executor, "workers", cfg.Workers)
	if err := a.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	log.Info("agent stopped; running jobs carry on under their supervisors")
	return 0
}

// runAgentSupervise is the hidden `fivesafes agent-supervise` that the
// executors re-execute to supervise a job; main must route
// exec.SupervisorCommand here.
func runAgentSupervise(_ context.Context, args []string, _, _ io.Writer) int {
	return exec.SupervisorMain(args)
}
