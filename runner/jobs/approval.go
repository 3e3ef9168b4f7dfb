package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// Decision is a run that was refused, or that had nothing to do: it is
// recorded in the log but creates no request.
type Decision struct {
	Repo    string
	PR      int
	HeadSHA string
	Actor   string // who asked
	Actions []string
	Backend string
	Reason  string
}

// Refuse records a run that was refused and why (run.refused).
func (s *Store) Refuse(ctx context.Context, d Decision, now time.Time) error {
	return s.decide(ctx, "run.refused", d, now)
}

// NothingToRun records a run whose every action was already pending or
// running (run.nothing_to_do); Reason says which and where.
func (s *Store) NothingToRun(ctx context.Context, d Decision, now time.Time) error {
	return s.decide(ctx, "run.nothing_to_do", d, now)
}

func (s *Store) decide(ctx context.Context, kind string, d Decision, now time.Time) error {
	return s.write(ctx, now, func(t *txn) error {
		return t.audit(kind, d.Actor, d.Repo, fmt.Sprintf("%s#%d@%s", d.Repo, d.PR, d.HeadSHA), map[string]any{
			"pr": d.PR, "sha": d.HeadSHA, "actions": nonNil(d.Actions), "backend": d.Backend, "reason": d.Reason,
		})
	})
}

// HoldRequest stores r as held for a maintainer's approval, without jobs,
// and records run.held and why. Calling it again with the same ID returns
// the request stored the first time.
func (s *Store) HoldRequest(ctx context.Context, r Request, reason string, now time.Time) (Request, error) {
	if err := r.check(); err != nil {
		return r, fmt.Errorf("hold job request: %w", err)
	}
	err := s.write(ctx, now, func(t *txn) error {
		r.Plan, r.HoldReason = []PlanStep{}, reason
		created, err := t.insertRequest(&r, RequestHeld, plan.Plan{})
		if err != nil || !created {
			return err
		}
		return t.audit("run.held", r.Requester, r.Repo, r.ID, map[string]any{
			"number": r.Number, "pr": r.PR, "sha": r.HeadSHA, "backend": r.Backend, "actions": nonNil(r.Actions),
			"force": r.Force, "reason": reason,
		})
	})
	if err != nil {
		return r, fmt.Errorf("hold job request: %w", err)
	}
	return r, nil
}

// ErrNotHeld is returned (wrapped) when a request to approve is not held
// (any more): approved already, stale, withdrawn.
var ErrNotHeld = errors.New("not held")

// ApproveRequest starts a held request: approver's approval is recorded
// (run.approved) and the jobs of p are created as CreateRequest would. The
// approval's check run is kept for the reporter to close.
func (s *Store) ApproveRequest(ctx context.Context, id, approver string, p plan.Plan, steps []PlanStep, pipeline *checks.Pipeline, now time.Time) (Request, error) {
	var r Request
	err := s.write(ctx, now, func(t *txn) error {
		var err error
		if r, err = requestBy(ctx, t.tx, id); err != nil {
			return err
		}
		if r.Status != RequestHeld {
			return fmt.Errorf("%w: run #%d is %s", ErrNotHeld, r.Number, r.Status)
		}
		if steps == nil {
			steps = PlanSteps(p, id, nil)
		}
		r.Status, r.ApprovedBy, r.Plan = RequestRunning, approver, steps
		if _, err := t.tx.ExecContext(ctx, `UPDATE job_requests SET status = ?, approved_by = ?, plan = ? WHERE id = ?`,
			r.Status, approver, mustJSON(steps), id); err != nil {
			return fmt.Errorf("approve job request %s: %w", id, err)
		}
		t.repos[r.ID] = r.Repo
		t.touch(r.ID)
		if err := t.audit("run.approved", approver, r.Repo, r.ID, map[string]any{
			"number": r.Number, "pr": r.PR, "sha": r.HeadSHA, "requester": r.Requester, "backend": r.Backend,
			"actions": r.Actions, "plan": p.Summary(),
		}); err != nil {
			return err
		}
		return t.startJobs(r, p, pipeline)
	})
	if err != nil {
		return r, fmt.Errorf("approve job request: %w", err)
	}
	return s.Request(ctx, id)
}

// ExpireHeld makes the held requests of a pull request whose head is no
// longer headSHA stale (run.stale): an approval is for one commit only.
func (s *Store) ExpireHeld(ctx context.Context, repo string, pr int, headSHA string, now time.Time) ([]Request, error) {
	return s.endHeld(ctx, now, RequestStale, "run.stale", Actor,
		fmt.Sprintf("new commits were pushed (head is now %s)", short(headSHA)),
		`WHERE repo = ? AND pr = ? AND status = 'held' AND head_sha != ?`, repo, pr, headSHA)
}

// Withdraw ends the held requests among ids (run.withdrawn), as /cancel does.
func (s *Store) Withdraw(ctx context.Context, actor string, ids []string, now time.Time) ([]Request, error) {
	return s.endHeld(ctx, now, RequestWithdrawn, "run.withdrawn", actor, "cancelled by "+actor,
		`WHERE status = 'held' AND id IN (SELECT value FROM json_each(?))`, mustJSON(nonNil(ids)))
}

func (s *Store) endHeld(ctx context.Context, now time.Time, status RequestStatus, kind, actor, reason, where string, args ...any) ([]Request, error) {
	var out []Request
	err := s.write(ctx, now, func(t *txn) error {
		held, err := queryRequests(ctx, t.tx, where+` ORDER BY number`, args...)
		if err != nil {
			return err
		}
		for _, r := range held {
			if _, err := t.tx.ExecContext(ctx, `UPDATE job_requests SET status = ?, finished_at = ? WHERE id = ?`,
				status, t.now.UnixMilli(), r.ID); err != nil {
				return fmt.Errorf("end held job request %s: %w", r.ID, err)
			}
			t.touch(r.ID)
			if err := t.audit(kind, actor, r.Repo, r.ID, map[string]any{"number": r.Number, "pr": r.PR, "reason": reason}); err != nil {
				return err
			}
			r.Status = status
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
