package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/fivesafes/fivesafes/app/sandbox"
	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/release"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

func TestE2EReleaseApprovedByTwoCheckersIsCommitted(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: releaseConfig})
	e.agent("tpp")
	pr, _, branch := e.ranAll(releaseStudy(nil))

	c := e.Repo.Comment(pr, "ana", releaseAsk("output/counts.csv", "output/*.png"))
	e.reply(pr, c, "preparing a manifest of 2 files")
	rp := e.waitReleasePR(pr, 1)
	rel := e.releaseOf(rp.Number)
	if rp.HeadRef != "fivesafes/release-1" || rp.BaseRef != "main" || rel.State != release.InReview {
		t.Fatalf("release PR %+v, release %s", rp, rel.State)
	}
	raw, ok := e.Repo.File(rp.HeadRef, release.ManifestDir(rel.ID)+"/manifest.json")
	if !ok {
		t.Fatal("no manifest.json on the release branch")
	}
	var m release.Manifest
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 2 || m.Files[0].Path != "output/counts.csv" || m.Files[1].Path != "output/plot.png" ||
		m.Context == "" || m.Controls == "" || m.ResearchPR != pr {
		t.Fatalf("manifest %+v", m)
	}
	var findings []string
	for _, f := range m.Files[0].Findings {
		findings = append(findings, f.Check)
	}
	if !strings.Contains(strings.Join(findings, " "), "small_count") {
		t.Errorf("a count of 3 raised no small_count finding: %v", findings)
	}
	if _, ok := e.committed(rp.HeadRef, branch, "output/counts.csv"); ok {
		t.Fatal("data reached the repository before anyone approved it")
	}
	check := e.waitReleaseCheck(rp.HeadSHA, func(r ghemu.CheckRun) bool { return r.Conclusion == "action_required" })
	if !strings.Contains(check.Output.Title, "2 more") {
		t.Errorf("release check run before reviews: %q", check.Output.Title)
	}

	e.Repo.Review(rp.Number, "cara", "APPROVED", "")
	e.Repo.Review(rp.Number, "dan", "APPROVED", "")
	e.reply(pr, c, "Released 2 files")
	for _, f := range []string{"output/counts.csv", "output/plot.png"} {
		got, ok := e.committed(rp.HeadRef, branch, f)
		want, _ := e.released("tpp", branch, f)
		if !ok || got != want || want == "" {
			t.Errorf("%s on the release branch: %d bytes (%v), the agent's: %d bytes", f, len(got), ok, len(want))
		}
	}
	if png, _ := e.released("tpp", branch, "output/plot.png"); len(png) != 8+256 {
		t.Errorf("the study's PNG is %d bytes, want 264", len(png))
	}
	done := e.waitReleaseCheck(rp.HeadSHA, func(r ghemu.CheckRun) bool { return r.Conclusion == "success" })
	if !strings.HasSuffix(done.DetailsURL, "/releases/"+rel.ID) {
		t.Errorf("release check run links to %q, not the release's page", done.DetailsURL)
	}
	if !strings.Contains(done.Output.Summary, "cara") || !strings.Contains(done.Output.Summary, "dan") {
		t.Errorf("release check run summary does not say who approved:\n%s", done.Output.Summary)
	}
	kinds := e.auditKinds(t)
	for _, k := range []string{"release.requested", "release.manifest", "release.published", "release.review", "release.approved", "release.file_received", "release.released"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the log: %v", k, kinds)
		}
	}
}

// The release is asked for and its pull request opened; the checkers have
// not reviewed yet.
func (e *runEnv) inReview() (pr int, branch string, rp ghemu.PullRequest) {
	e.t.Helper()
	pr, _, branch = e.ranAll(releaseStudy(nil))
	e.Repo.Comment(pr, "ana", releaseAsk("output/counts.csv", "output/plot.png"))
	return pr, branch, e.waitReleasePR(pr, 1)
}

