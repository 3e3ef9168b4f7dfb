package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fivesafes/fivesafes/runner/exec"
)

// EnvToken holds the agent's bearer token; it overrides token_file.
const EnvToken = "FIVESAFES_AGENT_TOKEN"

// Executor names.
const (
	ExecutorLocal  = "local"
	ExecutorDocker = "docker"
)

// Config is agent.yml, validated, with defaults filled in and relative
// paths resolved against the file's directory.
type Config struct {
	BotURL           string
	Backend          string
	Token            string
	Workers          int
	HighPrivacyDir   string
	MediumPrivacyDir string
	StateDir         string
	Executor         string
	LocalImages      exec.Images
	Docker           exec.DockerConfig
	JobTimeout       time.Duration
}

type fileConfig struct {
	BotURL           string     `yaml:"bot_url"`
	Backend          string     `yaml:"backend"`
	TokenFile        string     `yaml:"token_file"`
	Workers          *int       `yaml:"workers"`
	HighPrivacyDir   string     `yaml:"high_privacy_dir"`
	MediumPrivacyDir string     `yaml:"medium_privacy_dir"`
	StateDir         string     `yaml:"state_dir"`
	Executor         string     `yaml:"executor"`
	Local            fileLocal  `yaml:"local"`
	Docker           fileDocker `yaml:"docker"`
	JobTimeout       string     `yaml:"job_timeout"`
}

type fileLocal struct {
	Images map[string][]string `yaml:"images"`
}

type fileDocker struct {
	Binary   string            `yaml:"binary"`
	Registry string            `yaml:"registry"`
	Images   map[string]string `yaml:"images"`
	CPUs     string            `yaml:"cpus"`
	Memory   string            `yaml:"memory"`
	User     string            `yaml:"user"`
}

// DefaultJobTimeout applies when neither the job nor job_timeout sets one.
const DefaultJobTimeout = 24 * time.Hour

var backendPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// LoadConfig reads agent.yml. env reads the environment (nil: none). All
// problems are returned together, each as "FILE: KEY: reason".
func LoadConfig(file string, env func(string) string) (*Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read agent configuration: %w", err)
	}
	var raw fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", file, yamlReason(err))
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", file, key, fmt.Sprintf(format, args...)))
	}
	dir := filepath.Dir(file)
	abs := func(key, p string) string {
		if p == "" {
			bad(key, "is required")
			return ""
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return filepath.Clean(p)
	}
	cfg := &Config{
		BotURL:           strings.TrimRight(raw.BotURL, "/"),
		Backend:          raw.Backend,
		Workers:          2,
		HighPrivacyDir:   abs("high_privacy_dir", raw.HighPrivacyDir),
		MediumPrivacyDir: abs("medium_privacy_dir", raw.MediumPrivacyDir),
		StateDir:         abs("state_dir", raw.StateDir),
		Executor:         raw.Executor,
		JobTimeout:       DefaultJobTimeout,
	}
	if u, err := url.Parse(raw.BotURL); raw.BotURL == "" {
		bad("bot_url", "is required (the bot's base URL, e.g. https://fivesafes.example.org)")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("bot_url", "%q is not an http(s) URL", raw.BotURL)
	}
	if !backendPattern.MatchString(raw.Backend) {
		bad("backend", "%q is not a backend name (lower-case letters, digits, '-', '_')", raw.Backend)
	}
	if raw.Workers != nil {
		if *raw.Workers < 1 || *raw.Workers > 64 {
			bad("workers", "%d is not from 1 to 64", *raw.Workers)
		}
		cfg.Workers = *raw.Workers
	}
	if t := env(EnvToken); t != "" {
		cfg.Token = strings.TrimSpace(t)
	} else if raw.TokenFile == "" {
		bad("token_file", "is required unless %s is set", EnvToken)
	} else {
		p := abs("token_file", raw.TokenFile)
		b, err := os.ReadFile(p)
		if err != nil {
			bad("token_file", "%v", err)
		} else if cfg.Token = strings.TrimSpace(string(b)); cfg.Token == "" {
			bad("token_file", "%s is empty", p)
		}
	}
	if raw.JobTimeout != "" {
		d, err := time.ParseDuration(raw.JobTimeout)
		if err != nil || d <= 0 {
			bad("job_timeout", "%q is not a positive duration such as 12h", raw.JobTimeout)
		}
		cfg.JobTimeout = d
	}
	switch raw.Executor {
	case ExecutorLocal:
		if len(raw.Local.Images) == 0 {
			bad("local.images", "is required with executor: local (e.g. python: [python3], ehrql: [\"builtin:ehrql\"])")
		}
		cfg.LocalImages = exec.Images(raw.Local.Images)
	case ExecutorDocker:
		d := raw.Docker
		cfg.Docker = exec.DockerConfig{Binary: d.Binary, Registry: d.Registry, Images: d.Images, CPUs: d.CPUs, Memory: d.Memory, User: d.User}
	case "":
		bad("executor", "is required: local or docker")
	default:
		bad("executor", "%q is not local or docker", raw.Executor)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// yamlReason rewords the decoder's messages in the file's terms.
func yamlReason(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return unknownField.ReplaceAllString(msg, "unknown key $1")
}

// ExecutorDir is where the executor keeps its per-job state.
func (c *Config) ExecutorDir() string { return filepath.Join(c.StateDir, "jobs") }

// NewExecutor opens the configured executor on ExecutorDir.
func (c *Config) NewExecutor(opts ...exec.Option) (exec.Executor, error) {
	switch c.Executor {
	case ExecutorLocal:
		return exec.NewLocal(c.ExecutorDir(), c.LocalImages, opts...)
	case ExecutorDocker:
		return exec.NewDocker(c.ExecutorDir(), c.Docker, opts...)
	}
	return nil, fmt.Errorf("executor %q is not local or docker", c.Executor)
}
