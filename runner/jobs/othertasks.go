package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Tasks that run no job (a release's prepare_release and upload_release)
// belong to other stores: they queue them in their own transactions
// (QueueTask) and hear of their end through a TaskFinisher, in the
// transaction of the update that ended them, so that what the agent
// reported and the task being done are one commit.

// TaskFinisher records the end of tasks of one kind.
type TaskFinisher interface {
	// FinishTask is called inside the transaction that ends t: u.Status is
	// the outcome (succeeded, or internal_error when the agent gave up or
	// went silent) and u.Result what the agent reported. after, if not
	// nil, runs once the transaction has committed.
	FinishTask(ctx context.Context, tx *sql.Tx, t Task, u Update, now time.Time) (after func(), err error)
}

// HandleTasks makes f the finisher of kind; call it before serving.
func (s *Store) HandleTasks(kind TaskKind, f TaskFinisher) { s.finishers[kind] = f }

// NewTask is a task that runs no job.
type NewTask struct {
	ID      string // unique: queueing an ID twice is harmless
	Backend string
	Kind    TaskKind
	Payload any // encoded as JSON
}

// QueueTask queues t inside tx, another store's transaction; once that
// commits, Wake(t.Backend) tells the backend's agents.
func QueueTask(ctx context.Context, tx *sql.Tx, t NewTask, now time.Time) error {
	payload, err := json.Marshal(t.Payload)
	if err != nil {
		return fmt.Errorf("queue task %s: %w", t.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tasks (id, backend, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, t.ID, t.Backend, t.Kind, string(payload), now.UnixMilli()); err != nil {
		return fmt.Errorf("queue task %s: %w", t.ID, err)
	}
	return nil
}

// DropTasks ends the tasks among ids that an agent has not finished, inside
// tx: their work is no longer wanted (a withdrawn release). An agent that
// holds one learns it when its update finds the task done.
func DropTasks(ctx context.Context, tx *sql.Tx, ids []string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE tasks SET state = 'done', lease_expires_at = NULL
		WHERE state != 'done' AND id IN (SELECT value FROM json_each(?))`, mustJSON(nonNil(ids))); err != nil {
		return fmt.Errorf("drop tasks: %w", err)
	}
	return nil
}

// Wake tells backend's waiting agents that a task was queued.
func (s *Store) Wake(backend string) { s.notify.Notify(backend) }

// endTask ends a task that runs no job, through its finisher.
func (t *txn) endTask(task Task, u Update) error {
	if f, ok := t.s.finishers[task.Kind]; ok {
		after, err := f.FinishTask(t.ctx, t.tx, task, u, t.now)
		if err != nil {
			return fmt.Errorf("finish %s task %s: %w", task.Kind, task.ID, err)
		}
		if after != nil {
			t.after = append(t.after, after)
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE tasks SET state = 'done', lease_expires_at = NULL WHERE id = ?`, task.ID); err != nil {
		return fmt.Errorf("end task %s: %w", task.ID, err)
	}
	return nil
}
