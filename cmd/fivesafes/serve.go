package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/fivesafes/fivesafes/app"
	"github.com/fivesafes/fivesafes/internal/config"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "fivesafes.yml", "configuration `file`")
	example := fs.Bool("example-config", false, "print a commented example configuration and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: fivesafes serve [--config fivesafes.yml]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Runs the bot: POST /webhook for GitHub, GET /healthz, /readyz and /metrics.")
		fmt.Fprintf(stderr, "Secrets may come from the environment: %s, %s.\n\n", config.EnvWebhookSecret, config.EnvPrivateKey)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *example {
		io.WriteString(stdout, config.Example)
		return 0
	}
	cfg, err := config.Load(*path, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "fivesafes serve: %v\n", err)
		fmt.Fprintln(stderr, "(run 'fivesafes serve --example-config' for a commented example)")
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	log.Info("starting", "config", cfg)

	srv, err := app.NewServer(ctx, cfg, app.WithLogger(log))
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Listen, "err", err)
		return 1
	}
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
