// Command fivesafes is the fivesafes GitHub App: the bot server, the local
// sandbox, and the researcher's project.yaml validator.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fivesafes/fivesafes/runner/exec"
)

// command is one subcommand: main only maps its name to a function.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the bot: webhook intake, dispatcher and check runs", runServe},
		{"sandbox", "run the whole flow locally against the built-in GitHub emulator", runSandbox},
		{"validate", "check a project.yaml the way the bot will", func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			return runValidate(args, stdout, stderr)
		}},
		{"agent", "run the backend agent in a secure zone (outbound calls to the bot only)", runAgent},
		{"audit", "verify or export the bot's audit log (read-only)", runAudit},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	if args[0] == exec.SupervisorCommand { // hidden: the agent re-runs itself to supervise each job
		return runAgentSupervise(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "fivesafes: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: fivesafes COMMAND [FLAGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'fivesafes COMMAND -h' for a command's flags.")
}
