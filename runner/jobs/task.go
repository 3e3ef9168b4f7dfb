package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fivesafes/fivesafes/runner/outputs"
)

// TaskState is where a task is in its queue.
type TaskState string

const (
	TaskPending TaskState = "pending"
	TaskClaimed TaskState = "claimed"
	TaskDone    TaskState = "done"
)

// Task is work for a backend's agent.
type Task struct {
	ID             string
	Backend        string
	Kind           TaskKind
	JobID          string
	State          TaskState
	Attempt        int
	LeaseExpiresAt time.Time
	LastSeq        int64
	// Payload is what a task that runs no job is about (a release's
	// protocol.ReleaseTask), as JSON.
	Payload json.RawMessage
}

// Claim is a task an agent holds, with what it needs to run it.
type Claim struct {
	Task           Task
	Job            Job
	Repo           string
	InstallationID int64 // the app installation that may read Repo
	SHA            string
}

// ErrStaleAttempt is returned (wrapped) for an update from an attempt that
// no longer holds the task.
var ErrStaleAttempt = errors.New("stale attempt")

// Update is what an agent reports about a task.
type Update struct {
	Attempt  int
	Seq      int64
	Stage    StatusCode // preparing, executing, finalizing; or empty
	Status   StatusCode // the outcome once finished; or empty
	Message  string
	ExitCode *int
	Results  *outputs.Report
	// Result is what a task that runs no job reports with its outcome (a
	// prepare_release manifest), as JSON, for its TaskFinisher.
	Result json.RawMessage
}

// Answer tells the agent what to do next.
type Answer struct {
	Cancel bool
}

// Claim gives the oldest pending task of backend to its agent, with a lease,
// cancellations first; a run_job task's job becomes running. ok is false when there is none.
func (s *Store) Claim(ctx context.Context, backend string, now time.Time) (c Claim, ok bool, err error) {
	// Most claims find nothing; look on the read pool before taking the writer.
	var n int
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM tasks WHERE backend = ? AND state = 'pending'`, backend).Scan(&n); err != nil {
		return c, false, fmt.Errorf("claim: %w", err)
	}
	if n == 0 {
		return c, false, nil
	}
	err = s.write(ctx, now, func(t *txn) error {
		task, err := scanTask(t.tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE backend = ? AND state = 'pending'
			ORDER BY kind = 'cancel_job' DESC, seq LIMIT 1`, backend))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		task.State, task.LastSeq = TaskClaimed, 0
		task.LeaseExpiresAt = t.now.Add(s.lease).Truncate(time.Millisecond)
		if _, err := t.tx.ExecContext(ctx, `UPDATE tasks SET state = 'claimed', last_seq = 0, lease_expires_at = ? WHERE id = ?`,
			task.LeaseExpiresAt.UnixMilli(), task.ID); err != nil {
			return fmt.Errorf("claim task %s: %w", task.ID, err)
		}
		c.Task, ok = task, true
		if task.JobID == "" {
			return nil
		}
		j, err := t.job(task.JobID)
		if err != nil {
			return err
		}
		c.Job = j
		if task.Kind == RunJob {
			if c.Job, err = t.move(j, Event{Kind: Claimed, Message: fmt.Sprintf("claimed by the agent (attempt %d)", task.Attempt)}, backend); err != nil {
				return err
			}
		}
		return t.tx.QueryRowContext(ctx, `SELECT repo, installation_id, head_sha FROM job_requests WHERE id = ?`, j.RequestID).
			Scan(&c.Repo, &c.InstallationID, &c.SHA)
	})
	if err != nil {
		return Claim{}, false, err
	}
	return c, ok, nil
}

// Task returns a task of backend; another backend's task is ErrNotFound.
func (s *Store) Task(ctx context.Context, backend, id string) (Claim, error) {
	var c Claim
	task, err := scanTask(s.db.R.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ? AND backend = ?`, id, backend))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("task %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("task %s: %w", id, err)
	}
	c.Task = task
	if task.JobID == "" {
		return c, nil
	}
	if c.Job, err = s.Job(ctx, task.JobID); err != nil {
		return c, err
	}
	err = s.db.R.QueryRowContext(ctx, `SELECT repo, installation_id, head_sha FROM job_requests WHERE id = ?`, c.Job.RequestID).
		Scan(&c.Repo, &c.InstallationID, &c.SHA)
	return c, err
}

// ApplyUpdate applies an agent's update to its task and job, renews the
// lease and answers whether the agent should cancel. It is idempotent: an
// update with a seq already seen (a duplicate, or one overtaken by a later
// update) changes nothing and gets the current answer; so does any update
// to a task that is done. An update from an attempt that no longer holds
// the task is ErrStaleAttempt; an update that its job's state does not allow
// is ErrIllegal.
func (s *Store) ApplyUpdate(ctx context.Context, backend, taskID string, u Update, now time.Time) (Answer, error) {
	var ans Answer
	err := s.write(ctx, now, func(t *txn) error {
		task, err := scanTask(t.tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ? AND backend = ?`, taskID, backend))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("task %s: %w", taskID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("task %s: %w", taskID, err)
		}
		if u.Attempt != task.Attempt {
			return fmt.Errorf("%w: task %s is on attempt %d, not %d", ErrStaleAttempt, taskID, task.Attempt, u.Attempt)
		}
		var j Job
		if task.JobID != "" {
			if j, err = t.job(task.JobID); err != nil {
				return err
			}
		}
		ans.Cancel = j.CancelRequested
		if task.State == TaskDone && task.JobID == "" {
			ans.Cancel = true // finished, or dropped: nothing more is wanted of it
		}
		if task.State == TaskDone || u.Seq <= task.LastSeq {
			return nil
		}
		if task.State != TaskClaimed {
			return fmt.Errorf("%w: task %s is not claimed", ErrStaleAttempt, taskID)
		}
		if _, err := t.tx.ExecContext(ctx, `UPDATE tasks SET last_seq = ?, lease_expires_at = ? WHERE id = ?`,
			u.Seq, t.now.Add(s.lease).UnixMilli(), taskID); err != nil {
			return fmt.Errorf("renew task %s: %w", taskID, err)
		}
		if task.Kind != RunJob {
			// Only a run_job task moves its job; the others end, and their
			// finisher records what they found in the same transaction.
			if u.Status == "" {
				return nil
			}
			return t.endTask(task, u)
		}
		var ev Event
		switch {
		case u.Status != "":
			ev = Event{Kind: Finished, Status: u.Status, Message: u.Message, ExitCode: u.ExitCode, Report: u.Results}
		case u.Stage != "" && (u.Stage != j.Status || u.Message != "" && u.Message != j.Message):
			ev = Event{Kind: Stage, Status: u.Stage, Message: u.Message}
		default:
			return nil // a heartbeat: the lease is renewed, nothing else changes
		}
		j, err = t.move(j, ev, backend)
		if err != nil {
			return err
		}
		ans.Cancel = j.CancelRequested
		return nil
	})
	return ans, err
}

const taskColumns = `id, backend, kind, coalesce(job_id, ''), state, attempt, lease_expires_at, last_seq, payload`

func scanTask(r scanner) (Task, error) {
	var t Task
	var lease sql.NullInt64
	var payload string
	if err := r.Scan(&t.ID, &t.Backend, &t.Kind, &t.JobID, &t.State, &t.Attempt, &lease, &t.LastSeq, &payload); err != nil {
		return t, err
	}
	if payload != "" && payload != "{}" {
		t.Payload = json.RawMessage(payload)
	}
	if lease.Valid {
		t.LeaseExpiresAt = ms(lease.Int64)
	}
	return t, nil
}
