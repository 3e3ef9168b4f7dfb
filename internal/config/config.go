// Package config loads fivesafes.yml: one YAML file plus environment
// overrides for the secrets. Unknown keys and bad values stop the start with
// errors that name the file, the line, the key and the reason.
package config

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Environment variables that override the file. Both hold secrets, which is
// why they may live outside the file.
const (
	EnvWebhookSecret = "FIVESAFES_WEBHOOK_SECRET"     // replaces github.webhook_secret(s)
	EnvPrivateKey    = "FIVESAFES_GITHUB_PRIVATE_KEY" // PEM text; replaces github.private_key_file
)

// Config is the validated configuration with every default filled in.
type Config struct {
	Listen    string     // host:port of the HTTP server
	PublicURL string     // absolute http(s) URL, no trailing slash
	Database  string     // SQLite file; a relative path is resolved against the config file's directory
	LogLevel  slog.Level // debug, info, warn or error
	Workers   int        // dispatcher workers, 1..64

	GitHub   GitHub
	Policy   Policy
	Runs     Runs
	Release  Release
	Backends []Backend

	// PrivateKey is the GitHub App's private key as PEM (an RSA key, PKCS#1
	// or PKCS#8), already parsed once by Load.
	PrivateKey []byte

	// FileSHA256 is the SHA-256 (lower-case hex) of the file's bytes as Load
	// read them, which the bot records in the audit log at start. LogValue
	// leaves it out, so no log line shows it.
	FileSHA256 string
}

// GitHub is where the app lives and how it proves who it is.
type GitHub struct {
	APIURL         string // REST API base, with a trailing slash (GHES: https://HOST/api/v3/)
	AppID          int64
	PrivateKeyFile string   // empty when the key came from the environment
	WebhookSecrets []Secret // every secret a delivery may be signed with (rotation)
}

// Policy decides who may start runs and on which pull requests.
type Policy struct {
	RunPermission string   // read, triage, write, maintain or admin
	TriggerLabel  string   // a PR label that means "/run all"
	Require       []string // extra conditions: approved, mergeable
}

// Runs configures how jobs are run and shown.
type Runs struct {
	DefaultBackend string        // used without --backend; the first backend unless set
	JobTimeout     time.Duration // wall-clock limit of one job
	Lease          time.Duration // how long an agent holds a task without reporting
	MaxAttempts    int           // claims of a task before its job fails internal_error
	StatusInterval time.Duration // least time between two updates of one check run
}

// Release configures output checking.
type Release struct {
	ApprovalsRequired int
	Checkers          Checkers
}

// Checkers are the people whose approving reviews count for a release.
type Checkers struct {
	Users []string // GitHub logins
	Teams []string // "org/team-slug"
}

// Backend is one secure zone's agent and the SHA-256 of its bearer token.
type Backend struct {
	Name        string
	TokenSHA256 string // 64 lower-case hex digits
}

// Load reads the file at path, applies the environment overrides read
// through env (nil means no environment) and validates the result. All
// problems found are returned together (errors.Join of *FieldError).
func Load(path string, env func(string) string) (*Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	cfg, err := parse(path, data, env)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	cfg.FileSHA256 = hex.EncodeToString(sum[:])
	return cfg, nil
}

// DatabasePath reads only the database key of the file at path and resolves
// it as Load does. Commands that only read the database (fivesafes audit)
// use it, so that they need neither the GitHub App's private key nor the
// webhook secrets, and the rest of the file is not judged.
func DatabasePath(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read configuration: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", syntaxError(path, err)
	}
	idx := indexNodes(&doc)
	var raw struct {
		Database string `yaml:"database"`
	}
	if err := doc.Decode(&raw); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return "", syntaxError(path, err)
		}
		return "", joinErrors(path, translateTypeError(te, idx))
	}
	v := newValidator(idx, filepath.Dir(path), nil, nil)
	db := v.database(raw.Database)
	return db, joinErrors(path, v.errs)
}

// parse checks the contents of the file called name.
func parse(name string, data []byte, env func(string) string) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(name, err)
	}
	idx := indexNodes(&doc)

	var raw fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var errs []*FieldError
	switch err := dec.Decode(&raw); {
	case err == nil, errors.Is(err, io.EOF): // an empty file: the required keys report themselves
	default:
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, syntaxError(name, err)
		}
		errs = append(errs, translateTypeError(te, idx)...)
	}
	if len(doc.Content) > 0 && doc.Content[0].Kind != yaml.MappingNode {
		return nil, joinErrors(name, []*FieldError{{Line: doc.Content[0].Line, Reason: "the file must be a mapping of keys (listen, public_url, github, ...)"}})
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		errs = append(errs, &FieldError{Reason: "more than one YAML document; put everything in one"})
	}

	v := newValidator(idx, filepath.Dir(name), env, errs)
	cfg := v.config(&raw)
	if err := joinErrors(name, v.errs); err != nil {
		return nil, err
	}
	return cfg, nil
}

// FieldError is one problem with one key.
type FieldError struct {
	File   string
	Line   int    // 0 when the key is missing or the line is unknown
	Key    string // dotted path, e.g. "github.app_id" or "backends[1].name"
	Reason string

	// unjudged is set on YAML type errors: the keys under this path were not
	// decoded reliably, so validation leaves them alone ("" is the whole file).
	unjudged *string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// joinErrors reports errors top to bottom, those about missing keys last.
func joinErrors(file string, errs []*FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	order := func(e *FieldError) int {
		if e.Line == 0 {
			return math.MaxInt
		}
		return e.Line
	}
	slices.SortStableFunc(errs, func(a, b *FieldError) int { return cmp.Compare(order(a), order(b)) })
	all := make([]error, len(errs))
	for i, e := range errs {
		e.File = file
		all[i] = e
	}
	return errors.Join(all...)
}

// fileConfig mirrors the YAML file. Pointers tell an absent key (take the
// default) from a present zero (an error).
type fileConfig struct {
	Listen    string        `yaml:"listen"`
	PublicURL string        `yaml:"public_url"`
	Database  string        `yaml:"database"`
	LogLevel  string        `yaml:"log_level"`
	Workers   *int          `yaml:"workers"`
	GitHub    fileGitHub    `yaml:"github"`
	Policy    filePolicy    `yaml:"policy"`
	Runs      fileRuns      `yaml:"runs"`
	Release   fileRelease   `yaml:"release"`
	Backends  []fileBackend `yaml:"backends"`
}

type fileGitHub struct {
	APIURL         string   `yaml:"api_url"`
	AppID          int64    `yaml:"app_id"`
	PrivateKeyFile string   `yaml:"private_key_file"`
	WebhookSecret  *string  `yaml:"webhook_secret"`
	WebhookSecrets []string `yaml:"webhook_secrets"`
}

type filePolicy struct {
	RunPermission string   `yaml:"run_permission"`
	TriggerLabel  string   `yaml:"trigger_label"`
	Require       []string `yaml:"require"`
}

type fileRuns struct {
	DefaultBackend string `yaml:"default_backend"`
	JobTimeout     string `yaml:"job_timeout"`
	Lease          string `yaml:"lease"`
	MaxAttempts    *int   `yaml:"max_attempts"`
	StatusInterval string `yaml:"status_interval"`
}

type fileRelease struct {
	ApprovalsRequired *int         `yaml:"approvals_required"`
	Checkers          fileCheckers `yaml:"checkers"`
}

type fileCheckers struct {
	Users []string `yaml:"users"`
	Teams []string `yaml:"teams"`
}

type fileBackend struct {
	Name        string `yaml:"name"`
	TokenSHA256 string `yaml:"token_sha256"`
}
