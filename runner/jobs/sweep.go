package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fivesafes/fivesafes/runner/plan"
)

// ExpireLeases makes every claimed task whose lease ran out by now
// claimable again with the next attempt number; a task that used its last
// attempt fails its job with internal_error. It returns how many tasks it
// released or gave up on.
func (s *Store) ExpireLeases(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.write(ctx, now, func(t *txn) error {
		rows, err := t.tx.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE state = 'claimed' AND lease_expires_at <= ? ORDER BY seq`, t.now.UnixMilli())
		if err != nil {
			return fmt.Errorf("expired leases: %w", err)
		}
		var expired []Task
		for rows.Next() {
			task, err := scanTask(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("expired leases: %w", err)
			}
			expired = append(expired, task)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("expired leases: %w", err)
		}
		for _, task := range expired {
			if err := t.expire(task); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

func (t *txn) expire(task Task) error {
	var j Job
	var err error
	if task.Kind == RunJob && task.JobID != "" {
		if j, err = t.job(task.JobID); err != nil {
			return err
		}
	}
	// A job the user cancelled is not run again when its agent goes silent.
	if j.ID != "" && !j.Finished() && j.CancelRequested {
		_, err := t.move(j, Event{Kind: Cancelled, Message: "cancelled; the agent stopped reporting before it stopped the job"}, Actor)
		return err
	}
	if task.Attempt >= t.s.maxAttempts {
		if task.JobID == "" {
			// Nobody else will say it: the task's finisher hears it failed.
			return t.endTask(task, Update{Status: InternalError,
				Message: fmt.Sprintf("the agent stopped reporting on each of %d attempts", task.Attempt)})
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE tasks SET state = 'done', lease_expires_at = NULL WHERE id = ?`, task.ID); err != nil {
			return fmt.Errorf("give up task %s: %w", task.ID, err)
		}
		if j.ID == "" || j.Finished() {
			return nil
		}
		// Should the silent agent come back, it is told to stop.
		j.CancelRequested = true
		_, err := t.move(j, Event{Kind: Abandoned, Message: fmt.Sprintf("the agent stopped reporting on each of %d attempts", task.Attempt)}, Actor)
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE tasks SET state = 'pending', attempt = attempt + 1, last_seq = 0, lease_expires_at = NULL
		WHERE id = ?`, task.ID); err != nil {
		return fmt.Errorf("release task %s: %w", task.ID, err)
	}
	t.wake[task.Backend] = true
	if j.ID == "" || j.State != plan.Running {
		return nil
	}
	_, err = t.move(j, Event{Kind: LeaseLost, Message: fmt.Sprintf("the agent stopped reporting on attempt %d; waiting for a worker again", task.Attempt)}, Actor)
	return err
}

// TimeOut fails every running job that ran past its wall-clock limit by now
// with timed_out; the agent is told to cancel in the answer to its next
// update. It returns how many jobs it timed out.
func (s *Store) TimeOut(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.write(ctx, now, func(t *txn) error {
		jobs, err := queryJobs(ctx, t.tx, `WHERE state = 'running' AND started_at + timeout_ms <= ? ORDER BY started_at`, t.now.UnixMilli())
		if err != nil {
			return err
		}
		for _, j := range jobs {
			j.CancelRequested = true
			next, err := t.move(j, Event{Kind: TimedOutEvent, Message: fmt.Sprintf("ran past its time limit of %s", j.Timeout)}, Actor)
			if err != nil {
				return err
			}
			if err := t.queueCancel(next); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Cancel cancels the unfinished jobs of the given requests; with actions,
// only the jobs of those actions. A pending job is cancelled at once (and its
// dependants fail); a running job is flagged and a cancel_job task queued:
// the agent stops it when a worker claims that task, or when the answer to
// its next update says so, whichever comes first. It returns the jobs it
// cancelled or flagged.
func (s *Store) Cancel(ctx context.Context, actor string, requestIDs, actions []string, now time.Time) ([]Job, error) {
	var out []Job
	err := s.write(ctx, now, func(t *txn) error {
		jobs, err := queryJobs(ctx, t.tx, `WHERE state IN ('pending', 'running')
			AND job_request_id IN (SELECT value FROM json_each(?))
			AND (? = '[]' OR action IN (SELECT value FROM json_each(?)))
			ORDER BY created_at DESC, rowid DESC`, mustJSON(requestIDs), mustJSON(nonNil(actions)), mustJSON(nonNil(actions)))
		if err != nil {
			return err
		}
		// Dependants first, so that each job cancelled is cancelled_by_user
		// rather than failed for its cancelled dependency.
		for _, j := range jobs {
			// An earlier cancellation in this loop may have failed it already.
			cur, err := t.job(j.ID)
			if err != nil {
				return err
			}
			switch {
			case cur.Finished():
				continue
			case cur.State == plan.Pending:
				cur, err = t.move(cur, Event{Kind: Cancelled, Message: "cancelled by " + actor}, actor)
			case !cur.CancelRequested:
				cur.CancelRequested = true
				if err = t.saveJob(cur); err == nil {
					t.touch(cur.RequestID)
					err = t.recordJob(cur.Status, cur, actor)
				}
				if err == nil {
					err = t.queueCancel(cur)
				}
			}
			if err != nil {
				return err
			}
			out = append(out, cur)
		}
		return nil
	})
	return out, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Sweep expires leases and times out jobs every interval until ctx ends;
// the bot runs one. Errors are passed to onErr (nil: ignored) and the
// next round tries again.
func (s *Store) Sweep(ctx context.Context, interval time.Duration, now func() time.Time, onErr func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, err1 := s.ExpireLeases(ctx, now())
		_, err2 := s.TimeOut(ctx, now())
		if err := errors.Join(err1, err2); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
	}
}
