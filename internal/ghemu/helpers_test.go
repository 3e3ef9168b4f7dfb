package ghemu_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

const installationID = 7

// start returns an emulator that fails the test on every request GitHub
// would reject, with ana's installation and repository ana/study.
func start(t *testing.T, opts ...ghemu.Option) (*ghemu.Emulator, *ghemu.Repo) {
	t.Helper()
	opts = append([]ghemu.Option{ghemu.WithSpecFailure(func(err error) { t.Errorf("spec failure: %v", err) })}, opts...)
	return startWith(t, opts...)
}

func startWith(t *testing.T, opts ...ghemu.Option) (*ghemu.Emulator, *ghemu.Repo) {
	t.Helper()
	emu := ghemu.New(opts...)
	t.Cleanup(emu.Close)
	emu.AddInstallation(installationID, "ana")
	return emu, emu.CreateRepo("ana", "study")
}

// failures records spec failures for tests that provoke them.
type failures struct {
	mu   sync.Mutex
	errs []error
}

func (f *failures) record(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

func (f *failures) list() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.errs...)
}

// startRecording is start, but spec failures are recorded, not fatal.
func startRecording(t *testing.T) (*ghemu.Emulator, *ghemu.Repo, *failures) {
	t.Helper()
	f := &failures{}
	emu, repo := startWith(t, ghemu.WithSpecFailure(f.record))
	return emu, repo, f
}

// client is a go-github client acting as the installation, with a token
// from the access_tokens endpoint.
func client(t *testing.T, emu *ghemu.Emulator) *github.Client {
	t.Helper()
	app := newClient(t, emu, "header.claims.signature")
	tok, _, err := app.Apps.CreateInstallationToken(context.Background(), installationID, nil)
	if err != nil {
		t.Fatalf("installation token: %v", err)
	}
	if tok.GetToken() == "" || time.Until(tok.GetExpiresAt().Time) < 59*time.Minute {
		t.Fatalf("token %q expires at %v, want a token valid for an hour", tok.GetToken(), tok.GetExpiresAt())
	}
	return newClient(t, emu, tok.GetToken())
}

// newClient is a go-github client of the emulator authenticating with token.
func newClient(t *testing.T, emu *ghemu.Emulator, token string, opts ...github.ClientOptionsFunc) *github.Client {
	t.Helper()
	base := emu.URL() + "/"
	opts = append([]github.ClientOptionsFunc{github.WithAuthToken(token), github.WithURLs(&base, &base)}, opts...)
	c, err := github.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func statusOf(err error) int {
	if er, ok := err.(*github.ErrorResponse); ok {
		return er.Response.StatusCode
	}
	return 0
}

func ctxTimeout(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
