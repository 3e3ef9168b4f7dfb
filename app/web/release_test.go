package web

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestReleasePage(t *testing.T) {
	t.Parallel()
	code, body := page(t, newPages(study()), "/releases/rel-1")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	shows(t, body,
		"<title>Release #2 in octo-org/study · fivesafes</title>",
		`<dt>State</dt><dd><span class="status waiting">in review</span></dd>`,
		`<dt>Research pull request</dt><dd><a href="https://github.com/octo-org/study/pull/12"`,
		`<dt>Release pull request</dt><dd><a href="https://github.com/octo-org/study/pull/13"`,
		"<dt>Requested by</dt><dd>ana</dd>",
		"<dt>Backend</dt><dd>tpp</dd>",
		"<dt>Revision</dt><dd>2</dd>",
		`<dt>Manifest commit</dt><dd><a href="https://github.com/octo-org/study/commit/fedcba9876543210fedcba9876543210fedcba98"`,
		"<dt>Finished</dt><dd>not yet</dd>",
		`<a href="/events?subject=rel-1">Log entries about this release</a>`,
		// the files
		`<td><code>output/summary.csv</code></td>
<td>csv</td>
<td class="num">1.5 KiB</td>
<td class="num">120 × 8</td>
<td><code class="hash">`+strings.Repeat("ab", 32)+`</code></td>
<td><span class="status ended">not received</span></td>
<td><ul class="findings"><li><strong>small_numbers</strong>: column n has 3 values below 8</li></ul></td>`,
		`<td class="num">20.0 KiB</td>`,
		`<td><span class="status ok">received</span></td>
<td>none</td>`,
		// the reviews
		"Approvals that count (1): <strong>ben</strong>.",
		"<tr><td>ana</td><td>the requester&#39;s own approval never counts</td></tr>\n<tr><td>carl</td><td>approved an older commit</td></tr>",
		// the history, oldest first
		"<td>release requested</td>\n<td>ana</td>\n<td><dl class=\"fields\"><div><dt>pr</dt><dd>12</dd></div><div><dt>paths</dt><dd>output/summary.csv, output/figure.png</dd></div></dl></td>",
		"<td>review</td>\n<td>ben</td>",
		// the runs of the same pull request
		`<a href="/runs/a1b2c3d4e5f6a1b2c3d4e5f6">Run #7</a>`,
	)
	if strings.Index(body, "release requested") > strings.Index(body, "<td>review</td>") {
		t.Error("history is not oldest first")
	}
}

func TestReleasePageStates(t *testing.T) {
	t.Parallel()
	for state, want := range map[string]string{
		"pending_manifest": `<span class="status active">preparing manifest</span>`,
		"in_review":        `<span class="status waiting">in review</span>`,
		"returned":         `<span class="status waiting">returned for changes</span>`,
		"approved":         `<span class="status ok">approved</span>`,
		"uploading":        `<span class="status active">uploading</span>`,
		"released":         `<span class="status ok">released</span>`,
		"rejected":         `<span class="status bad">rejected</span>`,
		"withdrawn":        `<span class="status ended">withdrawn</span>`,
	} {
		src := study()
		rel := src.release["rel-1"]
		rel.State = state
		src.release["rel-1"] = rel
		_, body := page(t, newPages(src), "/releases/rel-1")
		if !strings.Contains(body, "<dt>State</dt><dd>"+want+"</dd>") {
			t.Errorf("state %s is not shown as %s", state, want)
		}
	}
}

func TestReleasePageOfARejectedRelease(t *testing.T) {
	t.Parallel()
	src := study()
	rel := src.release["rel-1"]
	rel.State, rel.Reason, rel.FinishedAt = "rejected", "output/summary.csv arrived as 12 bytes", now.Add(-2*time.Minute)
	rel.ReleasePR, rel.ReleasedCommit, rel.Counted, rel.Ignored, rel.History, rel.Runs, rel.Files = 0, "", nil, nil, nil, nil, nil
	src.release["rel-1"] = rel
	_, body := page(t, newPages(src), "/releases/rel-1")
	shows(t, body,
		"<dt>Why rejected</dt><dd>output/summary.csv arrived as 12 bytes</dd>",
		"<dt>Release pull request</dt><dd>not opened yet</dd>",
		`<span class="ago">(2 minutes ago)</span>`,
		"No manifest yet.", "No approval counts yet.", "Nothing recorded yet.", "No runs on this pull request.",
	)
	hides(t, body, "Reviews that do not count", "Released commit")

	rel.State, rel.Reason = "withdrawn", "withdrawn by ana"
	src.release["rel-1"] = rel
	_, body = page(t, newPages(src), "/releases/rel-1")
	shows(t, body, "<dt>Why withdrawn</dt><dd>withdrawn by ana</dd>")
}
