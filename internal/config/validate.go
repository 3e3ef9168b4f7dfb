package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults for keys the file may leave out.
const (
	DefaultListen        = ":8080"
	DefaultDatabase      = "fivesafes.db"
	DefaultWorkers       = 4
	DefaultAPIURL        = "https://api.github.com/"
	DefaultRunPermission = "write"
	DefaultTriggerLabel  = "fivesafes:run-all"
	DefaultApprovals     = 2
	DefaultJobTimeout    = 24 * time.Hour
	DefaultLease         = 2 * time.Minute
	DefaultMaxAttempts   = 3
	DefaultStatusEvery   = 5 * time.Second

	// MinSecretLen is the shortest webhook secret accepted.
	MinSecretLen = 16
)

// Values some keys are limited to, in the order messages list them.
var (
	RunPermissions  = []string{"read", "triage", "write", "maintain", "admin"}
	RunRequirements = []string{"approved", "mergeable"}
	logLevels       = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	reBackendName   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	reHexSHA256     = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	reLogin         = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$`)
	reTeamSlug      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

const secretGenerateIt = "generate one with: openssl rand -hex 32"

// validator turns the file form into a Config, collecting every problem.
type validator struct {
	idx *nodeIndex
	dir string // relative paths are resolved against the config file's directory
	env func(string) string

	errs     []*FieldError
	unjudged []string // paths with a YAML type error: their values are not judged again
}

func newValidator(idx *nodeIndex, dir string, env func(string) string, typeErrs []*FieldError) *validator {
	v := &validator{idx: idx, dir: dir, env: env, errs: typeErrs}
	for _, e := range typeErrs {
		if e.unjudged != nil {
			v.unjudged = append(v.unjudged, *e.unjudged)
		}
	}
	return v
}

// fail records a problem with the value at key; line comes from the index.
func (v *validator) fail(key, format string, args ...any) {
	for _, b := range v.unjudged {
		if b == "" || key == b || strings.HasPrefix(key, b+".") || strings.HasPrefix(key, b+"[") {
			return
		}
	}
	v.errs = append(v.errs, &FieldError{Line: v.idx.line(key), Key: key, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) present(key string) bool {
	_, ok := v.idx.values[key]
	return ok
}

func (v *validator) config(raw *fileConfig) *Config {
	c := &Config{
		Listen:    v.listen(raw.Listen),
		PublicURL: v.publicURL(raw.PublicURL),
		Database:  v.database(raw.Database),
		LogLevel:  v.logLevel(raw.LogLevel),
		Workers:   v.intIn("workers", raw.Workers, DefaultWorkers, 1, 64),
	}
	c.GitHub, c.PrivateKey = v.github(&raw.GitHub)
	c.Policy = v.policy(&raw.Policy)
	c.Release = v.release(&raw.Release)
	c.Backends = v.backends(raw.Backends)
	c.Runs = v.runs(&raw.Runs, c.Backends)
	return c
}

func (v *validator) listen(s string) string {
	if s == "" {
		if v.present("listen") {
			v.fail("listen", "empty; remove the key to use %q", DefaultListen)
		}
		return DefaultListen
	}
	_, port, err := net.SplitHostPort(s)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		v.fail("listen", "want host:port, e.g. \":8080\" or \"127.0.0.1:8080\", got %q", s)
	}
	return s
}

func (v *validator) publicURL(s string) string {
	if s == "" {
		v.fail("public_url", "required (the address GitHub and people reach the bot at, e.g. https://fivesafes.example.org; check runs link to its pages)")
		return ""
	}
	u, ok := v.httpURL("public_url", s)
	if !ok {
		return s
	}
	return strings.TrimRight(u.String(), "/")
}

// httpURL parses an absolute http(s) URL without query, fragment or password.
func (v *validator) httpURL(key, s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		v.fail(key, "not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		v.fail(key, "want an absolute http:// or https:// URL, got %q", s)
	case u.Host == "":
		v.fail(key, "no host in %q", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		v.fail(key, "want a plain URL without user, query or fragment, got %q", u.Redacted())
	default:
		return u, true
	}
	return nil, false
}

func (v *validator) database(s string) string {
	if s == "" {
		if v.present("database") {
			v.fail("database", "empty; remove the key to use %q", DefaultDatabase)
		}
		s = DefaultDatabase
	}
	if s == ":memory:" || strings.HasPrefix(s, "file:") {
		return s
	}
	return v.resolve(s)
}

func (v *validator) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(v.dir, p)
}

func (v *validator) logLevel(s string) slog.Level {
	if s == "" {
		return slog.LevelInfo
	}
	l, ok := logLevels[strings.ToLower(s)]
	if !ok {
		v.fail("log_level", "want one of debug, info, warn, error, got %q", s)
	}
	return l
}

// wholeNumber rejects a fraction, which yaml.v3 would quietly truncate.
func (v *validator) wholeNumber(key string) bool {
	if n, ok := v.idx.values[key]; ok && n.ShortTag() == "!!float" {
		v.fail(key, "want a whole number, got %s", n.Value)
		return false
	}
	return true
}

func (v *validator) intIn(key string, p *int, def, lo, hi int) int {
	if p == nil {
		return def
	}
	if !v.wholeNumber(key) {
		return *p
	}
	if *p < lo || *p > hi {
		v.fail(key, "want a number from %d to %d, got %d", lo, hi, *p)
	}
	return *p
}

func (v *validator) github(raw *fileGitHub) (GitHub, []byte) {
	g := GitHub{APIURL: DefaultAPIURL, AppID: raw.AppID}
	if raw.APIURL != "" {
		g.APIURL = v.apiURL(raw.APIURL)
	}
	switch {
	case !v.present("github.app_id"):
		v.fail("github.app_id", "required (the GitHub App's numeric ID, from its settings page)")
	case !v.wholeNumber("github.app_id"):
	case raw.AppID <= 0:
		v.fail("github.app_id", "want the GitHub App's ID, a number above 0, got %d", raw.AppID)
	}
	var key []byte
	g.PrivateKeyFile, key = v.privateKey(raw.PrivateKeyFile)
	g.WebhookSecrets = v.webhookSecrets(raw)
	return g, key
}

func (v *validator) apiURL(s string) string {
	u, ok := v.httpURL("github.api_url", s)
	if !ok {
		return s
	}
	if h := strings.ToLower(u.Hostname()); h == "github.com" || h == "www.github.com" {
		v.fail("github.api_url", "%q is GitHub's web address; its API is at %s", s, DefaultAPIURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String()
}

// privateKey reads and parses the key, from the environment when it is set
// there. It returns the file it came from ("" for the environment) and PEM.
func (v *validator) privateKey(file string) (string, []byte) {
	if pemText := v.env(EnvPrivateKey); pemText != "" {
		pemBytes, _, err := decodeRSAKey([]byte(pemText))
		if err != nil {
			v.errs = append(v.errs, &FieldError{Key: EnvPrivateKey + " (environment)", Reason: err.Error()})
		}
		return "", pemBytes
	}
	const key = "github.private_key_file"
	if file == "" {
		v.fail(key, "required (the .pem private key generated on the GitHub App's settings page; or set %s to its text)", EnvPrivateKey)
		return "", nil
	}
	path := v.resolve(file)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			v.fail(key, "%s does not exist", path)
		} else {
			v.fail(key, "cannot read it: %v", err)
		}
		return path, nil
	}
	pemBytes, _, err := decodeRSAKey(data)
	if err != nil {
		v.fail(key, "%s: %v", path, err)
	}
	return path, pemBytes
}

func (v *validator) webhookSecrets(raw *fileGitHub) []Secret {
	const one, many = "github.webhook_secret", "github.webhook_secrets"
	if v.present(one) && v.present(many) {
		v.fail(many, "give either webhook_secret or webhook_secrets, not both")
	}
	if s := v.env(EnvWebhookSecret); s != "" {
		if reason := secretProblem(s); reason != "" {
			v.errs = append(v.errs, &FieldError{Key: EnvWebhookSecret + " (environment)", Reason: reason})
		}
		return []Secret{Secret(s)}
	}
	if raw.WebhookSecret != nil {
		if reason := secretProblem(*raw.WebhookSecret); reason != "" {
			v.fail(one, "%s", reason)
		}
		return []Secret{Secret(*raw.WebhookSecret)}
	}
	if !v.present(many) {
		v.fail(one, "required (the webhook secret set on the GitHub App's settings page; webhook_secrets lists several while rotating; or set %s)", EnvWebhookSecret)
		return nil
	}
	if len(raw.WebhookSecrets) == 0 {
		v.fail(many, "empty; list at least one secret")
	}
	var out []Secret
	for i, s := range raw.WebhookSecrets {
		key := fmt.Sprintf("%s[%d]", many, i)
		if reason := secretProblem(s); reason != "" {
			v.fail(key, "%s", reason)
		}
		if j := slices.Index(raw.WebhookSecrets[:i], s); j >= 0 {
			v.fail(key, "same secret as %s[%d]", many, j)
		}
		out = append(out, Secret(s))
	}
	return out
}

// secretProblem says what is wrong with a webhook secret without showing it.
func secretProblem(s string) string {
	switch {
	case s == "":
		return "empty; " + secretGenerateIt
	case strings.TrimSpace(s) != s:
		return "starts or ends with white space (a newline from a file?); GitHub would sign with a different secret"
	case len(s) < MinSecretLen:
		return fmt.Sprintf("too short: want at least %d characters; %s", MinSecretLen, secretGenerateIt)
	}
	return ""
}

func (v *validator) policy(raw *filePolicy) Policy {
	p := Policy{RunPermission: DefaultRunPermission, TriggerLabel: DefaultTriggerLabel}
	if raw.RunPermission != "" || v.present("policy.run_permission") {
		p.RunPermission = raw.RunPermission
		if !slices.Contains(RunPermissions, raw.RunPermission) {
			v.fail("policy.run_permission", "want one of %s, got %q", strings.Join(RunPermissions, ", "), raw.RunPermission)
		}
	}
	if raw.TriggerLabel != "" || v.present("policy.trigger_label") {
		p.TriggerLabel = raw.TriggerLabel
		switch {
		case strings.TrimSpace(raw.TriggerLabel) == "":
			v.fail("policy.trigger_label", "empty; remove the key to use %q", DefaultTriggerLabel)
		case len([]rune(raw.TriggerLabel)) > 50:
			v.fail("policy.trigger_label", "longer than GitHub's 50-character limit for label names")
		}
	}
	for i, r := range raw.Require {
		key := fmt.Sprintf("policy.require[%d]", i)
		switch {
		case !slices.Contains(RunRequirements, r):
			v.fail(key, "want one of %s, got %q", strings.Join(RunRequirements, ", "), r)
		case slices.Contains(raw.Require[:i], r):
			v.fail(key, "%q is listed twice", r)
		}
	}
	p.Require = raw.Require
	return p
}

func (v *validator) release(raw *fileRelease) Release {
	r := Release{
		ApprovalsRequired: v.intIn("release.approvals_required", raw.ApprovalsRequired, DefaultApprovals, 1, 100),
		Checkers:          Checkers{Users: raw.Checkers.Users, Teams: raw.Checkers.Teams},
	}
	for i, u := range raw.Checkers.Users {
		key := fmt.Sprintf("release.checkers.users[%d]", i)
		switch {
		case strings.HasPrefix(u, "@"):
			v.fail(key, "write the login without @: %q", strings.TrimPrefix(u, "@"))
		case !reLogin.MatchString(u) || strings.Contains(u, "--"):
			v.fail(key, "%q is not a GitHub login", u)
		case slices.ContainsFunc(raw.Checkers.Users[:i], func(o string) bool { return strings.EqualFold(o, u) }):
			v.fail(key, "%q is listed twice", u)
		}
	}
	for i, t := range raw.Checkers.Teams {
		key := fmt.Sprintf("release.checkers.teams[%d]", i)
		org, slug, ok := strings.Cut(t, "/")
		switch {
		case !ok || !reLogin.MatchString(org) || !reTeamSlug.MatchString(slug):
			v.fail(key, "want \"org/team-slug\", got %q", t)
		case slices.ContainsFunc(raw.Checkers.Teams[:i], func(o string) bool { return strings.EqualFold(o, t) }):
			v.fail(key, "%q is listed twice", t)
		}
	}
	if n := len(raw.Checkers.Users); n > 0 && len(raw.Checkers.Teams) == 0 && n < r.ApprovalsRequired {
		v.fail("release.approvals_required", "%d approvals can never be given by the %d checker(s) listed in release.checkers.users", r.ApprovalsRequired, n)
	}
	return r
}

func (v *validator) backends(raw []fileBackend) []Backend {
	var out []Backend
	for i, b := range raw {
		at := fmt.Sprintf("backends[%d]", i)
		switch {
		case b.Name == "":
			v.fail(at+".name", "required (a short name such as \"tpp\", used in /run --backend NAME)")
		case !reBackendName.MatchString(b.Name):
			v.fail(at+".name", "want lower-case letters, digits and -, got %q", b.Name)
		default:
			if j := slices.IndexFunc(out, func(o Backend) bool { return o.Name == b.Name }); j >= 0 {
				v.fail(at+".name", "%q is already the name of backends[%d]", b.Name, j)
			}
		}
		hash := strings.ToLower(b.TokenSHA256)
		switch {
		case b.TokenSHA256 == "":
			v.fail(at+".token_sha256", "required (the SHA-256 of the backend agent's token, never the token: printf %%s \"$TOKEN\" | sha256sum)")
		case !reHexSHA256.MatchString(b.TokenSHA256):
			v.fail(at+".token_sha256", "want 64 hex digits, the SHA-256 of the agent's token (printf %%s \"$TOKEN\" | sha256sum)")
		default:
			if j := slices.IndexFunc(out, func(o Backend) bool { return o.TokenSHA256 == hash }); j >= 0 {
				v.fail(at+".token_sha256", "same token as backends[%d]; give each backend its own token", j)
			}
		}
		out = append(out, Backend{Name: b.Name, TokenSHA256: hash})
	}
	return out
}

func (v *validator) runs(raw *fileRuns, backends []Backend) Runs {
	r := Runs{
		DefaultBackend: raw.DefaultBackend,
		JobTimeout:     v.duration("runs.job_timeout", raw.JobTimeout, DefaultJobTimeout, time.Minute, 30*24*time.Hour),
		Lease:          v.duration("runs.lease", raw.Lease, DefaultLease, time.Second, time.Hour),
		MaxAttempts:    v.intIn("runs.max_attempts", raw.MaxAttempts, DefaultMaxAttempts, 1, 20),
		StatusInterval: v.duration("runs.status_interval", raw.StatusInterval, DefaultStatusEvery, 0, 5*time.Minute),
	}
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = b.Name
	}
	switch {
	case raw.DefaultBackend == "" && v.present("runs.default_backend"):
		v.fail("runs.default_backend", "empty; remove the key to use the first backend")
	case raw.DefaultBackend == "" && len(names) > 0:
		r.DefaultBackend = names[0]
	case raw.DefaultBackend != "" && !slices.Contains(names, raw.DefaultBackend):
		v.fail("runs.default_backend", "%q is not the name of a backend (backends: %s)", raw.DefaultBackend, orNone(names))
	}
	return r
}

// duration reads a Go duration ("90s", "24h") from lo to hi; "" is def.
func (v *validator) duration(key, s string, def, lo, hi time.Duration) time.Duration {
	if s == "" {
		if v.present(key) {
			v.fail(key, "empty; remove the key to use %s", def)
		}
		return def
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.fail(key, "want a duration such as 90s, 15m or 24h, got %q", s)
	case d < lo || d > hi:
		v.fail(key, "want from %s to %s, got %s", lo, hi, s)
	}
	return d
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none configured"
	}
	return strings.Join(names, ", ")
}
