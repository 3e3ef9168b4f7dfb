package release

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/markdown"
)

// CheckRunName is the name of a release's check run, on its manifest
// commit.
const CheckRunName = "fivesafes / release"

// CheckRun is what a release's check run shows now.
type CheckRun struct {
	Status     string // in_progress or completed
	Conclusion string // with completed: action_required, success, failure, cancelled (neutral for an unknown state)
	Output     checks.CheckRunOutput
}

// Request is what GitHub shows of a release request.
type Request struct {
	ID             string
	Number         int // "release #N"
	Revision       int
	State          State
	Requester      string
	Backend        string
	ResearchPR     int
	ReleasePR      int // 0 until opened
	Branch         string
	ManifestCommit string // the commit whose reviews count
	Files          []File // the current revision's manifest
	// Tainted: someone else pushed to the release branch, and the bot has
	// not yet put its own commit back.
	Tainted bool
	Reason  string // why rejected or withdrawn
}

// Check run statuses and conclusions, as GitHub names them.
const (
	statusInProgress = "in_progress"
	statusCompleted  = "completed"

	conclusionSuccess        = "success"
	conclusionFailure        = "failure"
	conclusionCancelled      = "cancelled"
	conclusionActionRequired = "action_required"
	conclusionNeutral        = "neutral"
)

// Shown at most, before "… and N more".
const (
	loginsInTitle  = 3
	loginsListed   = 50
	pathsInComment = 20
	reasonShown    = 500
)

// taintWarning is the alarm shown while someone else's commit is on the
// release branch.
const taintWarning = "A commit not made by fivesafes was pushed to the release branch; " +
	"reviews of it do not count until the manifest commit is restored."

// ReleaseCheckRun is what the release's check run shows: while checkers
// review, a completed run that asks for action (so the pull request shows
// it needs reviews or changes); while approved files upload, a run in
// progress; when finished, success, failure or cancelled. v is the
// policy's verdict on r's manifest commit: the summary says whose reviews
// counted, whose did not and why.
func ReleaseCheckRun(r Request, p Policy, v Verdict) CheckRun {
	required := max(p.ApprovalsRequired, 1)
	run := CheckRun{Status: statusCompleted}
	switch r.State {
	case PendingManifest:
		run.Status = statusInProgress
		run.Output.Title = fmt.Sprintf("Preparing the manifest of revision %d", r.Revision)
	case InReview, Returned:
		run.Conclusion = conclusionActionRequired
		run.Output.Title = reviewTitle(r, required, v)
	case Approved, Uploading:
		run.Status = statusInProgress
		run.Output.Title = fmt.Sprintf("Approved by %s; uploading %s", plainLogins(v.Counted), markdown.Plural(len(r.Files), "file"))
		if len(v.Counted) == 0 {
			run.Output.Title = fmt.Sprintf("Approved; uploading %s", markdown.Plural(len(r.Files), "file"))
		}
	case Released:
		run.Conclusion = conclusionSuccess
		run.Output.Title = "Released " + markdown.Plural(len(r.Files), "file")
	case Rejected:
		run.Conclusion = conclusionFailure
		run.Output.Title = "Rejected"
		if r.Reason != "" {
			run.Output.Title += ": " + markdown.Line(r.Reason, reasonShown)
		}
	case Withdrawn:
		run.Conclusion = conclusionCancelled
		run.Output.Title = withdrawnTitle(r.Reason)
	default:
		run.Conclusion = conclusionNeutral
		run.Output.Title = "Release is " + markdown.Line(string(r.State), 40)
	}
	run.Output.Title = markdown.Shorten(run.Output.Title, markdown.TitleRunes)
	run.Output.Summary = markdown.FitBytes(checkRunSummary(r, required, v), markdown.MaxOutput)
	run.Output.Text = markdown.FitBytes(filesTable(r.Files), markdown.MaxOutput)
	return run
}

