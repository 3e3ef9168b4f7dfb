// Package logging carries a *slog.Logger in a context, so that every log line
// about one delivery, repository or job carries the same fixed keys.
package logging

import (
	"context"
	"log/slog"
)

// Fixed keys: one grep follows one event through the system.
const (
	KeyDelivery = "delivery"
	KeyEvent    = "event"
	KeyRepo     = "repo"
	KeyPR       = "pr"
	KeySHA      = "sha"
	KeyCheckRun = "check_run"
	KeyJob      = "job"
	KeyTask     = "task"
	KeyRelease  = "release"
)

type ctxKey struct{}

// With returns a context whose logger is l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the logger carried by ctx, or slog.Default.
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Attrs returns a context whose logger has the given attributes added.
func Attrs(ctx context.Context, args ...any) context.Context {
	return With(ctx, From(ctx).With(args...))
}
