package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fivesafes/fivesafes/app/sandbox"
	"github.com/fivesafes/fivesafes/release"
)

// chromium finds a headless-capable Chromium: $FIVESAFES_CHROMIUM, or one
// on PATH. Without one the browser test is skipped (.ci/run installs
// Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FIVESAFES_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (set FIVESAFES_CHROMIUM, or install Debian's chromium): the browser test of the pages is skipped")
	return ""
}

// browser is a headless Chromium tab that collects console errors.
type browser struct {
	t      *testing.T
	ctx    context.Context
	dir    string // screenshots
	mu     sync.Mutex
	errors []string
	// expect404 is a URL whose 404 is the point of the visit.
	expect404 string
}

func newBrowser(t *testing.T, parent context.Context) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	dir := os.Getenv("FIVESAFES_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, dir: dir}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx) // subscribed now: nothing a page writes is missed
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				if m.URL == "" || m.URL != b.expect404 || !strings.Contains(m.Text, "404") {
					b.errors = append(b.errors, m.String()+" "+m.URL)
				}
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// visit loads url, waits for its main heading, checks it says want,
// writes a screenshot called name, and fails on console errors.
func (b *browser) visit(name, url, want string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		b.t.Fatalf("%s (%s): %v", name, url, err)
	}
	b.shoot(name, want)
}

// shoot checks the page's heading says want and writes its screenshot.
func (b *browser) shoot(name, want string) {
	b.t.Helper()
	h1, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
	if !strings.Contains(strings.ToLower(h1), strings.ToLower(want)) {
		b.t.Errorf("%s: heading %q, want it to say %q", name, h1, want)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100) /* 100: PNG */)
	if err != nil {
		b.t.Fatalf("%s: screenshot: %v", name, err)
	}
	file := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot of %s: %s", name, file)
	b.noErrors(name)
}

// follow clicks the first link matching selector, waits for the page it
// leads to, and checks its heading says want.
func (b *browser) follow(name, selector, want string) {
	b.t.Helper()
	href, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(selector), "href"))
	if err != nil || !href.Exists {
		b.t.Fatalf("%s: no link %s on the page: %v", name, selector, err)
	}
	// Mark this document, so that its successor is recognised.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.dataset.left = "yes"`)); err != nil {
		b.t.Fatal(err)
	}
	err = chromedp.Do(b.ctx,
		chromedp.Click(chromedp.CSS(selector)),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-left]) h1")))
	if err != nil {
		b.t.Fatalf("%s: follow %s: %v", name, href.Value, err)
	}
	location, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil || !strings.Contains(location, href.Value) {
		b.t.Errorf("%s: the link to %s led to %s (%v)", name, href.Value, location, err)
	}
	b.shoot(name, want)
}

// allow404 makes the 404 of url (the point of a visit) no console error.
func (b *browser) allow404(url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expect404 = url
}

func (b *browser) noErrors(where string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) > 0 {
		b.t.Errorf("%s: console errors: %s", where, strings.Join(b.errors, "; "))
		b.errors = nil
	}
}

// The pages in a real browser, over the sandbox after a run and a release:
// they load without console errors (a Content-Security-Policy violation is
// one), their links lead to each other, and a screenshot of each is
// written for review (to $FIVESAFES_SCREENSHOTS, which .ci/run sets).
func TestBrowserPages(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: releaseConfig})
	e.agent("tpp")
	_, _, rp := e.inReview()
	e.Repo.Review(rp.Number, "cara", "APPROVED", "")
	e.Repo.Review(rp.Number, "dan", "APPROVED", "")
	rel := e.wantState(rp.Number, release.Released)
	run := e.requests(rel.PR)[0]

	ctx, cancel := context.WithTimeout(e.ctx, 45*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	base := e.BotURL()

	b.visit("home", base+"/", "Runs and releases")
	b.follow("run", `a[href="/runs/`+run.ID+`"]`, "Run #1")
	b.follow("release", `a[href="/releases/`+rel.ID+`"]`, "Release #1")
	b.follow("release-events", `a[href^="/events"]`, "log")
	b.follow("run-from-events", `a[href="/runs/`+run.ID+`"]`, "Run #1")
	b.visit("events", base+"/events", "log")
	b.visit("events-of-repo", base+"/events?repo="+e.Repo.FullName(), "log")
	b.allow404(base + "/runs/no-such-run") // the browser logs a page's own 404
	b.visit("missing", base+"/runs/no-such-run", "not found")
	b.allow404("")
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844)); err == nil {
		b.visit("phone-run", base+"/runs/"+run.ID, "Run #1")
	}
}
