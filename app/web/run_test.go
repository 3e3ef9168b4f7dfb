package web

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunPage(t *testing.T) {
	t.Parallel()
	code, body := page(t, newPages(study()), "/runs/a1b2c3d4e5f6a1b2c3d4e5f6")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	shows(t, body,
		"<title>Run #7 in octo-org/study · fivesafes</title>",
		"<h1>Run #7 in octo-org/study</h1>",
		`<dt>Status</dt><dd><span class="status bad">failed</span></dd>`,
		`<dt>Pull request</dt><dd><a href="https://github.com/octo-org/study/pull/12" title="octo-org/study#12">#12</a></dd>`,
		`<a href="https://github.com/octo-org/study/commit/0123456789abcdef0123456789abcdef01234567" title="0123456789abcdef0123456789abcdef01234567"><code>0123456</code></a>`,
		"<dt>Requested by</dt><dd>ana</dd>",
		"<dt>Approved by</dt><dd>max</dd>",
		"<dt>Backend</dt><dd>tpp</dd>",
		"<dt>Actions</dt><dd>generate_dataset, model</dd>",
		"<dt>Dependencies</dt><dd>reused when up to date</dd>",
		`<dt>Requested</dt><dd><time datetime="2026-12-03T08:30:00.000Z">2026-12-03 08:30 UTC</time> <span class="ago">(1 hour ago)</span></dd>`,
		`<dt>Finished</dt><dd><time datetime="2026-12-03T08:59:45.000Z">`,
		"<dt>Took</dt><dd>29m 45s</dd>",
		`<a href="/events?subject=a1b2c3d4e5f6a1b2c3d4e5f6">Log entries about this run</a>`,
		// the plan
		`<td><code>prepare</code></td>
<td><span class="status ok">reuse earlier job</span></td>
<td>succeeded on this commit already</td>`,
		`<td><span class="status active">run</span></td>`,
		// the jobs
		`<td><code>model</code></td>
<td><span class="status bad">failed</span></td>
<td><span class="status bad">nonzero exit</span> <code class="code">nonzero_exit</code></td>
<td>Job exited with an error</td>`,
		"<td>19m 00s</td>",
		`<td class="num">3</td>`,
		`<td class="num">0</td>`,
		`<li><code>output/summary.csv</code> <span class="size">1.5 KiB</span></li>`,
		`<li class="refused"><code>output/small_counts.csv</code> <span class="size">200 bytes</span> <span class="status bad">refused</span> a count below 8</li>`,
		"+ 2 highly sensitive files, not named",
		"+ 1 highly sensitive file, not named",
		// the releases of the same pull request
		`<a href="/releases/rel-1">Release #2</a>`,
		`<span class="status waiting">in review</span>`,
	)
}

func TestRunPageStatuses(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]string{
		"held":      `<span class="status waiting">held for approval</span>`,
		"stale":     `<span class="status ended">stale</span>`,
		"withdrawn": `<span class="status ended">withdrawn</span>`,
		"running":   `<span class="status active">running</span>`,
		"succeeded": `<span class="status ok">succeeded</span>`,
		"failed":    `<span class="status bad">failed</span>`,
		"exploded":  `<span class="status ended">exploded</span>`, // unknown: its own word, in grey
	} {
		src := study()
		r := src.run["a1b2c3d4e5f6a1b2c3d4e5f6"]
		r.Status = status
		src.run[r.ID] = r
		_, body := page(t, newPages(src), "/runs/"+r.ID)
		if !strings.Contains(body, "<dt>Status</dt><dd>"+want+"</dd>") {
			t.Errorf("status %s is not shown as %s", status, want)
		}
	}
}

func TestRunPageWhileItRuns(t *testing.T) {
	t.Parallel()
	src := study()
	r := src.run["a1b2c3d4e5f6a1b2c3d4e5f6"]
	r.Status, r.FinishedAt, r.Force, r.ApprovedBy = "running", time.Time{}, true, ""
	r.Actions = []string{"run_all"}
	r.Jobs = []Job{
		{ID: "j1", Action: "model", State: "running", Status: "executing", StartedAt: now.Add(-3*time.Minute - 4*time.Second)},
		{ID: "j2", Action: "report", State: "pending", Status: "waiting_on_dependencies"},
	}
	src.run[r.ID] = r
	_, body := page(t, newPages(src), "/runs/"+r.ID)
	shows(t, body,
		"<dt>Finished</dt><dd>not yet</dd>",
		"<dt>Took</dt><dd>1h 30m so far</dd>",
		"<dt>Actions</dt><dd>all actions (run_all)</dd>",
		"<dt>Dependencies</dt><dd>run again (--force-run-dependencies)</dd>",
		`<span class="status active">executing</span>`,
		"<td>3m 04s so far</td>",
		`<span class="status waiting">waiting on dependencies</span>`,
		"<td>not yet</td>",
	)
	hides(t, body, "Approved by")
}

func TestRunPageOfAHeldRun(t *testing.T) {
	t.Parallel()
	src := study()
	r := src.run["a1b2c3d4e5f6a1b2c3d4e5f6"]
	r.Status, r.Plan, r.Jobs, r.Releases = "held", nil, nil, nil
	src.run[r.ID] = r
	_, body := page(t, newPages(src), "/runs/"+r.ID)
	shows(t, body, "No plan: the run waits for a maintainer's approval.", "No jobs.", "No release requests on this pull request.")
}

func TestRunPageLinksToGitHubEnterprise(t *testing.T) {
	t.Parallel()
	_, body := page(t, newPages(study(), WithGitHubURL("https://ghe.example.org/")), "/runs/a1b2c3d4e5f6a1b2c3d4e5f6")
	shows(t, body, `href="https://ghe.example.org/octo-org/study/pull/12"`,
		`href="https://ghe.example.org/octo-org/study/commit/0123456789abcdef0123456789abcdef01234567"`)
	hides(t, body, "https://github.com")
}
