package ghemu_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

const appID = 4242

func TestGHInstallationAgainstAnAppKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024) // small: fast, and the emulator does not care
	if err != nil {
		t.Fatal(err)
	}
	emu, _ := start(t, ghemu.WithAppKey(&key.PublicKey, appID))
	ctx := context.Background()
	base := emu.URL() + "/"

	atr := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, appID, key)
	atr.BaseURL = emu.URL()
	app, err := github.NewClient(github.WithTransport(atr), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := app.Apps.Get(ctx, "")
	if err != nil || got.GetID() != appID || got.GetSlug() == "" {
		t.Fatalf("GET /app: %+v %v", got, err)
	}

	inst, err := github.NewClient(github.WithTransport(ghinstallation.NewFromAppsTransport(atr, installationID)), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	repo, _, err := inst.Repositories.Get(ctx, "ana", "study")
	if err != nil || repo.GetFullName() != "ana/study" {
		t.Fatalf("GET /repos/ana/study through ghinstallation: %v", err)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	wrong := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, appID, other)
	wrong.BaseURL = emu.URL()
	impostor, _ := github.NewClient(github.WithTransport(wrong), github.WithURLs(&base, &base))
	if _, _, err := impostor.Apps.Get(ctx, ""); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("JWT signed with another key: %v, want 401", err)
	}
	unsigned := newClient(t, emu, "a.b.c")
	if _, _, err := unsigned.Apps.Get(ctx, ""); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("garbage JWT: %v, want 401", err)
	}
}

func TestInstallationTokens(t *testing.T) {
	var now atomic.Pointer[time.Time]
	start0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now.Store(&start0)
	emu, _ := start(t, ghemu.WithClock(func() time.Time { return *now.Load() }))
	ctx := context.Background()
	for name, token := range map[string]string{"unknown token": "ghs_bogus", "app JWT": "a.b.c"} {
		if _, _, err := newClient(t, emu, token).Repositories.Get(ctx, "ana", "study"); statusOf(err) != http.StatusUnauthorized {
			t.Errorf("%s: %v, want 401", name, err)
		}
	}
	app := newClient(t, emu, "a.b.c")
	if _, _, err := app.Apps.CreateInstallationToken(ctx, 999, nil); statusOf(err) != http.StatusNotFound {
		t.Errorf("token for an unknown installation: %v, want 404", err)
	}
	tok, _, err := app.Apps.CreateInstallationToken(ctx, installationID, nil)
	if err != nil || !tok.GetExpiresAt().Time.Equal(start0.Add(time.Hour)) {
		t.Fatalf("token %+v %v", tok, err)
	}
	gh := newClient(t, emu, tok.GetToken())
	if _, _, err := gh.Repositories.Get(ctx, "ana", "study"); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	later := start0.Add(61 * time.Minute)
	now.Store(&later)
	if _, _, err := gh.Repositories.Get(ctx, "ana", "study"); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("expired token: %v, want 401", err)
	}
}
