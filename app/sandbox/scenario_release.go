package sandbox

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/release"
)

// releaseAsk is the demo's /release comment.
const releaseAsk = `/release output/table1.csv

Context: how many patients in the dummy dataset have a value in each column, from describe_cohort.

Controls: every count is rounded to the nearest 5; no count is below 10.
`

var readyComment = regexp.MustCompile(`Release #\d+ is ready for review: #(\d+)`)

// releaseTable plays the release part of the demo: ana asks to release
// the table the run made, the output checkers approve the manifest in
// reviews of the release pull request, and the table is committed to it,
// byte for byte as the agent has it.
func releaseTable(ctx context.Context, s *Stack, p *printer, number int, branch string, problem func(string, ...any)) error {
	ask := s.Repo.Comment(number, "ana", releaseAsk)
	p.step("ana asks to release output/table1.csv, saying what it is and how disclosure was controlled")
	ready, err := s.Repo.WaitComment(ctx, number, func(c ghemu.Comment) bool { return c.ID > ask && readyComment.MatchString(c.Body) })
	if err != nil {
		return fmt.Errorf("the release pull request was never announced: %w", err)
	}
	releasePR, _ := strconv.Atoi(readyComment.FindStringSubmatch(ready.Body)[1])
	rp, _ := s.Repo.PullRequest(releasePR)
	p.say("   the bot replies on #%d: %s", number, firstLine(visible(ready.Body)))
	p.say("   release pull request #%d %q (%s -> %s); review requested from %s", rp.Number, rp.Title, rp.HeadRef, rp.BaseRef,
		strings.Join(rp.RequestedReviewers, ", "))
	if check, err := waitRunStatus(ctx, s, rp.HeadSHA, release.CheckRunName, "completed"); err == nil {
		p.say("   %s — %s: %s", check.Name, check.Conclusion, check.Output.Title)
	}
	rel, err := s.Server().Releases().ByReleasePR(ctx, s.Repo.FullName(), releasePR)
	if err != nil {
		return err
	}
	if md, ok := s.Repo.File(rp.HeadRef, release.ManifestDir(rel.ID)+"/manifest.md"); ok {
		p.say("   %s/manifest.md, the only change on the release branch, no data:", release.ManifestDir(rel.ID))
		p.indent(md, "     | ")
	} else {
		problem("the release branch has no manifest.md")
	}

	for _, c := range Checkers {
		s.Repo.Review(releasePR, c, "APPROVED", "")
	}
	p.step("the output checkers %s approve the manifest in reviews of #%d", strings.Join(Checkers, " and "), releasePR)
	done, err := s.Repo.WaitComment(ctx, number, func(c ghemu.Comment) bool { return strings.Contains(c.Body, "Released ") })
	if err != nil {
		problem("the approved table was never released: %v", err)
		return nil
	}
	p.say("   the bot replies on #%d: %s", number, firstLine(visible(done.Body)))
	if check, err := s.Repo.WaitCheckRun(ctx, rp.HeadSHA, release.CheckRunName); err == nil {
		p.say("   %s — %s: %s", check.Name, check.Conclusion, check.Output.Title)
	}
	committed := release.ReleasedPath(branch, "output/table1.csv")
	got, ok := s.Repo.File(rp.HeadRef, committed)
	want, err := os.ReadFile(s.MediumPrivacyFile(DemoBackend, branch, "output/table1.csv"))
	switch {
	case !ok:
		problem("%s is not on the release branch", committed)
	case err != nil || got != string(want):
		problem("%s on the release branch is not the agent's copy", committed)
	default:
		p.say("   #%d now adds %s (%d bytes), byte-identical to the agent's medium privacy copy", releasePR, committed, len(got))
	}
	return nil
}
