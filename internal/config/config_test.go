package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024) // small: -race makes key work slow
	if err != nil {
		panic(err)
	}
	return k
})

func pkcs1PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())})
}

func pkcs8PEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

const secret = "0123456789abcdef-secret"

// minimal is the smallest valid file; cases add to it or replace it.
const minimal = `public_url: https://bot.example.org
github:
  app_id: 42
  private_key_file: key.pem
  webhook_secret: ` + secret + `
`

// load writes fivesafes.yml (and key.pem unless files says otherwise) into a
// fresh directory and loads it. Error lines come back with the directory
// cut off, so they read "fivesafes.yml:3: ...".
func load(t *testing.T, yml string, env map[string]string, files map[string][]byte) (*Config, []string, error) {
	t.Helper()
	dir := t.TempDir()
	all := map[string][]byte{"key.pem": pkcs1PEM(), "fivesafes.yml": []byte(yml)}
	for name, data := range files {
		all[name] = data
	}
	for name, data := range all {
		if data == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load(filepath.Join(dir, "fivesafes.yml"), func(k string) string { return env[k] })
	if err == nil {
		return cfg, nil, nil
	}
	msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
	return cfg, strings.Split(msg, "\n"), err
}

func TestLoadMinimalFillsDefaults(t *testing.T) {
	cfg, msgs, _ := load(t, minimal, nil, nil)
	if msgs != nil {
		t.Fatalf("Load: %v", msgs)
	}
	want := map[string]any{
		"listen":             ":8080",
		"public_url":         "https://bot.example.org",
		"log_level":          slog.LevelInfo,
		"workers":            4,
		"api_url":            "https://api.github.com/",
		"app_id":             int64(42),
		"run_permission":     "write",
		"trigger_label":      "fivesafes:run-all",
		"approvals_required": 2,
		"secrets":            1,
		"database base":      "fivesafes.db",
		"key file base":      "key.pem",
	}
	got := map[string]any{
		"listen":             cfg.Listen,
		"public_url":         cfg.PublicURL,
		"log_level":          cfg.LogLevel,
		"workers":            cfg.Workers,
		"api_url":            cfg.GitHub.APIURL,
		"app_id":             cfg.GitHub.AppID,
		"run_permission":     cfg.Policy.RunPermission,
		"trigger_label":      cfg.Policy.TriggerLabel,
		"approvals_required": cfg.Release.ApprovalsRequired,
		"secrets":            len(cfg.GitHub.WebhookSecrets),
		"database base":      filepath.Base(cfg.Database),
		"key file base":      filepath.Base(cfg.GitHub.PrivateKeyFile),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if !filepath.IsAbs(cfg.Database) || filepath.Dir(cfg.Database) != filepath.Dir(cfg.GitHub.PrivateKeyFile) {
		t.Errorf("database %q is not resolved next to the config file", cfg.Database)
	}
	if string(cfg.GitHub.WebhookSecrets[0]) != secret {
		t.Errorf("webhook secret not kept")
	}
	if _, err := ParseRSAPrivateKey(cfg.PrivateKey); err != nil {
		t.Errorf("Config.PrivateKey does not parse: %v", err)
	}
}

func TestLoadValues(t *testing.T) {
	cases := map[string]struct {
		yml   string
		env   map[string]string
		files map[string][]byte
		check func(*Config) string
	}{
		"GHES api_url gets its trailing slash": {
			yml:   minimal + "  api_url: https://ghe.example.com/api/v3\n",
			check: func(c *Config) string { return c.GitHub.APIURL + " want https://ghe.example.com/api/v3/" },
		},
		"public_url loses its trailing slash": {
			yml:   strings.Replace(minimal, "https://bot.example.org", "https://bot.example.org/fivesafes/", 1),
			check: func(c *Config) string { return c.PublicURL + " want https://bot.example.org/fivesafes" },
		},
		"log level and workers": {
			yml:   minimal + "log_level: DEBUG\nworkers: 64\n",
			check: func(c *Config) string { return fmt.Sprint(c.LogLevel, c.Workers) + " want DEBUG 64" },
		},
		"webhook_secrets lists several for rotation": {
			yml:   strings.Replace(minimal, "webhook_secret: "+secret, "webhook_secrets: ["+secret+", older-secret-0123456789]", 1),
			check: func(c *Config) string { return fmt.Sprint(len(c.GitHub.WebhookSecrets)) + " want 2" },
		},
		"FIVESAFES_WEBHOOK_SECRET replaces the file's secrets": {
			yml: minimal,
			env: map[string]string{EnvWebhookSecret: "from-the-environment-123"},
			check: func(c *Config) string {
				return fmt.Sprint(len(c.GitHub.WebhookSecrets), string(c.GitHub.WebhookSecrets[0])) + " want 1from-the-environment-123"
			},
		},
		"FIVESAFES_GITHUB_PRIVATE_KEY replaces private_key_file, which need not exist": {
			yml:   minimal,
			env:   map[string]string{EnvPrivateKey: string(pkcs1PEM())},
			files: map[string][]byte{"key.pem": nil},
			check: func(c *Config) string {
				return fmt.Sprint(c.GitHub.PrivateKeyFile == "", bytes.Equal(c.PrivateKey, pkcs1PEM())) + " want true true"
			},
		},
		"a key from the environment may have its newlines escaped": {
			yml: minimal,
			env: map[string]string{EnvPrivateKey: strings.ReplaceAll(string(pkcs1PEM()), "\n", `\n`)},
			check: func(c *Config) string {
				return fmt.Sprint(bytes.Equal(c.PrivateKey, pkcs1PEM())) + " want true"
			},
		},
		"a PKCS#8 RSA key": {
			yml:   minimal,
			files: map[string][]byte{"key.pem": pkcs8PEM(t, testKey())},
			check: func(c *Config) string {
				return fmt.Sprint(bytes.HasPrefix(c.PrivateKey, []byte("-----BEGIN PRIVATE KEY"))) + " want true"
			},
		},
		"runs default to the first backend and safe limits": {
			yml: minimal + "backends:\n  - {name: tpp, token_sha256: " + strings.Repeat("ab", 32) + "}\n  - {name: emis, token_sha256: " + strings.Repeat("cd", 32) + "}\n",
			check: func(c *Config) string {
				return fmt.Sprint(c.Runs) + " want {tpp 24h0m0s 2m0s 3 5s}"
			},
		},
		"runs as configured": {
			yml: minimal + "runs: {default_backend: emis, job_timeout: 90m, lease: 30s, max_attempts: 5, status_interval: 0s}\nbackends:\n  - {name: tpp, token_sha256: " + strings.Repeat("ab", 32) + "}\n  - {name: emis, token_sha256: " + strings.Repeat("cd", 32) + "}\n",
			check: func(c *Config) string {
				return fmt.Sprint(c.Runs) + " want {emis 1h30m0s 30s 5 0s}"
			},
		},
		"policy, release and backends": {
			yml: minimal + `policy:
  run_permission: maintain
  trigger_label: run-it
  require: [approved, mergeable]
release:
  approvals_required: 1
  checkers: {users: [ana], teams: [org/checkers]}
backends:
  - {name: tpp, token_sha256: ` + strings.Repeat("AB", 32) + `}
  - {name: emis-2, token_sha256: ` + strings.Repeat("cd", 32) + `}
`,
			check: func(c *Config) string {
				return fmt.Sprint(c.Policy, c.Release, c.Backends) + " want {maintain run-it [approved mergeable]} {1 {[ana] [org/checkers]}} [{tpp " + strings.Repeat("ab", 32) + "} {emis-2 " + strings.Repeat("cd", 32) + "}]"
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, msgs, _ := load(t, tc.yml, tc.env, tc.files)
			if msgs != nil {
				t.Fatalf("Load: %q", msgs)
			}
			got, want, _ := strings.Cut(tc.check(cfg), " want ")
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		yml   string
		env   map[string]string
		files map[string][]byte
		want  []string // every error line, in order; one ending in "..." is a prefix
	}{
		"an empty file names every required key": {
			yml: "",
			want: []string{
				"fivesafes.yml: public_url: required (the address GitHub and people reach the bot at, e.g. https://fivesafes.example.org; check runs link to its pages)",
				"fivesafes.yml: github.app_id: required (the GitHub App's numeric ID, from its settings page)",
				"fivesafes.yml: github.private_key_file: required (the .pem private key generated on the GitHub App's settings page; or set FIVESAFES_GITHUB_PRIVATE_KEY to its text)",
				"fivesafes.yml: github.webhook_secret: required (the webhook secret set on the GitHub App's settings page; webhook_secrets lists several while rotating; or set FIVESAFES_WEBHOOK_SECRET)",
			},
		},
		"unknown top-level key, with its line and a suggestion": {
			yml:  minimal + "lisen: :9000\n",
			want: []string{`fivesafes.yml:6: lisen: unknown key (did you mean "listen"?)`},
		},
		"unknown nested key lists the keys known there": {
			yml:  minimal + "  token: x\n",
			want: []string{"fivesafes.yml:6: github.token: unknown key (known here: api_url, app_id, private_key_file, webhook_secret, webhook_secrets)"},
		},
		"unknown key inside a list item": {
			yml:  minimal + "backends:\n  - name: tpp\n    token_sha256: " + strings.Repeat("a", 64) + "\n    tokn: x\n",
			want: []string{"fivesafes.yml:9: backends[0].tokn: unknown key (known here: name, token_sha256)"},
		},
		"a word where a number belongs": {
			yml:  minimal + "workers: four\n",
			want: []string{`fivesafes.yml:6: workers: want a whole number, got text "four"`},
		},
		"app_id of the wrong type is reported once": {
			yml:  strings.Replace(minimal, "app_id: 42", "app_id: my-app", 1),
			want: []string{`fivesafes.yml:3: github.app_id: want a whole number, got text "my-app"`},
		},
		"a mapping where a list belongs": {
			yml:  minimal + "policy:\n  require: {approved: true}\n",
			want: []string{"fivesafes.yml:7: policy.require: want a list, got a mapping"},
		},
		"a repeated key": {
			yml:  minimal + "workers: 2\nworkers: 3\n",
			want: []string{"fivesafes.yml:7: workers: key repeated (first given at line 6)"},
		},
		"a repeated key in a section leaves the other sections judged": {
			yml: minimal + "  app_id: 43\nworkers: 0\n",
			want: []string{
				"fivesafes.yml:6: github.app_id: key repeated (first given at line 3)",
				"fivesafes.yml:7: workers: want a number from 1 to 64, got 0",
			},
		},
		"YAML that does not parse": {
			yml:  "public_url: [\n",
			want: []string{"fivesafes.yml:1: not valid YAML: did not find expected node content"},
		},
		"a top-level list": {
			yml:  "- listen\n",
			want: []string{"fivesafes.yml:1: the file must be a mapping of keys (listen, public_url, github, ...)"},
		},
		"two documents": {
			yml:  minimal + "---\nworkers: 2\n",
			want: []string{"fivesafes.yml: more than one YAML document; put everything in one"},
		},
		"listen without a port": {
			yml:  minimal + "listen: localhost\n",
			want: []string{`fivesafes.yml:6: listen: want host:port, e.g. ":8080" or "127.0.0.1:8080", got "localhost"`},
		},
		"public_url not absolute": {
			yml:  strings.Replace(minimal, "https://bot.example.org", "bot.example.org", 1),
			want: []string{`fivesafes.yml:1: public_url: want an absolute http:// or https:// URL, got "bot.example.org"`},
		},
		"public_url with a query": {
			yml:  strings.Replace(minimal, "https://bot.example.org", "https://bot.example.org/?a=1", 1),
			want: []string{`fivesafes.yml:1: public_url: want a plain URL without user, query or fragment, got "https://bot.example.org/?a=1"`},
		},
		"database set empty": {
			yml:  minimal + "database: ''\n",
			want: []string{`fivesafes.yml:6: database: empty; remove the key to use "fivesafes.db"`},
		},
		"log level": {
			yml:  minimal + "log_level: loud\n",
			want: []string{`fivesafes.yml:6: log_level: want one of debug, info, warn, error, got "loud"`},
		},
		"a fraction where a whole number belongs": {
			yml: strings.Replace(minimal, "app_id: 42", "app_id: 42.5", 1) + "workers: 1.5\n",
			want: []string{
				"fivesafes.yml:3: github.app_id: want a whole number, got 42.5",
				"fivesafes.yml:6: workers: want a whole number, got 1.5",
			},
		},
		"workers 0": {
			yml:  minimal + "workers: 0\n",
			want: []string{"fivesafes.yml:6: workers: want a number from 1 to 64, got 0"},
		},
		"workers 65": {
			yml:  minimal + "workers: 65\n",
			want: []string{"fivesafes.yml:6: workers: want a number from 1 to 64, got 65"},
		},
		"api_url pointing at the web site": {
			yml:  minimal + "  api_url: https://github.com\n",
			want: []string{`fivesafes.yml:6: github.api_url: "https://github.com" is GitHub's web address; its API is at https://api.github.com/`},
		},
		"api_url with another scheme": {
			yml:  minimal + "  api_url: ftp://ghe.example.com/api/v3/\n",
			want: []string{`fivesafes.yml:6: github.api_url: want an absolute http:// or https:// URL, got "ftp://ghe.example.com/api/v3/"`},
		},
		"app_id 0": {
			yml:  strings.Replace(minimal, "app_id: 42", "app_id: 0", 1),
			want: []string{"fivesafes.yml:3: github.app_id: want the GitHub App's ID, a number above 0, got 0"},
		},
		"key file missing": {
			yml:   minimal,
			files: map[string][]byte{"key.pem": nil},
			want:  []string{"fivesafes.yml:4: github.private_key_file: key.pem does not exist"},
		},
		"key file is not PEM": {
			yml:   minimal,
			files: map[string][]byte{"key.pem": []byte("ssh-rsa AAAA")},
			want:  []string{"fivesafes.yml:4: github.private_key_file: key.pem: no PEM block found; want the .pem file GitHub generated for the app (-----BEGIN RSA PRIVATE KEY----- ...)"},
		},
		"key file holds an EC key": {
			yml:   minimal,
			files: map[string][]byte{"key.pem": pkcs8PEM(t, ecKey)},
			want:  []string{"fivesafes.yml:4: github.private_key_file: key.pem: a *ecdsa.PrivateKey, but GitHub App keys are RSA"},
		},
		"key file holds a certificate": {
			yml:   minimal,
			files: map[string][]byte{"key.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})},
			want:  []string{`fivesafes.yml:4: github.private_key_file: key.pem: the PEM block is a "CERTIFICATE"; want an RSA PRIVATE KEY or PRIVATE KEY`},
		},
		"key file with a broken PKCS#1 body": {
			yml:   minimal,
			files: map[string][]byte{"key.pem": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2, 3}})},
			want:  []string{"fivesafes.yml:4: github.private_key_file: key.pem: not a valid PKCS#1 RSA private key: asn1: ..."},
		},
		"a bad key in the environment is named as such": {
			yml:  minimal,
			env:  map[string]string{EnvPrivateKey: "not a key"},
			want: []string{"fivesafes.yml: FIVESAFES_GITHUB_PRIVATE_KEY (environment): no PEM block found; want the .pem file GitHub generated for the app (-----BEGIN RSA PRIVATE KEY----- ...)"},
		},
		"both webhook_secret and webhook_secrets": {
			yml:  minimal + "  webhook_secrets: [" + secret + "]\n",
			want: []string{"fivesafes.yml:6: github.webhook_secrets: give either webhook_secret or webhook_secrets, not both"},
		},
		"a short webhook secret": {
			yml:  strings.Replace(minimal, secret, "hunter2", 1),
			want: []string{"fivesafes.yml:5: github.webhook_secret: too short: want at least 16 characters; generate one with: openssl rand -hex 32"},
		},
		"a webhook secret ending in a newline": {
			yml:  strings.Replace(minimal, secret, `"`+secret+`\n"`, 1),
			want: []string{"fivesafes.yml:5: github.webhook_secret: starts or ends with white space (a newline from a file?); GitHub would sign with a different secret"},
		},
		"an empty webhook_secrets list": {
			yml:  strings.Replace(minimal, "webhook_secret: "+secret, "webhook_secrets: []", 1),
			want: []string{"fivesafes.yml:5: github.webhook_secrets: empty; list at least one secret"},
		},
		"a secret listed twice, another too short": {
			yml: strings.Replace(minimal, "webhook_secret: "+secret, "webhook_secrets:\n    - "+secret+"\n    - "+secret+"\n    - hunter2", 1),
			want: []string{
				"fivesafes.yml:7: github.webhook_secrets[1]: same secret as github.webhook_secrets[0]",
				"fivesafes.yml:8: github.webhook_secrets[2]: too short: want at least 16 characters; generate one with: openssl rand -hex 32",
			},
		},
		"a short secret in the environment is named as such": {
			yml:  minimal,
			env:  map[string]string{EnvWebhookSecret: "hunter2"},
			want: []string{"fivesafes.yml: FIVESAFES_WEBHOOK_SECRET (environment): too short: want at least 16 characters; generate one with: openssl rand -hex 32"},
		},
		"a secret of the wrong type does not show its value": {
			yml:  strings.Replace(minimal, "webhook_secret: "+secret, "webhook_secrets: "+secret, 1),
			want: []string{"fivesafes.yml:5: github.webhook_secrets: want a list, got text"},
		},
		"run permission": {
			yml:  minimal + "policy: {run_permission: owner}\n",
			want: []string{`fivesafes.yml:6: policy.run_permission: want one of read, triage, write, maintain, admin, got "owner"`},
		},
		"a job timeout that is not a duration": {
			yml:  minimal + "runs: {job_timeout: 2 days}\n",
			want: []string{`fivesafes.yml:6: runs.job_timeout: want a duration such as 90s, 15m or 24h, got "2 days"`},
		},
		"a lease out of range": {
			yml:  minimal + "runs: {lease: 2h}\n",
			want: []string{"fivesafes.yml:6: runs.lease: want from 1s to 1h0m0s, got 2h"},
		},
		"a default backend that is not configured": {
			yml:  minimal + "runs: {default_backend: emis}\nbackends:\n  - {name: tpp, token_sha256: " + strings.Repeat("ab", 32) + "}\n",
			want: []string{`fivesafes.yml:6: runs.default_backend: "emis" is not the name of a backend (backends: tpp)`},
		},
		"empty trigger label": {
			yml:  minimal + "policy: {trigger_label: ''}\n",
			want: []string{`fivesafes.yml:6: policy.trigger_label: empty; remove the key to use "fivesafes:run-all"`},
		},
		"trigger label over 50 characters": {
			yml:  minimal + "policy: {trigger_label: " + strings.Repeat("x", 51) + "}\n",
			want: []string{"fivesafes.yml:6: policy.trigger_label: longer than GitHub's 50-character limit for label names"},
		},
		"unknown and repeated requirements": {
			yml: minimal + "policy:\n  require: [approved, green, approved]\n",
			want: []string{
				`fivesafes.yml:7: policy.require[1]: want one of approved, mergeable, got "green"`,
				`fivesafes.yml:7: policy.require[2]: "approved" is listed twice`,
			},
		},
		"approvals_required 0": {
			yml:  minimal + "release: {approvals_required: 0}\n",
			want: []string{"fivesafes.yml:6: release.approvals_required: want a number from 1 to 100, got 0"},
		},
		"checker logins": {
			yml: minimal + "release:\n  approvals_required: 1\n  checkers:\n    users: ['@ana', bad--name, Ben, ben]\n",
			want: []string{
				`fivesafes.yml:9: release.checkers.users[0]: write the login without @: "ana"`,
				`fivesafes.yml:9: release.checkers.users[1]: "bad--name" is not a GitHub login`,
				`fivesafes.yml:9: release.checkers.users[3]: "ben" is listed twice`,
			},
		},
		"checker teams": {
			yml:  minimal + "release:\n  checkers:\n    teams: [checkers]\n",
			want: []string{`fivesafes.yml:8: release.checkers.teams[0]: want "org/team-slug", got "checkers"`},
		},
		"more approvals than checkers": {
			yml:  minimal + "release:\n  checkers: {users: [ana]}\n",
			want: []string{"fivesafes.yml: release.approvals_required: 2 approvals can never be given by the 1 checker(s) listed in release.checkers.users"},
		},
		"backends": {
			yml: minimal + "backends:\n" +
				"  - {name: TPP, token_sha256: " + strings.Repeat("a", 64) + "}\n" +
				"  - {name: tpp, token_sha256: " + strings.Repeat("A", 64) + "}\n" +
				"  - {name: tpp, token_sha256: abc}\n" +
				"  - {token_sha256: " + strings.Repeat("b", 64) + "}\n" +
				"  - {name: emis}\n",
			want: []string{
				`fivesafes.yml:7: backends[0].name: want lower-case letters, digits and -, got "TPP"`,
				"fivesafes.yml:8: backends[1].token_sha256: same token as backends[0]; give each backend its own token",
				`fivesafes.yml:9: backends[2].name: "tpp" is already the name of backends[1]`,
				`fivesafes.yml:9: backends[2].token_sha256: want 64 hex digits, the SHA-256 of the agent's token (printf %s "$TOKEN" | sha256sum)`,
				`fivesafes.yml: backends[3].name: required (a short name such as "tpp", used in /run --backend NAME)`,
				`fivesafes.yml: backends[4].token_sha256: required (the SHA-256 of the backend agent's token, never the token: printf %s "$TOKEN" | sha256sum)`,
			},
		},
		"several kinds of error at once": {
			yml: "listen: 80\nworkers: many\ngithub:\n  app_id: 1\n  privat_key_file: k.pem\n",
			want: []string{
				`fivesafes.yml:1: listen: want host:port, e.g. ":8080" or "127.0.0.1:8080", got "80"`,
				`fivesafes.yml:2: workers: want a whole number, got text "many"`,
				`fivesafes.yml:5: github.privat_key_file: unknown key (did you mean "private_key_file"?)`,
				"fivesafes.yml: public_url: required (the address GitHub and people reach the bot at, e.g. https://fivesafes.example.org; check runs link to its pages)",
				"fivesafes.yml: github.private_key_file: required (the .pem private key generated on the GitHub App's settings page; or set FIVESAFES_GITHUB_PRIVATE_KEY to its text)",
				"fivesafes.yml: github.webhook_secret: required (the webhook secret set on the GitHub App's settings page; webhook_secrets lists several while rotating; or set FIVESAFES_WEBHOOK_SECRET)",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, msgs, err := load(t, tc.yml, tc.env, tc.files)
			if err == nil {
				t.Fatalf("Load succeeded, want errors %q", tc.want)
			}
			if cfg != nil {
				t.Errorf("Load returned a config with its errors")
			}
			if !slices.EqualFunc(msgs, tc.want, func(got, want string) bool {
				if prefix, ok := strings.CutSuffix(want, "..."); ok {
					return strings.HasPrefix(got, prefix)
				}
				return got == want
			}) {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(msgs, "\n  "), strings.Join(tc.want, "\n  "))
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.File == "" {
				t.Errorf("error is not a *FieldError naming the file: %#v", err)
			}
			for _, s := range []string{secret, "hunter2"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows a secret: %v", err)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yml"), nil)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.yml") {
		t.Errorf("Load of a missing file: %v, want a not-exist error naming it", err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	cfg, msgs, _ := load(t, strings.Replace(minimal, "webhook_secret: "+secret, "webhook_secrets: ["+secret+", other-secret-0123456789]", 1), nil, nil)
	if msgs != nil {
		t.Fatal(msgs)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", cfg, "github", cfg.GitHub)
	js, err := json.Marshal(cfg.GitHub)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":         fmt.Sprintf("%v", cfg),
		"%+v":        fmt.Sprintf("%+v", *cfg),
		"%#v":        fmt.Sprintf("%#v", *cfg),
		"%+v github": fmt.Sprintf("%+v", cfg.GitHub),
		"%#v github": fmt.Sprintf("%#v", cfg.GitHub),
		"slog":       logged.String(),
		"json":       string(js),
	}
	for how, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, "other-secret") || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("%s shows a secret: %s", how, out)
		}
	}
	if !strings.Contains(outputs["%v"], `github.webhook_secrets="2"`) || !strings.Contains(outputs["%v"], `public_url="https://bot.example.org"`) {
		t.Errorf("String() = %s, want the settings with the secrets counted", outputs["%v"])
	}
}

func TestExampleLoads(t *testing.T) {
	cfg, msgs, _ := load(t, Example, nil, map[string][]byte{"fivesafes.private-key.pem": pkcs1PEM()})
	if msgs != nil {
		t.Fatalf("Example does not load:\n%s", strings.Join(msgs, "\n"))
	}
	if cfg.GitHub.AppID != 123456 || len(cfg.Backends) != 1 || cfg.Release.Checkers.Teams[0] != "example-org/output-checkers" {
		t.Errorf("Example loaded as %v", cfg)
	}
}

func TestLoadHashesTheFileItReadAndNeverLogsIt(t *testing.T) {
	t.Parallel()
	sha := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	cfg, msgs, _ := load(t, minimal, nil, nil)
	if msgs != nil {
		t.Fatal(msgs)
	}
	if cfg.FileSHA256 != sha(minimal) {
		t.Errorf("FileSHA256 = %q, want the SHA-256 of the file's bytes %q", cfg.FileSHA256, sha(minimal))
	}
	// The same settings written differently are a different file.
	other, msgs, _ := load(t, "# comment\n"+minimal, nil, nil)
	if msgs != nil || other.FileSHA256 == cfg.FileSHA256 {
		t.Errorf("a changed file hashes the same (%v)", msgs)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("starting", "config", cfg)
	for how, out := range map[string]string{"%v": fmt.Sprint(cfg), "%+v": fmt.Sprintf("%+v", *cfg), "%#v": fmt.Sprintf("%#v", *cfg), "slog": logged.String()} {
		if strings.Contains(out, cfg.FileSHA256) {
			t.Errorf("%s shows the file's hash: %s", how, out)
		}
	}
}

func TestDatabasePathReadsOnlyTheDatabaseKey(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		yml  string
		want string // relative to the file's directory unless absolute
		err  string
	}{
		"only the key": {yml: "database: data/bot.db\n", want: "data/bot.db"},
		"default":      {yml: "public_url: https://bot.example.org\n", want: DefaultDatabase},
		"empty file":   {yml: "", want: DefaultDatabase},
		"absolute":     {yml: "database: /var/lib/fivesafes/bot.db\n", want: "/var/lib/fivesafes/bot.db"},
		"the rest is not judged (no key file, bad values, unknown keys)": {
			yml: "public_url: notaurl\ngithub:\n  app_id: 0\n  private_key_file: missing.pem\n  webhok_secret: x\ndatabase: bot.db\n", want: "bot.db"},
		"set empty":     {yml: "listen: ':1'\ndatabase: ''\n", err: `fivesafes.yml:2: database: empty; remove the key to use "fivesafes.db"`},
		"not a string":  {yml: "database:\n  - a.db\n", err: "fivesafes.yml:2: database: want text, got a list"},
		"not a mapping": {yml: "- database\n", err: "fivesafes.yml:1: want a mapping, got a list"},
		"bad YAML":      {yml: "database: [\n", err: "fivesafes.yml:1: not valid YAML"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "fivesafes.yml")
			if err := os.WriteFile(path, []byte(tc.yml), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := DatabasePath(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), tc.err) {
					t.Fatalf("DatabasePath = %q, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			want := tc.want
			if !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if err != nil || got != want {
				t.Fatalf("DatabasePath = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestDatabasePathAgreesWithLoad(t *testing.T) {
	t.Parallel()
	for _, yml := range []string{minimal, minimal + "database: sub/x.db\n"} {
		cfg, msgs, _ := load(t, yml, nil, nil)
		if msgs != nil {
			t.Fatal(msgs)
		}
		got, err := DatabasePath(filepath.Join(filepath.Dir(cfg.GitHub.PrivateKeyFile), "fivesafes.yml"))
		if err != nil || got != cfg.Database {
			t.Errorf("DatabasePath = %q, %v; Load says %q", got, err, cfg.Database)
		}
	}
	if _, err := DatabasePath(filepath.Join(t.TempDir(), "nope.yml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DatabasePath of a missing file: %v, want a not-exist error", err)
	}
}
