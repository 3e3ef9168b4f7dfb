package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// Approve is a maintainer's click on "Approve run" of a held request. The
// approver needs the run permission; the approval is for the commit the
// request was held on, so a push since makes the request stale instead.
// Everything else admission checks is checked again: the pull request may
// have been closed, or its requirements lapsed, since. The reply says what
// happened when the click did not start the run.
func (r *Runs) Approve(ctx context.Context, repo checks.Repo, requestID, approver string) (RunOutcome, error) {
	req, err := r.store.Request(ctx, requestID)
	if errors.Is(err, jobs.ErrNotFound) {
		return RunOutcome{Verdict: Refused}, nil // not a request of this bot's: nothing to say
	}
	if err != nil {
		return RunOutcome{}, err
	}
	if req.Repo != repo.FullName() {
		return RunOutcome{Verdict: Refused}, nil
	}
	if req.Status != jobs.RequestHeld {
		return outcomeOf(req), nil // approved already (a redelivery, a second click), or stale
	}
	ctx = logging.Attrs(ctx, logging.KeyPR, req.PR, logging.KeySHA, req.HeadSHA)
	role, err := r.gh.Permission(ctx, repo, approver)
	if err != nil {
		return RunOutcome{}, err
	}
	if !roleAtLeast(role, r.policy.Permission) {
		logging.From(ctx).Info("approval refused", "request", req.ID, "approver", approver, "role", role)
		return RunOutcome{Verdict: Held, Request: req, Reply: fmt.Sprintf(
			"@%s clicked **Approve run** on run #%d, but approving a run needs %s permission on this repository, and @%s has %s.",
			approver, req.Number, r.policy.Permission, approver, roleName(role))}, nil
	}
	pr, err := r.gh.PullRequest(ctx, repo, req.PR)
	if err != nil {
		return RunOutcome{}, err
	}
	if pr.HeadSHA != req.HeadSHA {
		if _, err := r.store.ExpireHeld(ctx, req.Repo, req.PR, pr.HeadSHA, r.now()); err != nil {
			return RunOutcome{}, err
		}
		return RunOutcome{Verdict: Refused, Request: req, Reply: fmt.Sprintf(
			"Run #%d was asked for on commit %s, and new commits have been pushed since (the head is now %s), so it cannot be approved. "+
				"Ask again with `/run` to run the new commits.", req.Number, markdown.Code(shortSHA(req.HeadSHA), valueShown), markdown.Code(shortSHA(pr.HeadSHA), valueShown))}, nil
	}
	pipeline, problem, err := r.pipeline(ctx, repo, req.HeadSHA)
	if err != nil {
		return RunOutcome{}, err
	}
	requesterRole, err := r.gh.Permission(ctx, repo, req.Requester)
	if err != nil {
		return RunOutcome{}, err
	}
	facts, err := r.facts(ctx, repo, pr, req.Requester, requesterRole)
	if err != nil {
		return RunOutcome{}, err
	}
	facts.ApprovedBy = approver
	if adm := Admit(r.policy, facts); problem != "" || adm.Verdict != Admitted {
		reasons := adm.Reasons
		if problem != "" {
			reasons = append([]string{problem}, reasons...)
		}
		return RunOutcome{Verdict: Held, Request: req, Reply: fmt.Sprintf("@%s approved run #%d, but it still cannot run:\n\n%s", approver, req.Number, bullets(reasons))}, nil
	}
	tree, err := r.tree(ctx, repo, req.HeadSHA)
	if err != nil {
		return RunOutcome{}, err
	}
	p, steps, err := r.plan(ctx, req, pipeline, tree)
	if err != nil {
		out, err := r.planFailed(ctx, req, err)
		out.Verdict, out.Request = Held, req
		return out, err
	}
	started, err := r.store.ApproveRequest(ctx, req.ID, approver, p, steps, pipeline, r.now())
	if errors.Is(err, jobs.ErrNotHeld) {
		return RunOutcome{Verdict: Admitted}, nil // another click won the race
	}
	if err != nil {
		return RunOutcome{}, err
	}
	logging.From(ctx).Info("run approved", "request", started.ID, "approver", approver, "plan", p.Summary())
	return RunOutcome{Verdict: Admitted, Request: started}, nil
}

// ExpireHeld voids the approvals pending on a pull request whose head moved.
func (r *Runs) ExpireHeld(ctx context.Context, repo checks.Repo, pr int, head string) error {
	stale, err := r.store.ExpireHeld(ctx, repo.FullName(), pr, head, r.now())
	for _, s := range stale {
		logging.From(ctx).Info("held run made stale by a push", "request", s.ID, "number", s.Number)
	}
	return err
}
