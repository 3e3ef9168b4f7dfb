package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/store"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// Actor is the audit actor for decisions the bot makes by itself.
const Actor = "fivesafes"

// ErrNotFound is returned (wrapped) for a request, job or task that does
// not exist, or that belongs to another backend.
var ErrNotFound = errors.New("not found")

// Store keeps job requests, jobs and tasks. Each method is one transaction
// that also appends its audit entries.
type Store struct {
	db          *store.DB
	notify      *Notifier
	changed     chan struct{}
	finishers   map[TaskKind]TaskFinisher
	maxAttempts int
	lease       time.Duration
	timeout     time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithMaxAttempts sets how many times a task may be claimed before its job
// fails with internal_error (default 3).
func WithMaxAttempts(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxAttempts = n
		}
	}
}

// WithLease sets how long a claim holds a task without an update (default 2m).
func WithLease(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.lease = d
		}
	}
}

// WithJobTimeout sets the wall-clock limit of new jobs (default 24h).
func WithJobTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithNotifier shares a Notifier (default: a new one).
func WithNotifier(n *Notifier) Option {
	return func(s *Store) {
		if n != nil {
			s.notify = n
		}
	}
}

// New returns a Store over db.
func New(db *store.DB, opts ...Option) *Store {
	s := &Store{db: db, notify: NewNotifier(), changed: make(chan struct{}, 1), finishers: map[TaskKind]TaskFinisher{},
		maxAttempts: 3, lease: 2 * time.Minute, timeout: 24 * time.Hour}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Notifier is signalled after every commit that queues a task.
func (s *Store) Notifier() *Notifier { return s.notify }

// Lease is how long a claim holds a task without an update.
func (s *Store) Lease() time.Duration { return s.lease }

// Changed receives after a commit that left GitHub behind: a request or a
// pull request's status to report (Unreported, UnreportedPRs). One reader.
func (s *Store) Changed() <-chan struct{} { return s.changed }

// txn is one write transaction and what to do after it commits.
type txn struct {
	ctx     context.Context
	tx      *sql.Tx
	s       *Store
	now     time.Time
	wake    map[string]bool   // backends with newly queued tasks
	repos   map[string]string // request ID -> repo, for audit entries
	touched map[string]bool   // requests whose check run and status comment are out of date
	after   []func()          // to run once the transaction has committed
}

func (s *Store) write(ctx context.Context, now time.Time, fn func(t *txn) error) error {
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	t := &txn{ctx: ctx, tx: tx, s: s, now: now.UTC(), wake: map[string]bool{}, repos: map[string]string{}, touched: map[string]bool{}}
	if err := fn(t); err != nil {
		return err
	}
	if err := t.bumpVersions(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for b := range t.wake {
		s.notify.Notify(b)
	}
	for _, f := range t.after {
		f()
	}
	if len(t.touched) > 0 {
		select {
		case s.changed <- struct{}{}:
		default: // a signal is pending already
		}
	}
	return nil
}

func (t *txn) audit(kind, actor, repo, subject string, data any) error {
	_, err := audit.Append(t.ctx, t.tx, t.now, kind, actor, repo, subject, data)
	return err
}

func (t *txn) repoOf(requestID string) (string, error) {
	if r, ok := t.repos[requestID]; ok {
		return r, nil
	}
	var repo string
	if err := t.tx.QueryRowContext(t.ctx, `SELECT repo FROM job_requests WHERE id = ?`, requestID).Scan(&repo); err != nil {
		return "", fmt.Errorf("job request %s: %w", requestID, err)
	}
	t.repos[requestID] = repo
	return repo, nil
}

// querier is a transaction or the read pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const jobColumns = `id, job_request_id, action, workspace, backend, state, status_code, status_message,
	needs, fingerprint, spec, created_at, started_at, completed_at, exit_code, outputs, timeout_ms, cancel_requested`

type scanner interface{ Scan(dest ...any) error }

func scanJob(r scanner) (Job, error) {
	var j Job
	var needs, fp, spec string
	var created int64
	var started, completed, exit sql.NullInt64
	var out sql.NullString
	var timeout int64
	if err := r.Scan(&j.ID, &j.RequestID, &j.Action, &j.Workspace, &j.Backend, &j.State, &j.Status, &j.Message,
		&needs, &fp, &spec, &created, &started, &completed, &exit, &out, &timeout, &j.CancelRequested); err != nil {
		return j, err
	}
	if err := errors.Join(json.Unmarshal([]byte(needs), &j.Needs), json.Unmarshal([]byte(fp), &j.Fingerprint),
		json.Unmarshal([]byte(spec), &j.Spec)); err != nil {
		return j, fmt.Errorf("job %s: %w", j.ID, err)
	}
	j.CreatedAt = ms(created)
	if started.Valid {
		j.StartedAt = ms(started.Int64)
	}
	if completed.Valid {
		j.CompletedAt = ms(completed.Int64)
	}
	if exit.Valid {
		e := int(exit.Int64)
		j.ExitCode = &e
	}
	if out.Valid {
		var rep outputs.Report
		if err := json.Unmarshal([]byte(out.String), &rep); err != nil {
			return j, fmt.Errorf("job %s outputs: %w", j.ID, err)
		}
		j.Outputs = &rep
	}
	j.Timeout = time.Duration(timeout) * time.Millisecond
	return j, nil
}

func queryJobs(ctx context.Context, q querier, where string, args ...any) ([]Job, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("read jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func (t *txn) job(id string) (Job, error) {
	j, err := scanJob(t.tx.QueryRowContext(t.ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("job %s: %w", id, ErrNotFound)
	}
	return j, err
}

func (t *txn) saveJob(j Job) error {
	var exit sql.NullInt64
	if j.ExitCode != nil {
		exit = sql.NullInt64{Int64: int64(*j.ExitCode), Valid: true}
	}
	var out sql.NullString
	if j.Outputs != nil {
		b, err := json.Marshal(j.Outputs)
		if err != nil {
			return err
		}
		out = sql.NullString{String: string(b), Valid: true}
	}
	_, err := t.tx.ExecContext(t.ctx, `UPDATE jobs SET state = ?, status_code = ?, status_message = ?, started_at = ?,
		completed_at = ?, exit_code = ?, outputs = ?, cancel_requested = ? WHERE id = ?`,
		j.State, j.Status, j.Message, nullMS(j.StartedAt), nullMS(j.CompletedAt), exit, out, j.CancelRequested, j.ID)
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	return nil
}

// jobStateEntry is the data of a job.state audit entry.
type jobStateEntry struct {
	Request  string        `json:"request"`
	Action   string        `json:"action"`
	Backend  string        `json:"backend"`
	From     StatusCode    `json:"from"`
	State    plan.JobState `json:"state"`
	Status   StatusCode    `json:"status"`
	Message  string        `json:"message,omitempty"`
	ExitCode *int          `json:"exit_code,omitempty"`
	Cancel   bool          `json:"cancel_requested,omitempty"`
}

// move applies ev to the job, saves it, records it, and follows up on a
// job that finished: dependants, the job's tasks, the request.
func (t *txn) move(j Job, ev Event, actor string) (Job, error) {
	next, err := Transition(j, ev, t.now)
	if err != nil {
		return j, err
	}
	if err := t.saveJob(next); err != nil {
		return j, err
	}
	t.touch(next.RequestID)
	if err := t.recordJob(j.Status, next, actor); err != nil {
		return j, err
	}
	if next.Finished() {
		if err := t.finished(next); err != nil {
			return j, err
		}
	}
	return next, nil
}

func (t *txn) recordJob(from StatusCode, j Job, actor string) error {
	repo, err := t.repoOf(j.RequestID)
	if err != nil {
		return err
	}
	return t.audit("job.state", actor, repo, j.ID, jobStateEntry{Request: j.RequestID, Action: j.Action, Backend: j.Backend,
		From: from, State: j.State, Status: j.Status, Message: j.Message, ExitCode: j.ExitCode, Cancel: j.CancelRequested})
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}
