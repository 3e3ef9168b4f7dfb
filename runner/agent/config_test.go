package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "agent.yml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodConfig = `bot_url: https://bot.example.org/
backend: tpp
token_file: token
workers: 3
high_privacy_dir: high
medium_privacy_dir: /srv/medium
state_dir: state
job_timeout: 2h
executor: local
local:
  images:
    python: [python3]
    ehrql: ["builtin:ehrql"]
`

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, goodConfig)
	cfg, err := LoadConfig(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if cfg.BotURL != "https://bot.example.org" || cfg.Backend != "tpp" || cfg.Token != "s3cret" || cfg.Workers != 3 ||
		cfg.HighPrivacyDir != filepath.Join(dir, "high") || cfg.MediumPrivacyDir != "/srv/medium" ||
		cfg.StateDir != filepath.Join(dir, "state") || cfg.JobTimeout != 2*time.Hour ||
		cfg.Executor != ExecutorLocal || cfg.LocalImages["ehrql"][0] != "builtin:ehrql" {
		t.Errorf("config = %+v", cfg)
	}
	cfg, err = LoadConfig(p, func(k string) string {
		if k == EnvToken {
			return "from-env"
		}
		return ""
	})
	if err != nil || cfg.Token != "from-env" {
		t.Errorf("token = %q, %v; want the environment's", cfg.Token, err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		from, to string
		want     string
	}{
		"unknown key":      {"workers: 3", "wrokers: 3", "unknown key wrokers"},
		"bad workers":      {"workers: 3", "workers: 0", "workers: 0 is not from 1 to 64"},
		"bad url":          {"https://bot.example.org/", "ftp://bot", `bot_url: "ftp://bot" is not an http(s) URL`},
		"bad executor":     {"executor: local", "executor: podman", `executor: "podman" is not local or docker`},
		"no images":        {"    python: [python3]\n    ehrql: [\"builtin:ehrql\"]\n", "", "local.images: is required"},
		"bad timeout":      {"job_timeout: 2h", "job_timeout: soon", `job_timeout: "soon" is not a positive duration`},
		"missing state":    {"state_dir: state\n", "", "state_dir: is required"},
		"missing token":    {"token_file: token\n", "", "token_file: is required unless " + EnvToken},
		"bad backend name": {"backend: tpp", "backend: TPP/x", `backend: "TPP/x" is not a backend name`},
		"wrong type":       {"workers: 3", "workers: many", "cannot unmarshal"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text := strings.Replace(goodConfig, tc.from, tc.to, 1)
			if text == goodConfig {
				t.Fatalf("%q is not in the config", tc.from)
			}
			_, err := LoadConfig(writeConfig(t, text), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "agent.yml") {
				t.Errorf("err = %v, want the file name and %q", err, tc.want)
			}
		})
	}
}
