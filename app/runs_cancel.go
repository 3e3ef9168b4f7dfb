package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// Cancel is /cancel [ACTION...] on a pull request: the pending and running
// jobs of its runs (or those of the actions named) are cancelled, pending
// ones at once and running ones through the agent, and runs held for
// approval are withdrawn. Someone without the run permission may cancel
// only the runs they asked for.
func (r *Runs) Cancel(ctx context.Context, repo checks.Repo, pr int, actor string, actions []string) (RunOutcome, error) {
	all, err := r.store.Requests(ctx, repo.FullName(), pr)
	if err != nil {
		return RunOutcome{}, err
	}
	var active []jobs.Request
	for _, q := range all {
		if !q.Status.Finished() {
			active = append(active, q)
		}
	}
	if len(active) == 0 {
		return RunOutcome{Verdict: Refused, Reply: "There is nothing to cancel: no run of this pull request is pending, running or waiting for approval.\n"}, nil
	}
	role, err := r.gh.Permission(ctx, repo, actor)
	if err != nil {
		return RunOutcome{}, err
	}
	if !roleAtLeast(role, r.policy.Permission) {
		active = slices.DeleteFunc(active, func(q jobs.Request) bool { return !strings.EqualFold(q.Requester, actor) })
		if len(active) == 0 {
			return RunOutcome{Verdict: Refused, Reply: fmt.Sprintf("I did not cancel anything: cancelling other people's runs needs %s permission on this repository, and @%s has %s.\n",
				r.policy.Permission, actor, roleName(role))}, nil
		}
	}
	var running, held []string
	for _, q := range active {
		if q.Status == jobs.RequestHeld {
			held = append(held, q.ID)
		} else {
			running = append(running, q.ID)
		}
	}
	cancelled, err := r.store.Cancel(ctx, actor, running, actions, r.now())
	if err != nil {
		return RunOutcome{}, err
	}
	var withdrawn []jobs.Request
	if len(actions) == 0 {
		if withdrawn, err = r.store.Withdraw(ctx, actor, held, r.now()); err != nil {
			return RunOutcome{}, err
		}
	}
	if len(cancelled) == 0 && len(withdrawn) == 0 {
		return RunOutcome{Verdict: Refused, Reply: fmt.Sprintf("There is nothing to cancel: no pending or running job of %s.\n", codes(actions))}, nil
	}
	return RunOutcome{Verdict: Admitted, Reply: cancelReply(cancelled, withdrawn)}, nil
}

func cancelReply(cancelled []jobs.Job, withdrawn []jobs.Request) string {
	var lines []string
	for _, j := range cancelled {
		if j.Finished() {
			lines = append(lines, fmt.Sprintf("%s: cancelled", markdown.Code(j.Action, valueShown)))
		} else {
			lines = append(lines, fmt.Sprintf("%s: running; the backend is stopping it", markdown.Code(j.Action, valueShown)))
		}
	}
	for _, q := range withdrawn {
		lines = append(lines, fmt.Sprintf("run #%d: withdrawn before approval", q.Number))
	}
	slices.Sort(lines)
	return "Cancelled:\n\n" + bullets(lines)
}

// Status asks for the pull request's status comment to be shown again, or
// made, as /status does.
func (r *Runs) Status(ctx context.Context, repo checks.Repo, pr int) error {
	return r.store.TouchPR(ctx, repo.FullName(), pr, repo.InstallationID)
}
