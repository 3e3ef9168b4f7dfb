package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/fivesafes/fivesafes/app/sandbox"
)

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	once := fs.Bool("once", false, "run the scenario, then exit: 0 if every step did what it should, 1 if not")
	dir := fs.String("dir", "", "keep the database and configuration in this `directory` (default: a temporary one)")
	verbose := fs.Bool("v", false, "print the bot's and the emulator's logs (JSON) to stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: fivesafes sandbox [--once] [--dir DIR] [-v]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Runs the bot, a GitHub emulator, a backend agent and a demo study in one process:")
		fmt.Fprintln(stderr, "the demo opens a pull request with a valid project.yaml, runs it with `/run all`")
		fmt.Fprintln(stderr, "through the agent (built-in stand-ins for ehrql and summary, so nothing but this")
		fmt.Fprintln(stderr, "binary is needed), releases the table it made through two output checkers'")
		fmt.Fprintln(stderr, "approvals, then pushes a broken project.yaml and asks to run again, and prints")
		fmt.Fprintln(stderr, "what GitHub would show at each step. Without --once it keeps running until")
		fmt.Fprintln(stderr, "interrupted.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "fivesafes-sandbox-")
		if err != nil {
			fmt.Fprintf(stderr, "fivesafes sandbox: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		fmt.Fprintf(stderr, "fivesafes sandbox: %v\n", err)
		return 1
	}
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewJSONHandler(stderr, nil))
	}
	stack, err := sandbox.Start(ctx, sandbox.Options{Dir: *dir, Logger: log,
		SpecFailure: func(err error) { fmt.Fprintf(stderr, "emulator: a request GitHub would reject: %v\n", err) }})
	if err != nil {
		fmt.Fprintf(stderr, "fivesafes sandbox: %v\n", err)
		return 1
	}
	defer stack.Close()
	fmt.Fprintln(stdout, "fivesafes sandbox: the bot, a GitHub emulator and a demo study in one process")
	if err := sandbox.Scenario(ctx, stack, stdout); err != nil {
		fmt.Fprintf(stderr, "fivesafes sandbox: %v\n", err)
		return 1
	}
	if *once {
		return 0
	}
	fmt.Fprintf(stdout, "\nStill running: the bot's pages at %s/ (and %s/metrics), the emulator at %s. Ctrl-C to stop.\n",
		stack.BotURL(), stack.BotURL(), stack.Emulator.URL())
	<-ctx.Done()
	return 0
}
