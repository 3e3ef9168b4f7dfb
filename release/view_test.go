package release

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// testRequest is release #3, revision 2, of rea's research pull request
// #7, shown on release pull request #12.
func testRequest(state State) Request {
	return Request{
		ID: "0a1b2c3d4e5f60718293a4b5", Number: 3, Revision: 2, State: state, Requester: "rea", Backend: "tpp",
		ResearchPR: 7, ReleasePR: 12, Branch: "feature/plots", ManifestCommit: manifestSHA, Files: testManifest().Files,
	}
}

func TestReleaseCheckRun(t *testing.T) {
	t.Parallel()
	two := Policy{ApprovalsRequired: 2}
	oneApproval := Verdict{Counted: []string{"ana"}, Ignored: map[string]string{"eve": "not an output checker"}}
	approved := Verdict{Approved: true, Counted: []string{"ana", "ben"}, Ignored: map[string]string{}}
	returned := Verdict{Counted: []string{"ana"}, ChangesRequested: []string{"ben"}, Ignored: map[string]string{"ben": "requested changes"}}
	withReason := func(state State, reason string) Request {
		r := testRequest(state)
		r.Reason = reason
		return r
	}
	cases := map[string]struct {
		r          Request
		p          Policy
		v          Verdict
		status     string
		conclusion string
		title      string
		summary    []string
	}{
		"in review, waiting for one more approval": {
			r: testRequest(InReview), v: oneApproval,
			status: "completed", conclusion: "action_required", title: "Waiting for 1 more output checker approval",
			summary: []string{
				"**Release #3**, revision 2: 3 files from #7, asked for by @rea on the `tpp` backend.",
				"Manifest commit reviewed: `4f2a9c1`.", "Release needs 2 approvals",
				"- **Counted (1 of 2):** @ana", "- @eve: not an output checker",
				"Waiting for 1 more approval: output checkers, review the manifest of this pull request and approve it, or request changes.",
			},
		},
		"in review, no reviews yet": {
			r: testRequest(InReview), v: Verdict{Ignored: map[string]string{}},
			status: "completed", conclusion: "action_required", title: "Waiting for 2 more output checker approvals",
			summary: []string{"- **Counted (0 of 2):** none yet", "Waiting for 2 more approvals: output checkers, review"},
		},
		"returned: changes requested": {
			r: testRequest(Returned), v: returned,
			status: "completed", conclusion: "action_required", title: "Changes requested by @ben",
			summary: []string{"- **Changes requested by:** @ben", "- @ben: requested changes",
				"Returned to @rea: a new `/release` on #7 makes revision 3"},
		},
		"returned, then the request for changes was taken back": {
			r: testRequest(Returned), v: oneApproval,
			status: "completed", conclusion: "action_required", title: "Returned to the researcher",
		},
		"preparing a new revision": {
			r: testRequest(PendingManifest), v: Verdict{},
			status: "in_progress", title: "Preparing the manifest of revision 2",
			summary: []string{"The `tpp` backend is preparing the manifest of revision 2; reviews of earlier revisions no longer count."},
		},
		"approved, files uploading": {
			r: testRequest(Approved), v: approved,
			status: "in_progress", title: "Approved by @ana and @ben; uploading 3 files",
			summary: []string{"- **Counted (2 of 2):** @ana and @ben", "each must match the size and SHA-256 approved here"},
		},
		"uploading": {
			r: testRequest(Uploading), v: approved,
			status: "in_progress", title: "Approved by @ana and @ben; uploading 3 files",
		},
		"released": {
			r: testRequest(Released), v: approved,
			status: "completed", conclusion: "success", title: "Released 3 files",
			summary: []string{"Released 3 files: they are committed on #12 under `released_outputs/feature-plots/`."},
		},
		"rejected on a hash mismatch": {
			r:      withReason(Rejected, "output/counts.csv is not the file approved: its SHA-256 differs"),
			v:      approved,
			status: "completed", conclusion: "failure",
			title:   "Rejected: output/counts.csv is not the file approved: its SHA-256 differs",
			summary: []string{"Rejected: output/counts.csv is not the file approved: its SHA-256 differs. Nothing was released."},
		},
		"withdrawn by the requester": {
			r: withReason(Withdrawn, "withdrawn by @rea"), v: oneApproval,
			status: "completed", conclusion: "cancelled", title: "Withdrawn by @rea",
			summary: []string{"Withdrawn by @\u200brea. Nothing was released."},
		},
		"withdrawn without a reason": {
			r: testRequest(Withdrawn), v: oneApproval,
			status: "completed", conclusion: "cancelled", title: "Withdrawn",
		},
		"approvals_required 3": {
			r: testRequest(InReview), p: Policy{ApprovalsRequired: 3}, v: Verdict{Counted: []string{"ana", "ben"}},
			status: "completed", conclusion: "action_required", title: "Waiting for 1 more output checker approval",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := tc.p
			if p.ApprovalsRequired == 0 {
				p = two
			}
			run := ReleaseCheckRun(tc.r, p, tc.v)
			if run.Status != tc.status || run.Conclusion != tc.conclusion {
				t.Errorf("status %q, conclusion %q; want %q, %q", run.Status, run.Conclusion, tc.status, tc.conclusion)
			}
			if run.Output.Title != tc.title {
				t.Errorf("title %q, want %q", run.Output.Title, tc.title)
			}
			for _, want := range tc.summary {
				if !strings.Contains(run.Output.Summary, want) {
					t.Errorf("summary lacks %q:\n%s", want, run.Output.Summary)
				}
			}
			if !strings.Contains(run.Output.Text, "| `output/counts.csv` | 1.5 KB | 120 × 4 | `"+strings.Repeat("a", 64)+"` | 2 |") {
				t.Errorf("text lacks the files table:\n%s", run.Output.Text)
			}
			assertNoMarkup(t, run.Output.Summary)
			assertNoMarkup(t, run.Output.Text)
		})
	}
}