// reviewTitle says what a release in review waits for.
func reviewTitle(r Request, required int, v Verdict) string {
	switch more := required - len(v.Counted); {
	case len(v.ChangesRequested) > 0:
		return "Changes requested by " + plainLogins(v.ChangesRequested)
	case r.State == Returned:
		return "Returned to the researcher"
	case more > 0:
		return "Waiting for " + moreApprovals(more, "output checker approval")
	}
	return "Approved by " + plainLogins(v.Counted)
}

// moreApprovals is "1 more approval", "2 more approvals".
func moreApprovals(n int, noun string) string {
	if n == 1 {
		return "1 more " + noun
	}
	return fmt.Sprintf("%d more %ss", n, noun)
}

// withdrawnTitle is "Withdrawn by @x" for the store's reason "withdrawn by
// @x", or "Withdrawn: reason".
func withdrawnTitle(reason string) string {
	reason = markdown.Line(reason, reasonShown)
	switch {
	case reason == "":
		return "Withdrawn"
	case len(reason) >= 9 && strings.EqualFold(reason[:9], "withdrawn"):
		return "W" + reason[1:]
	}
	return "Withdrawn: " + reason
}

// checkRunSummary is who asked for what, the commit reviewed and the
// policy, then whose reviews counted and whose did not, and what happens
// next.
func checkRunSummary(r Request, required int, v Verdict) string {
	l := markdown.Lines{Budget: markdown.Budget}
	l.Must(fmt.Sprintf("**Release #%d**, revision %d: %s from %s, asked for by %s on the %s backend.\n",
		r.Number, r.Revision, markdown.Plural(len(r.Files), "file"), prRef(r.ResearchPR), markdown.Mention(r.Requester), markdown.Code(r.Backend, 40)))
	if r.Tainted {
		l.Must("> **Warning:** " + taintWarning + "\n")
	}
	reviewed := "No manifest commit to review yet."
	if r.ManifestCommit != "" {
		reviewed = "Manifest commit reviewed: " + markdown.ShortSHA(r.ManifestCommit) + "."
	}
	l.Must(fmt.Sprintf("%s Release needs %s: distinct output checkers, not the requester, each approving that commit. "+
		"A request for changes by any checker returns the release to the researcher.\n", reviewed, markdown.Plural(required, "approval")))

	counted := "none yet"
	if len(v.Counted) > 0 {
		counted = markdownLogins(v.Counted, loginsListed)
	}
	l.Must(fmt.Sprintf("- **Counted (%d of %d):** %s", len(v.Counted), required, counted))
	if len(v.ChangesRequested) > 0 {
		l.Must("- **Changes requested by:** " + markdownLogins(v.ChangesRequested, loginsListed))
	}
	if len(v.Ignored) > 0 {
		l.Must("- **Not counted:**")
		logins := make([]string, 0, len(v.Ignored))
		for login := range v.Ignored {
			logins = append(logins, login)
		}
		slices.SortFunc(logins, func(a, b string) int {
			return strings.Compare(strings.ToLower(a), strings.ToLower(b))
		})
		const reserve = 2000 // the closing lines
		for i, login := range logins {
			line := fmt.Sprintf("  - %s: %s", markdown.Mention(login), markdown.TextNoMentions(v.Ignored[login], 200))
			if i == loginsListed || !l.Add(line, reserve) {
				l.Must(fmt.Sprintf("  - … and %d more", len(logins)-i))
				break
			}
		}
	}
	l.Must("\n" + nextStep(r, required, v))
	return l.String()
}

