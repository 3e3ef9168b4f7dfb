package runview

import (
	"fmt"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// ApprovalCheckRun is the check run of a request held for a maintainer's
// approval: action_required, with one "Approve run" button (ApproveAction).
// reason says why it is held ("@eve has read permission on this repository;
// runs need write"); it is Markdown the app wrote, not a user's value.
func ApprovalCheckRun(r jobs.Request, reason string) CheckRun {
	return CheckRun{
		Status:     statusCompleted,
		Conclusion: conclusionActionRequired,
		Output: checks.CheckRunOutput{
			Title:   "Waiting for a maintainer to approve this run",
			Summary: capOutput(heldSummary(r, reason)),
		},
		Actions: []checks.CheckRunAction{approveButton(r.Backend)},
	}
}

// approveButton is the approval button, within GitHub's limits on each field.
func approveButton(backend string) checks.CheckRunAction {
	return checks.CheckRunAction{
		Label:       markdown.FitBytes("Approve run", maxLabel),
		Description: markdown.FitBytes("Run these actions on "+markdown.Line(backend, maxDescription), maxDescription),
		Identifier:  markdown.FitBytes(ApproveAction, maxIdentifier),
	}
}

// heldSummary says who asked for what on which commit, why the request is
// held, and what a maintainer's approval does.
func heldSummary(r jobs.Request, reason string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run #%d: %s asked to run %s on **%s** at commit %s%s.\n\n",
		r.Number, markdown.Mention(r.Requester), requested(r), markdown.Text(r.Backend, 40), markdown.ShortSHA(r.HeadSHA), forced(r))
	if reason = strings.TrimSpace(reason); reason != "" {
		fmt.Fprintf(&b, "**Why it is held:** %s\n\n", sentence(reason))
	}
	fmt.Fprintf(&b, "A maintainer can approve it with the **Approve run** button of this check run. "+
		"An approval is for commit %s only: if new commits are pushed first, this run will not start "+
		"and must be asked for again with `/run`.\n", markdown.ShortSHA(r.HeadSHA))
	return b.String()
}

// ClosedApprovalCheckRun is the approval check run once the request is no
// longer held: approved (it goes on as a new check run), stale (new commits
// came first) or withdrawn. Its button is removed.
func ClosedApprovalCheckRun(r jobs.Request) CheckRun {
	asked := fmt.Sprintf("Run #%d of %s on **%s** at commit %s, asked for by %s,",
		r.Number, requested(r), markdown.Text(r.Backend, 40), markdown.ShortSHA(r.HeadSHA), markdown.Mention(r.Requester))
	c := CheckRun{Status: statusCompleted, Actions: []checks.CheckRunAction{}}
	switch {
	case r.ApprovedBy != "":
		c.Conclusion = conclusionNeutral
		c.Output = checks.CheckRunOutput{
			Title: markdown.Line("Approved by "+markdown.PlainMention(r.ApprovedBy)+": running as a new check run", markdown.TitleRunes),
			Summary: fmt.Sprintf("%s was approved by %s. It runs as the check run **%s**: follow it there.\n",
				asked, markdown.Mention(r.ApprovedBy), markdown.Text(CheckRunName(r), 80)),
		}
	case r.Status == jobs.RequestStale:
		c.Conclusion = conclusionSkipped
		c.Output = checks.CheckRunOutput{
			Title: "Not run: new commits were pushed before it was approved",
			Summary: fmt.Sprintf("%s was held for a maintainer's approval, but new commits were pushed before anyone approved it, "+
				"and an approval is for one commit only. Nothing ran. To run on the new commit, comment `/run ACTION...` again.\n", asked),
		}
	case r.Status == jobs.RequestWithdrawn:
		c.Conclusion = conclusionCancelled
		c.Output = checks.CheckRunOutput{
			Title:   "Withdrawn before it was approved",
			Summary: fmt.Sprintf("%s was withdrawn with `/cancel` before a maintainer approved it. Nothing ran.\n", asked),
		}
	default:
		c.Conclusion = conclusionNeutral
		c.Output = checks.CheckRunOutput{
			Title:   "No longer waiting for approval",
			Summary: fmt.Sprintf("%s no longer waits for a maintainer's approval.\n", asked),
		}
	}
	c.Output.Summary = capOutput(c.Output.Summary)
	return c
}