func TestReleaseCheckRunSaysTheBranchIsTainted(t *testing.T) {
	t.Parallel()
	r := testRequest(InReview)
	r.Tainted = true
	run := ReleaseCheckRun(r, Policy{ApprovalsRequired: 2}, Verdict{})
	want := "A commit not made by fivesafes was pushed to the release branch; reviews of it do not count until the manifest commit is restored."
	if !strings.Contains(run.Output.Summary, want) {
		t.Errorf("summary lacks the alarm:\n%s", run.Output.Summary)
	}
	r.Tainted = false
	if run := ReleaseCheckRun(r, Policy{ApprovalsRequired: 2}, Verdict{}); strings.Contains(run.Output.Summary, "not made by fivesafes") {
		t.Errorf("an untainted release shows the alarm:\n%s", run.Output.Summary)
	}
}

// Hostile logins, reasons and paths render as themselves.
func TestReleaseCheckRunEscapesUserText(t *testing.T) {
	t.Parallel()
	r := testRequest(Rejected)
	r.Requester = "<img src=x onerror=alert(1)>"
	r.Backend = "tpp`</details><script>"
	r.Reason = "out/a|b.csv: </details><script>alert(1)</script> `x` @team"
	r.Files = []File{{Path: "out/a|b`c</details><script>.csv", SHA256: "<b>", Type: "csv"}}
	v := Verdict{Ignored: map[string]string{"<b>eve</b>": "not an output checker", "ok-login": "</details> | x"}}
	run := ReleaseCheckRun(r, Policy{ApprovalsRequired: 2}, v)
	assertNoMarkup(t, run.Output.Summary)
	assertNoMarkup(t, run.Output.Text)
	for _, want := range []string{
		"asked for by \\<img src=x onerror=alert(1)\\> on the ``tpp`</details><script>`` backend",
		"- \\<b\\>eve\\</b\\>: not an output checker", "- @ok-login: \\</details\\> \\| x",
		"Rejected: out/a\\|b.csv: \\</details\\>\\<script\\>alert(1)\\</script\\> \\`x\\` @\u200bteam. Nothing was released.",
	} {
		if !strings.Contains(run.Output.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, run.Output.Summary)
		}
	}
	for _, row := range tableRows(run.Output.Text) {
		if n := unescapedPipes(row); n != 6 {
			t.Errorf("table row has %d cell borders, want 6: %s", n, row)
		}
	}
	if strings.ContainsAny(run.Output.Title, "\n") || utf8.RuneCountInString(run.Output.Title) > 80 {
		t.Errorf("title should be one short line: %q", run.Output.Title)
	}
}