// wantState waits for the release of pull request number to be in state.
func (e *runEnv) wantState(number int, state release.State) release.Release {
	e.t.Helper()
	var r release.Release
	err := e.Emulator.WaitFor(e.ctx, func() bool {
		r = e.releaseOf(number)
		return r.State == state
	})
	if err != nil {
		e.t.Fatalf("release of #%d is %s (%s), want %s", number, r.State, r.Reason, state)
	}
	return r
}

// settle waits until every event of pull request number sent so far is
// handled: a /help comment there is answered after them, in order.
func (e *runEnv) settle(number int) {
	e.t.Helper()
	c := e.Repo.Comment(number, "mia", "/help")
	e.reply(number, c, "/run [--backend NAME]")
}

func TestE2EReleaseReviewsThatDoNotCount(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: "release:\n  approvals_required: 2\n  checkers:\n    users: [ana, cara, dan]\n"})
	e.agent("tpp")
	e.Repo.SetPermission("rex", "read")
	_, _, rp := e.inReview()
	manifest := rp.HeadSHA

	// dan approves, and his review is dismissed: it counts for nothing.
	id := e.Repo.Review(rp.Number, "dan", "APPROVED", "")
	e.settle(rp.Number)
	e.Repo.DismissReview(rp.Number, id, "mia")
	e.settle(rp.Number)

	e.Repo.Review(rp.Number, "cara", "APPROVED", "")
	e.Repo.Review(rp.Number, "ana", "APPROVED", "") // the requester, a checker too
	e.Repo.Review(rp.Number, "rex", "APPROVED", "") // not a checker
	e.settle(rp.Number)
	if r := e.releaseOf(rp.Number); r.State != release.InReview {
		t.Fatalf("one counted approval made the release %s", r.State)
	}
	check := e.waitReleaseCheck(manifest, func(r ghemu.CheckRun) bool { return strings.Contains(r.Output.Summary, "rex") })
	for _, want := range []string{"is the requester", "not an output checker", "review dismissed", "1 more"} {
		if !strings.Contains(check.Output.Summary+check.Output.Title, want) {
			t.Errorf("release check run does not say %q:\n%s\n%s", want, check.Output.Title, check.Output.Summary)
		}
	}
	var reviews []string
	for _, en := range e.audit(t) {
		if en.Kind == "release.review" {
			reviews = append(reviews, en.Actor+" "+string(en.Data))
		}
	}
	if len(reviews) != 5 {
		t.Errorf("%d reviews logged, want 5:\n%s", len(reviews), strings.Join(reviews, "\n"))
	}
	// Eight review events and replies later, the bot looked once for the
	// comment it posts on the research pull request.
	if n := e.Emulator.Requests("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"); n > 1 {
		t.Errorf("the comments were listed %d times", n)
	}
}

func TestE2EChangesRequestedThenANewRevision(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: releaseConfig})
	e.agent("tpp")
	pr, branch, rp := e.inReview()
	first := rp.HeadSHA

	e.Repo.Review(rp.Number, "dan", "APPROVED", "") // on revision 1
	e.Repo.Review(rp.Number, "cara", "CHANGES_REQUESTED", "Round the count of 3.")
	e.wantState(rp.Number, release.Returned)
	e.reply(pr, 0, "requested changes to release #1")

	c := e.Repo.Comment(pr, "ana", releaseAsk("output/counts.csv", "output/plot.png"))
	e.reply(pr, c, "revision 2")
	rp2 := e.waitReleasePR(pr, 2)
	if rp2.Number != rp.Number || rp2.HeadSHA == first {
		t.Fatalf("revision 2 is #%d at %s; want a new commit on #%d", rp2.Number, rp2.HeadSHA, rp.Number)
	}
	r := e.releaseOf(rp.Number)
	if r.State != release.InReview || r.Revision != 2 || r.ManifestCommit != rp2.HeadSHA {
		t.Fatalf("release after revision 2: %s rev %d at %s", r.State, r.Revision, r.ManifestCommit)
	}
	// dan's approval was of revision 1: alone, cara's new one is not enough.
	e.Repo.Review(rp.Number, "cara", "APPROVED", "")
	check := e.waitReleaseCheck(rp2.HeadSHA, func(r ghemu.CheckRun) bool { return strings.Contains(r.Output.Summary, "older manifest") })
	if e.releaseOf(rp.Number).State != release.InReview {
		t.Fatalf("an approval of an older manifest counted:\n%s", check.Output.Summary)
	}
	e.Repo.Review(rp.Number, "dan", "APPROVED", "")
	e.wantState(rp.Number, release.Released)
	if _, ok := e.committed(rp.HeadRef, branch, "output/counts.csv"); !ok {
		t.Error("the released counts are not on the release branch")
	}
}

