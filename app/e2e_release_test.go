package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fivesafes/fivesafes/app/sandbox"
	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/release"
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