// nextStep says, in a sentence, where the release is and what happens next.
func nextStep(r Request, required int, v Verdict) string {
	files := markdown.Plural(len(r.Files), "file")
	switch r.State {
	case PendingManifest:
		return fmt.Sprintf("The %s backend is preparing the manifest of revision %d; reviews of earlier revisions no longer count.",
			markdown.Code(r.Backend, 40), r.Revision)
	case InReview:
		if more := required - len(v.Counted); more > 0 && len(v.ChangesRequested) == 0 {
			return "Waiting for " + moreApprovals(more, "approval") + ": output checkers, review the manifest of this " +
				"pull request and approve it, or request changes."
		}
		return "Reviews are being counted."
	case Returned:
		return fmt.Sprintf("Returned to %s: a new `/release` on %s makes revision %d, which output checkers review afresh.",
			markdown.Mention(r.Requester), prRef(r.ResearchPR), r.Revision+1)
	case Approved, Uploading:
		return fmt.Sprintf("Approved. The %s backend is uploading %s; each must match the size and SHA-256 approved here, "+
			"or nothing is released.", markdown.Code(r.Backend, 40), files)
	case Released:
		return fmt.Sprintf("Released %s: they are committed on %s under %s.", files, prRef(r.ReleasePR),
			markdown.Code(ReleasedPath(r.Branch, "")+"/", 200))
	case Rejected:
		return "Rejected: " + reasonText(r.Reason) + " Nothing was released."
	case Withdrawn:
		return upperFirst(withdrawnText(r.Reason)) + " Nothing was released."
	}
	return "The release is " + markdown.TextNoMentions(string(r.State), 40) + "."
}

// filesTable is the current manifest's files, one row each by path, cut
// short with a row that counts what did not fit.
func filesTable(files []File) string {
	if len(files) == 0 {
		return ""
	}
	files = sortedFiles(files)
	l := markdown.Lines{Budget: markdown.Budget}
	l.Must("### Files\n")
	l.Must("| Path | Size | Rows × columns | SHA-256 | Findings |\n|---|---|---|---|---|")
	const reserve = 200
	for i, f := range files {
		row := fmt.Sprintf("| %s | %s | %s | %s | %s |", markdown.Cell(f.Path, pathShown), markdown.Size(f.Size), shape(f),
			markdown.SHA256(f.SHA256), findingsCell(f))
		if !l.Add(row, reserve) {
			l.Must(fmt.Sprintf("| … and %d more files | | | | |", len(files)-i))
			break
		}
	}
	l.Must("\nFindings are advice from automated disclosure checks, not a verdict; the manifest on the pull request lists them.")
	return l.String()
}

// reasonText is why a release ended, escaped, as a sentence.
func reasonText(reason string) string {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "no reason was given."
	}
	s := markdown.TextNoMentions(reason, reasonShown)
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// prRef is #N for a pull request, or says it is not opened yet.
func prRef(n int) string {
	if n <= 0 {
		return "a pull request not yet opened"
	}
	return fmt.Sprintf("#%d", n)
}

// plainLogins lists logins for a title.
func plainLogins(logins []string) string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = markdown.PlainMention(l)
	}
	return markdown.ListElided(out, loginsInTitle)
}

// markdownLogins lists logins as mentions.
func markdownLogins(logins []string, limit int) string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = markdown.Mention(l)
	}
	return markdown.ListElided(out, limit)
}

// Comments the bot posts on the research and release pull requests. Each
// body starts with a marker naming the release, the event and the
// revision, so that a retried step finds the comment it posted (Marker)
// instead of posting it twice.

// Marker is the marker that starts a comment body these functions make.
func Marker(body string) string {
	first, _, _ := strings.Cut(body, "\n")
	if strings.HasPrefix(first, "<!-- fivesafes:release ") && strings.HasSuffix(first, " -->") {
		return first
	}
	return ""
}

func marker(r Request, event string) string {
	return fmt.Sprintf("<!-- fivesafes:release %s %s r%d -->\n", pathComponent(r.ID), event, r.Revision)
}