func TestE2ETamperedUploadIsRefused(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: releaseConfig})
	a := e.agent("tpp")
	_, branch, rp := e.inReview()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	e.Repo.Review(rp.Number, "cara", "APPROVED", "")
	e.Repo.Review(rp.Number, "dan", "APPROVED", "")
	e.wantState(rp.Number, release.Approved)

	// A hostile (or broken) agent sends other bytes for an approved file.
	var task protocol.Task
	if code := e.agentCall("tpp", "POST", "/tasks/claim?wait=20s", nil, &task); code != http.StatusOK || task.Kind != protocol.KindUploadRelease {
		t.Fatalf("claim: %d %+v", code, task)
	}
	f := task.Release.Files[0]
	tampered := strings.Repeat("x", int(f.Size))
	req, _ := http.NewRequestWithContext(e.ctx, "PUT", e.BotURL()+protocol.APIPrefix+protocol.UploadPath(task.Release.ID, f.Path), strings.NewReader(tampered))
	req.Header.Set("Authorization", "Bearer "+e.AgentToken("tpp"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a tampered upload answered %d, want 422", resp.StatusCode)
	}
	r := e.wantState(rp.Number, release.Rejected)
	if !strings.Contains(r.Reason, "did not match the approved manifest") {
		t.Errorf("reason %q", r.Reason)
	}
	if e.auditKinds(t)["release.alarm"] != 1 {
		t.Errorf("no alarm in the log: %v", e.auditKinds(t))
	}
	if _, ok := e.committed(rp.HeadRef, branch, f.Path); ok {
		t.Error("a tampered file was committed")
	}
	e.waitReleaseCheck(rp.HeadSHA, func(r ghemu.CheckRun) bool { return r.Conclusion == "failure" })
	// The right bytes, sent now, are refused too: a mismatch is never retried into acceptance.
	if code := e.agentCall("tpp", "PUT", protocol.UploadPath(task.Release.ID, f.Path), nil, nil); code != http.StatusConflict {
		t.Errorf("an upload after the rejection answered %d, want 409", code)
	}
}

func TestE2EAPushToTheReleaseBranchTaintsIt(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: releaseConfig})
	e.agent("tpp")
	_, branch, rp := e.inReview()
	manifest := rp.HeadSHA
	// Another app's push: a bot's, but not this bot's.

	foreign := e.Repo.PushAs(rp.HeadRef, "renovate[bot]", map[string]string{release.ReleasedPath(branch, "output/counts.csv"): "group,count\nall,1\n"})
	if err := e.Emulator.WaitFor(e.ctx, func() bool { return e.Repo.Head(rp.HeadRef) == manifest }); err != nil {
		t.Fatalf("the bot did not restore its manifest commit (head %s, foreign %s)", e.Repo.Head(rp.HeadRef), foreign)
	}
	e.Repo.Review(rp.Number, "cara", "APPROVED", "")
	e.Repo.Review(rp.Number, "dan", "APPROVED", "")
	e.wantState(rp.Number, release.Released)
	if kinds := e.auditKinds(t); kinds["release.tainted"] != 1 || kinds["release.restored"] != 1 {
		t.Errorf("taint not logged: %v", kinds)
	}
	got, _ := e.committed(rp.HeadRef, branch, "output/counts.csv")
	want, _ := e.released("tpp", branch, "output/counts.csv")
	if got != want {
		t.Errorf("released counts %q, want the agent's %q", got, want)
	}
}