// With 5,000 files and 5,000 reviewers every field stays well under
// GitHub's 65,535 characters, and says how many more there are.
func TestReleaseCheckRunFitsGitHubsLimits(t *testing.T) {
	t.Parallel()
	r := testRequest(InReview)
	r.Files = manyFiles(5000)
	v := Verdict{Ignored: map[string]string{}}
	for i := range 5000 {
		v.Ignored[fmt.Sprintf("user-%04d", i)] = "not an output checker"
		v.Counted = append(v.Counted, fmt.Sprintf("checker-%04d", i))
	}
	run := ReleaseCheckRun(r, Policy{ApprovalsRequired: 2}, v)
	for field, s := range map[string]string{"title": run.Output.Title, "summary": run.Output.Summary, "text": run.Output.Text} {
		if len(s) > 60000 {
			t.Errorf("%s is %d bytes", field, len(s))
		}
	}
	if !strings.Contains(run.Output.Text, " more files |") || !strings.HasPrefix(run.Output.Text, "### Files") {
		t.Errorf("text should count the files that did not fit:\n%s", run.Output.Text[len(run.Output.Text)-300:])
	}
	if !strings.Contains(run.Output.Summary, "  - … and 4950 more\n") || !strings.Contains(run.Output.Summary, "@checker-0049 … and 4950 more") {
		t.Errorf("summary should count the reviewers not listed:\n%s", run.Output.Summary)
	}
	shown := strings.Count(run.Output.Text, "\n| `")
	if !strings.Contains(run.Output.Text, fmt.Sprintf("| … and %d more files |", 5000-shown)) {
		t.Errorf("%d files shown, but the count of the rest is wrong:\n%s", shown, run.Output.Text[len(run.Output.Text)-300:])
	}

	for name, body := range map[string]string{
		"released": ReleasedComment(r), "release pr": ReleasePRComment(r), "ready": ReadyComment(r),
	} {
		if len(body) > 60000 {
			t.Errorf("%s comment is %d bytes", name, len(body))
		}
	}
	if !strings.Contains(ReleasedComment(r), " … and 4980 more") {
		t.Errorf("released comment should name 20 paths and count the rest:\n%s", ReleasedComment(r))
	}
}

func manyFiles(n int) []File {
	files := make([]File, n)
	for i := range files {
		files[i] = File{Path: fmt.Sprintf("output/%s/table-%05d.csv", strings.Repeat("long-folder-name", 5), i),
			Size: 123456, SHA256: strings.Repeat("d", 64), Type: "csv", Rows: intp(10), Columns: intp(3)}
	}
	return files
}

// The comments the bot posts, with the words a researcher or checker reads.
func TestComments(t *testing.T) {
	t.Parallel()
	rejected := testRequest(Rejected)
	rejected.Reason = "output/counts.csv is not the file approved: its SHA-256 differs"
	withdrawn := testRequest(Withdrawn)
	withdrawn.Reason = "withdrawn by @rea"
	cases := map[string]struct {
		body   string
		marker string
		want   []string
	}{
		"ready for review": {
			body: ReadyComment(testRequest(InReview)), marker: "<!-- fivesafes:release 0a1b2c3d4e5f60718293a4b5 ready r2 -->",
			want: []string{"Release #3 is ready for review: #12 (revision 2, 3 files).", "Nothing leaves the secure zone until they approve it", "`/withdraw`"},
		},
		"returned": {
			body:   ReturnedComment(testRequest(Returned), Verdict{ChangesRequested: []string{"ben"}}),
			marker: "<!-- fivesafes:release 0a1b2c3d4e5f60718293a4b5 returned r2 -->",
			want: []string{"@ben requested changes to release #3 (revision 2) in #12: read the review there.",
				"@rea, comment `/release` again", "to make revision 3"},
		},
		"returned by two": {
			body:   ReturnedComment(testRequest(Returned), Verdict{ChangesRequested: []string{"ben", "cat"}}),
			marker: "<!-- fivesafes:release 0a1b2c3d4e5f60718293a4b5 returned r2 -->",
			want:   []string{"@ben and @cat requested changes to release #3"},
		},
		"released, on the research pull request": {
			body: ReleasedComment(testRequest(Released)), marker: "<!-- fivesafes:release 0a1b2c3d4e5f60718293a4b5 released r2 -->",
			want: []string{"Released 3 files in #12: `output/counts.csv`, `output/missing.csv` and `output/plot.png`.",
				"committed under `released_outputs/feature-plots/`", "a maintainer merges #12"},
		},
		"released, on the release pull request": {
			body: ReleasePRComment(testRequest(Released)), marker: "<!-- fivesafes:release 0a1b2c3d4e5f60718293a4b5 released-here r2 -->",
			want: []string{"Released 3 files, byte for byte as approved in commit `4f2a9c1`", "Merge it to add them to the default branch."},
		},
		"rejected": {
			body: RejectedComment(rejected), marker: "<!-- fivesafes:release 0a1b2c3d4e5f60718293a4b5 rejected r2 -->",
			want: []string{"Release #3 was rejected: output/counts.csv is not the file approved: its SHA-256 differs.", "Nothing was released."},
		},
		"withdrawn": {
			body: WithdrawnComment(withdrawn), marker: "<!-- fivesafes:release 0a1b2c3d4e5f60718293a4b5 withdrawn r2 -->",
			want: []string{"Release #3 was withdrawn by @\u200brea. Its release pull request #12 is closed. Nothing was released."},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Marker(tc.body); got != tc.marker {
				t.Errorf("Marker = %q, want %q", got, tc.marker)
			}
			if !strings.HasPrefix(tc.body, tc.marker+"\n") {
				t.Errorf("body should start with its marker:\n%s", tc.body)
			}
			for _, want := range tc.want {
				if !strings.Contains(tc.body, want) {
					t.Errorf("comment lacks %q:\n%s", want, tc.body)
				}
			}
			assertNoMarkup(t, strings.TrimPrefix(tc.body, tc.marker))
		})
	}
	if Marker("Release #3 is ready") != "" {
		t.Error("a body without a marker has one")
	}
}

// A comment never carries a file's contents or unescaped user text, and
// mentions no one through a path or a reason.
func TestCommentsEscapeUserText(t *testing.T) {
	t.Parallel()
	r := testRequest(Rejected)
	r.ID = "x --> <script>"
	r.Reason = "</details><script>alert(1)</script> | @org/checkers `"
	r.Files = []File{{Path: "a|b`c</details>@ana.csv"}}
	for name, body := range map[string]string{
		"rejected": RejectedComment(r), "withdrawn": WithdrawnComment(r), "released": ReleasedComment(r), "ready": ReadyComment(r),
	} {
		m := Marker(body)
		if m == "" || strings.Count(body, "-->") != 1 {
			t.Errorf("%s: the ID broke out of the marker:\n%s", name, body)
		}
		assertNoMarkup(t, strings.TrimPrefix(body, m))
		if strings.Contains(body, "@org") {
			t.Errorf("%s: a reason mentions a team:\n%s", name, body)
		}
	}
	if want := "rejected: \\</details\\>\\<script\\>alert(1)\\</script\\> \\| @\u200borg/checkers \\`."; !strings.Contains(RejectedComment(r), want) {
		t.Errorf("rejected comment lacks %q:\n%s", want, RejectedComment(r))
	}
	if want := "Released 1 file in #12: ``a|b`c</details>@ana.csv``."; !strings.Contains(ReleasedComment(r), want) {
		t.Errorf("released comment lacks %q:\n%s", want, ReleasedComment(r))
	}
}

func TestWithdrawnReasons(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ reason, comment, title string }{
		"by someone":          {"withdrawn by @rea", "Release #3 was withdrawn by @\u200brea. ", "Withdrawn by @rea"},
		"no reason":           {"", "Release #3 was withdrawn. ", "Withdrawn"},
		"only the word":       {"Withdrawn", "Release #3 was withdrawn. ", "Withdrawn"},
		"with a colon":        {"withdrawn: superseded", "Release #3 was withdrawn: superseded. ", "Withdrawn: superseded"},
		"another reason":      {"the research pull request was closed", "Release #3 was withdrawn: the research pull request was closed. ", "Withdrawn: the research pull request was closed"},
		"a reason with a dot": {"closed.", "Release #3 was withdrawn: closed. ", "Withdrawn: closed."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := testRequest(Withdrawn)
			r.Reason = tc.reason
			if got := WithdrawnComment(r); !strings.Contains(got, tc.comment) {
				t.Errorf("comment %q lacks %q", got, tc.comment)
			}
			if got := ReleaseCheckRun(r, Policy{}, Verdict{}).Output.Title; got != tc.title {
				t.Errorf("title %q, want %q", got, tc.title)
			}
		})
	}
}

func TestReleaseCheckRunBeforeTheManifestIsPublished(t *testing.T) {
	t.Parallel()
	r := testRequest(PendingManifest)
	r.ManifestCommit, r.ReleasePR, r.Revision = "", 0, 1
	run := ReleaseCheckRun(r, Policy{}, Verdict{})
	for _, want := range []string{"No manifest commit to review yet.", "Release needs 1 approval:"} {
		if !strings.Contains(run.Output.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, run.Output.Summary)
		}
	}
	if run.Status != "in_progress" || run.Conclusion != "" || run.Output.Title != "Preparing the manifest of revision 1" {
		t.Errorf("got %q %q %q", run.Status, run.Conclusion, run.Output.Title)
	}
}