// ReadyComment, on the research pull request, says that the release pull
// request shows the manifest of a revision for checkers to review.
func ReadyComment(r Request) string {
	return marker(r, "ready") + fmt.Sprintf("Release #%d is ready for review: %s (revision %d, %s).\n\n"+
		"Output checkers review its manifest there. Nothing leaves the secure zone until they approve it; "+
		"comment `/withdraw` to end the request.\n", r.Number, prRef(r.ReleasePR), r.Revision, markdown.Plural(len(r.Files), "file"))
}

// ReturnedComment, on the research pull request, says who requested
// changes and how to make a new revision.
func ReturnedComment(r Request, v Verdict) string {
	who := "An output checker"
	if len(v.ChangesRequested) > 0 {
		who = markdownLogins(v.ChangesRequested, loginsInTitle)
	}
	return marker(r, "returned") + fmt.Sprintf("%s requested changes to release #%d (revision %d) in %s: read the review there.\n\n"+
		"%s, comment `/release` again with the files, context and controls revised to make revision %d; "+
		"approvals of revision %d will not count for it.\n",
		upperFirst(who), r.Number, r.Revision, prRef(r.ReleasePR), markdown.Mention(r.Requester), r.Revision+1, r.Revision)
}

// ReleasedComment, on the research pull request, lists what was released.
func ReleasedComment(r Request) string {
	return marker(r, "released") + fmt.Sprintf("Released %s in %s: %s.\n\nThey are committed under %s; "+
		"a maintainer merges %s to add them to the default branch.\n",
		markdown.Plural(len(r.Files), "file"), prRef(r.ReleasePR), pathList(r.Files), markdown.Code(ReleasedPath(r.Branch, "")+"/", 200), prRef(r.ReleasePR))
}

// ReleasePRComment, on the release pull request, says that the approved
// files are committed on it.
func ReleasePRComment(r Request) string {
	return marker(r, "released-here") + fmt.Sprintf("Released %s, byte for byte as approved in commit %s: %s.\n\n"+
		"They are committed on this pull request under %s. Merge it to add them to the default branch.\n",
		markdown.Plural(len(r.Files), "file"), markdown.ShortSHA(r.ManifestCommit), pathList(r.Files), markdown.Code(ReleasedPath(r.Branch, "")+"/", 200))
}

// RejectedComment, on the research pull request, says why the release
// ended unreleased.
func RejectedComment(r Request) string {
	return marker(r, "rejected") + fmt.Sprintf("Release #%d was rejected: %s\n\nNothing was released. "+
		"Comment `/release` to ask again.\n", r.Number, reasonText(r.Reason))
}

// WithdrawnComment, on the research pull request, says that the release
// ended unreleased.
func WithdrawnComment(r Request) string {
	closed := ""
	if r.ReleasePR > 0 {
		closed = fmt.Sprintf(" Its release pull request %s is closed.", prRef(r.ReleasePR))
	}
	return marker(r, "withdrawn") + fmt.Sprintf("Release #%d was %s%s Nothing was released.\n",
		r.Number, withdrawnText(r.Reason), closed)
}

// withdrawnText is "withdrawn by @x." for the store's reason "withdrawn by
// @x", or "withdrawn: reason.", escaped.
func withdrawnText(reason string) string {
	reason = strings.TrimSpace(reason)
	if len(reason) >= 9 && strings.EqualFold(reason[:9], "withdrawn") {
		reason = strings.TrimSpace(reason[9:])
		if reason != "" && !strings.HasPrefix(reason, ":") && !strings.HasPrefix(reason, ",") {
			return "withdrawn " + reasonText(reason)
		}
		reason = strings.TrimSpace(strings.TrimLeft(reason, ":,"))
	}
	if reason == "" {
		return "withdrawn."
	}
	return "withdrawn: " + reasonText(reason)
}

// pathList lists files' paths as code, at most pathsInComment of them.
func pathList(files []File) string {
	files = sortedFiles(files)
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = markdown.Code(f.Path, pathShown)
	}
	if len(paths) == 0 {
		return "no files"
	}
	return markdown.ListElided(paths, pathsInComment)
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