func TestE2EReleaseRefusals(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: releaseConfig})
	e.agent("tpp")
	pr, _, _ := e.ranAll(releaseStudy(nil))
	cases := map[string]struct{ body, want string }{
		"highly sensitive":  {releaseAsk("output/data.csv"), "highly sensitive output of `generate`"},
		"not an output":     {releaseAsk("analysis/process.sh"), "not a moderately sensitive output"},
		"no context":        {"/release output/counts.csv\n\nControls: rounded\n", "needs a `Context:` paragraph"},
		"no controls":       {"/release output/counts.csv\n\nContext: counts\n", "needs a `Controls:` paragraph"},
		"outside workspace": {releaseAsk("../secrets.csv"), "leaves the workspace"},
	}
	for name, tc := range cases {
		c := e.Repo.Comment(pr, "ana", tc.body)
		if got := e.reply(pr, c, tc.want); !strings.Contains(got.Body, "@ana") {
			t.Errorf("%s: reply %q", name, got.Body)
		}
	}
	rs, err := e.Server().Releases().ForResearchPR(e.ctx, e.Repo.FullName(), pr)
	if err != nil || len(rs) != 0 {
		t.Fatalf("refused asks made releases: %+v, %v", rs, err)
	}
}

func TestE2EWithdraw(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: releaseConfig})
	e.agent("tpp")
	pr, _, rp := e.inReview()
	c := e.Repo.Comment(rp.Number, "ana", "/withdraw")
	e.reply(rp.Number, c, "Release #1 is withdrawn")
	e.wantState(rp.Number, release.Withdrawn)
	if err := e.Emulator.WaitFor(e.ctx, func() bool { p, _ := e.Repo.PullRequest(rp.Number); return p.State == "closed" }); err != nil {
		t.Fatal("the release pull request is still open")
	}
	e.reply(pr, 0, "Release #1 was withdrawn")
	e.Repo.Review(rp.Number, "cara", "APPROVED", "")
	e.Repo.Review(rp.Number, "dan", "APPROVED", "")
	c = e.Repo.Comment(pr, "ana", "/withdraw")
	e.reply(pr, c, "no release request to withdraw")
	if r := e.releaseOf(rp.Number); r.State != release.Withdrawn {
		t.Fatalf("approvals after the withdrawal made it %s", r.State)
	}
}

func TestE2EBotRestartBetweenApprovalAndCommit(t *testing.T) {
	t.Parallel()
	e := startRuns(t, sandbox.Options{Config: releaseConfig})
	a := e.agent("tpp")
	_, branch, rp := e.inReview()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	e.Repo.Review(rp.Number, "cara", "APPROVED", "")
	e.Repo.Review(rp.Number, "dan", "APPROVED", "")
	e.wantState(rp.Number, release.Approved)
	if err := e.StopBot(); err != nil {
		t.Fatal(err)
	}
	if err := e.StartBot(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.agent("tpp")
	e.wantState(rp.Number, release.Released)
	for _, f := range []string{"output/counts.csv", "output/plot.png"} {
		got, _ := e.committed(rp.HeadRef, branch, f)
		want, _ := e.released("tpp", branch, f)
		if got != want || want == "" {
			t.Errorf("%s after a restart: %d bytes, want %d", f, len(got), len(want))
		}
	}
	var releasePRs int
	for n := 1; n < 10; n++ {
		if p, ok := e.Repo.PullRequest(n); ok && strings.HasPrefix(p.HeadRef, "fivesafes/release-") {
			releasePRs++
		}
	}
	if releasePRs != 1 {
		t.Errorf("%d release pull requests, want 1", releasePRs)
	}
	if n := e.Emulator.Requests("POST", "/repos/{owner}/{repo}/git/commits"); n != 2 {
		t.Errorf("%d commits made, want 2 (the manifest and the files)", n)
	}
}
