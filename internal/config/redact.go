package config

import (
	"fmt"
	"log/slog"
	"strings"
)

const redacted = "[redacted]"

// Secret is a value that never prints: fmt, slog, JSON and YAML all show
// "[redacted]". Use string(s) or []byte(s) where the value itself is needed.
type Secret string

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue shows the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	names := make([]string, len(c.Backends))
	for i, b := range c.Backends {
		names[i] = b.Name
	}
	keySource := "file " + c.GitHub.PrivateKeyFile
	if c.GitHub.PrivateKeyFile == "" {
		keySource = "environment"
	}
	return slog.GroupValue(
		slog.String("listen", c.Listen),
		slog.String("public_url", c.PublicURL),
		slog.String("database", c.Database),
		slog.String("log_level", c.LogLevel.String()),
		slog.Int("workers", c.Workers),
		slog.Group("github",
			slog.String("api_url", c.GitHub.APIURL),
			slog.Int64("app_id", c.GitHub.AppID),
			slog.String("private_key", keySource),
			slog.Int("webhook_secrets", len(c.GitHub.WebhookSecrets)),
		),
		slog.Group("policy",
			slog.String("run_permission", c.Policy.RunPermission),
			slog.String("trigger_label", c.Policy.TriggerLabel),
			slog.String("require", strings.Join(c.Policy.Require, ",")),
		),
		slog.Group("release",
			slog.Int("approvals_required", c.Release.ApprovalsRequired),
			slog.String("users", strings.Join(c.Release.Checkers.Users, ",")),
			slog.String("teams", strings.Join(c.Release.Checkers.Teams, ",")),
		),
		slog.String("backends", strings.Join(names, ",")),
	)
}

// String is LogValue as text: key=value pairs, secrets left out.
func (c Config) String() string {
	var b strings.Builder
	var walk func(prefix string, attrs []slog.Attr)
	walk = func(prefix string, attrs []slog.Attr) {
		for _, a := range attrs {
			if a.Value.Kind() == slog.KindGroup {
				walk(prefix+a.Key+".", a.Value.Group())
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s%s=%q", prefix, a.Key, a.Value.String())
		}
	}
	walk("", c.LogValue().Group())
	return b.String()
}

// GoString keeps %#v from printing the key and secrets.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }
