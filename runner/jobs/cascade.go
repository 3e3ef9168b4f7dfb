package jobs

import (
	"fmt"

	"github.com/fivesafes/fivesafes/runner/plan"
)

// TaskKind is what a task asks the agent to do.
type TaskKind string

const (
	RunJob         TaskKind = "run_job"
	CancelJob      TaskKind = "cancel_job"
	PrepareRelease TaskKind = "prepare_release"
	UploadRelease  TaskKind = "upload_release"
)

// runTaskID is the ID of the task that runs a job: one per job, so that
// queueing it twice is harmless.
func runTaskID(jobID string) string { return "run-" + jobID }

// queueRun queues the run_job task of a job waiting for a worker and wakes
// its backend's agents after commit.
func (t *txn) queueRun(j Job) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO tasks (id, backend, kind, job_id, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, runTaskID(j.ID), j.Backend, RunJob, j.ID, t.now.UnixMilli())
	if err != nil {
		return fmt.Errorf("queue job %s: %w", j.ID, err)
	}
	t.wake[j.Backend] = true
	return nil
}

// queueCancel queues the cancel_job task of a running job: one per job.
func (t *txn) queueCancel(j Job) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO tasks (id, backend, kind, job_id, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, "cancel-"+j.ID, j.Backend, CancelJob, j.ID, t.now.UnixMilli())
	if err != nil {
		return fmt.Errorf("queue cancel of job %s: %w", j.ID, err)
	}
	t.wake[j.Backend] = true
	return nil
}

// finished follows up on a job that reached a terminal state: its tasks are
// done; dependants whose needs all succeeded are queued; if it failed, every
// dependant still pending fails at once (and theirs, transitively); its
// request finishes when all its jobs have.
func (t *txn) finished(j Job) error {
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE tasks SET state = 'done', lease_expires_at = NULL WHERE job_id = ? AND state != 'done'`, j.ID); err != nil {
		return fmt.Errorf("close tasks of job %s: %w", j.ID, err)
	}
	deps, err := queryJobs(t.ctx, t.tx, `WHERE state = 'pending' AND status_code = ?
		AND EXISTS (SELECT 1 FROM json_each(jobs.needs) WHERE value = ?) ORDER BY created_at, rowid`, WaitingOnDependencies, j.ID)
	if err != nil {
		return err
	}
	for _, d := range deps {
		if j.State == plan.Failed {
			if _, err := t.move(d, Event{Kind: DependencyFailedEvent, Message: fmt.Sprintf("%s failed (%s)", j.Action, j.Status)}, Actor); err != nil {
				return err
			}
			continue
		}
		if err := t.readyIfDone(d); err != nil {
			return err
		}
	}
	return t.finishRequest(j.RequestID)
}

// readyIfDone queues a job waiting on dependencies once all succeeded, or
// fails it if one failed.
func (t *txn) readyIfDone(j Job) error {
	var total, ok, failed int
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*), coalesce(sum(state = 'succeeded'), 0), coalesce(sum(state = 'failed'), 0)
		FROM jobs WHERE id IN (SELECT value FROM json_each(?))`, mustJSON(j.Needs)).Scan(&total, &ok, &failed)
	if err != nil {
		return fmt.Errorf("dependencies of job %s: %w", j.ID, err)
	}
	switch {
	case total < len(j.Needs) || failed > 0:
		_, err = t.move(j, Event{Kind: DependencyFailedEvent}, Actor)
		return err
	case ok == total:
		next, err := t.move(j, Event{Kind: Ready}, Actor)
		if err != nil {
			return err
		}
		return t.queueRun(next)
	}
	return nil
}

// finishRequest marks a request finished once every job of it is.
func (t *txn) finishRequest(id string) error {
	var open, failed, total int
	err := t.tx.QueryRowContext(t.ctx, `SELECT coalesce(sum(state IN ('pending', 'running')), 0), coalesce(sum(state = 'failed'), 0), count(*)
		FROM jobs WHERE job_request_id = ?`, id).Scan(&open, &failed, &total)
	if err != nil {
		return fmt.Errorf("job request %s: %w", id, err)
	}
	if open > 0 {
		return nil
	}
	status := RequestSucceeded
	if failed > 0 {
		status = RequestFailed
	}
	res, err := t.tx.ExecContext(t.ctx, `UPDATE job_requests SET status = ?, finished_at = ? WHERE id = ? AND status = 'running'`,
		status, t.now.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("finish job request %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	repo, err := t.repoOf(id)
	if err != nil {
		return err
	}
	return t.audit("run.finished", Actor, repo, id, map[string]any{"status": status, "jobs": total, "failed": failed})
}
