package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestHomePage(t *testing.T) {
	t.Parallel()
	code, body := page(t, newPages(study()), "/")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	shows(t, body,
		"<title>Runs and releases · fivesafes</title>",
		`<a href="/" aria-current="page">Runs and releases</a>`,
		`<h2 id="runs">Recent runs</h2>`,
		`<td><a href="/runs/a1b2c3d4e5f6a1b2c3d4e5f6">Run #7</a></td>
<td>octo-org/study</td>
<td><a href="https://github.com/octo-org/study/pull/12" title="octo-org/study#12">#12</a></td>
<td><span class="status bad">failed</span></td>
<td>ana</td>
<td>tpp</td>
<td>2 <span class="failed">(1 failed)</span></td>`,
		`<h2 id="releases">Recent releases</h2>`,
		`<td><a href="/releases/rel-1">Release #2</a></td>`,
		`<span class="status waiting">in review</span>`,
		`<a href="/events">Read the whole log</a>`,
	)
}

func TestHomePageWhenNothingHappenedYet(t *testing.T) {
	t.Parallel()
	_, body := page(t, newPages(fakeSource{}), "/")
	shows(t, body, "No runs yet.", "No releases yet.")
}

func TestHomePageShowsTwentyOfEach(t *testing.T) {
	t.Parallel()
	var src fakeSource
	for i := range 30 {
		src.runs = append(src.runs, Run{ID: fmt.Sprintf("run-%d", i), Number: i, Repo: "octo-org/study", Status: "running", CreatedAt: now})
		src.releases = append(src.releases, Release{ID: fmt.Sprintf("rel-%d", i), Number: i, Repo: "octo-org/study", State: "released", CreatedAt: now})
	}
	_, body := page(t, newPages(src), "/")
	if n := strings.Count(body, `<a href="/runs/`); n != 20 {
		t.Errorf("%d runs, want 20", n)
	}
	if n := strings.Count(body, `<a href="/releases/`); n != 20 {
		t.Errorf("%d releases, want 20", n)
	}
}
