package jobs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// RequestStatus is how far a job request got.
type RequestStatus string

const (
	RequestRunning   RequestStatus = "running"
	RequestSucceeded RequestStatus = "succeeded"
	RequestFailed    RequestStatus = "failed"
)

// Request is a job request: one /run on a pull request.
type Request struct {
	ID         string
	Number     int // "run #N", per repository; set by CreateRequest
	Repo       string
	PR         int
	Workspace  string // owner/repo/branch
	HeadSHA    string
	Backend    string
	Requester  string
	Actions    []string // as requested
	Force      bool
	CreatedAt  time.Time
	CheckRunID int64
	Status     RequestStatus
	FinishedAt time.Time
}

// RequestID is the deterministic ID of the job request that trigger (a
// comment ID or delivery GUID) made on a pull request, so that a
// redelivered comment finds the request it made before.
func RequestID(repo string, pr int, trigger string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "fivesafes/request/v1\x00%s\x00%d\x00%s", repo, pr, trigger))
	return hex.EncodeToString(sum[:12])
}

// Workspace is the workspace of a pull request's head branch.
func Workspace(repo, branch string) string { return repo + "/" + branch }

// CreateRequest records a job request and creates a job for each Run step of
// p, with the action's run line, outputs and config from pipeline. A job
// whose needs all succeeded is queued for its backend; one that needs jobs
// still pending or running waits on them; one that needs a failed job fails
// at once. Calling it again with the same ID returns the request made the
// first time and changes nothing.
func (s *Store) CreateRequest(ctx context.Context, r Request, p plan.Plan, pipeline *checks.Pipeline, now time.Time) (Request, error) {
	if r.ID == "" || r.Repo == "" || r.Workspace == "" || r.Backend == "" {
		return r, errors.New("create job request: ID, repo, workspace and backend are required")
	}
	err := s.write(ctx, now, func(t *txn) error {
		if old, err := requestBy(ctx, t.tx, r.ID); err == nil {
			r = old
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := t.tx.QueryRowContext(ctx, `SELECT coalesce(max(number), 0) + 1 FROM job_requests WHERE repo = ?`, r.Repo).Scan(&r.Number); err != nil {
			return fmt.Errorf("number job request: %w", err)
		}
		r.CreatedAt, r.Status = t.now.Truncate(time.Millisecond), RequestRunning
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO job_requests (id, number, repo, pr, workspace, head_sha, backend, requester,
			actions, force, created_at, check_run_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Number, r.Repo, r.PR, r.Workspace, r.HeadSHA, r.Backend, r.Requester, mustJSON(r.Actions), r.Force,
			r.CreatedAt.UnixMilli(), r.CheckRunID, r.Status); err != nil {
			return fmt.Errorf("insert job request %s: %w", r.ID, err)
		}
		t.repos[r.ID] = r.Repo
		if err := t.audit("run.requested", r.Requester, r.Repo, r.ID, map[string]any{
			"number": r.Number, "pr": r.PR, "sha": r.HeadSHA, "backend": r.Backend, "actions": r.Actions,
			"force": r.Force, "plan": p.Summary(),
		}); err != nil {
			return err
		}
		for _, step := range p.ToRun() {
			if err := t.createJob(r, p, step, pipeline); err != nil {
				return err
			}
		}
		return t.finishRequest(r.ID)
	})
	if err != nil {
		return r, fmt.Errorf("create job request: %w", err)
	}
	return r, nil
}

func (t *txn) createJob(r Request, p plan.Plan, step plan.Step, pipeline *checks.Pipeline) error {
	a, ok := pipeline.Action(step.Action)
	if !ok {
		return fmt.Errorf("action %q of the plan is not in project.yaml", step.Action)
	}
	spec := Spec{Outputs: a.Outputs, Config: a.Config}
	if len(a.RunParts) > 0 {
		spec.Image, spec.Args = a.RunParts[0], a.RunParts[1:]
	}
	j := Job{
		ID: plan.JobID(r.ID, step.Action), RequestID: r.ID, Action: step.Action, Workspace: r.Workspace,
		Backend: r.Backend, State: plan.Pending, Status: WaitingOnDependencies, Message: "waiting on dependencies",
		Needs: p.DependencyJobIDs(step.Action, r.ID), Fingerprint: step.Fingerprint, Spec: spec,
		CreatedAt: t.now, Timeout: t.s.timeout,
	}
	if j.Needs == nil {
		j.Needs = []string{}
	}
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO jobs (id, job_request_id, action, workspace, backend, state, status_code,
		status_message, needs, fingerprint, spec, created_at, timeout_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.RequestID, j.Action, j.Workspace, j.Backend, j.State, j.Status, j.Message, mustJSON(j.Needs),
		mustJSON(j.Fingerprint), mustJSON(j.Spec), j.CreatedAt.UnixMilli(), j.Timeout.Milliseconds()); err != nil {
		return fmt.Errorf("insert job %s (%s): %w", j.ID, j.Action, err)
	}
	if err := t.audit("job.created", r.Requester, r.Repo, j.ID, map[string]any{
		"request": r.ID, "action": j.Action, "backend": j.Backend, "needs": j.Needs, "reason": step.Reason,
		"fingerprint": j.Fingerprint.Sum,
	}); err != nil {
		return err
	}
	return t.readyIfDone(j)
}

// SetCheckRun records the check run that shows a request.
func (s *Store) SetCheckRun(ctx context.Context, requestID string, checkRunID int64) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE job_requests SET check_run_id = ? WHERE id = ?`, checkRunID, requestID)
	if err != nil {
		return fmt.Errorf("set check run of job request %s: %w", requestID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("job request %s: %w", requestID, ErrNotFound)
	}
	return nil
}

// Decision is a run that was refused, held for approval or approved: it is
// recorded in the log but creates no jobs.
type Decision struct {
	Repo    string
	PR      int
	HeadSHA string
	Actor   string // who asked (refused, held) or who approved
	Actions []string
	Backend string
	Reason  string
}

// Refuse records a run that was refused and why (run.refused).
func (s *Store) Refuse(ctx context.Context, d Decision, now time.Time) error {
	return s.decide(ctx, "run.refused", d, now)
}

// Hold records a run waiting for a maintainer's approval (run.held).
func (s *Store) Hold(ctx context.Context, d Decision, now time.Time) error {
	return s.decide(ctx, "run.held", d, now)
}

// Approve records a maintainer's approval of runs at a head SHA (run.approved).
func (s *Store) Approve(ctx context.Context, d Decision, now time.Time) error {
	return s.decide(ctx, "run.approved", d, now)
}

func (s *Store) decide(ctx context.Context, kind string, d Decision, now time.Time) error {
	return s.write(ctx, now, func(t *txn) error {
		return t.audit(kind, d.Actor, d.Repo, fmt.Sprintf("%s#%d@%s", d.Repo, d.PR, d.HeadSHA), map[string]any{
			"pr": d.PR, "sha": d.HeadSHA, "actions": d.Actions, "backend": d.Backend, "reason": d.Reason,
		})
	})
}

const requestColumns = `id, number, repo, pr, workspace, head_sha, backend, requester, actions, force, created_at,
	check_run_id, status, finished_at`

func scanRequest(r scanner) (Request, error) {
	var q Request
	var actions string
	var created int64
	var finished sql.NullInt64
	if err := r.Scan(&q.ID, &q.Number, &q.Repo, &q.PR, &q.Workspace, &q.HeadSHA, &q.Backend, &q.Requester, &actions,
		&q.Force, &created, &q.CheckRunID, &q.Status, &finished); err != nil {
		return q, err
	}
	if err := json.Unmarshal([]byte(actions), &q.Actions); err != nil {
		return q, fmt.Errorf("job request %s actions: %w", q.ID, err)
	}
	q.CreatedAt = ms(created)
	if finished.Valid {
		q.FinishedAt = ms(finished.Int64)
	}
	return q, nil
}

func requestBy(ctx context.Context, q querier, id string) (Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM job_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("job request %s: %w", id, ErrNotFound)
	}
	return r, err
}

// Request returns one job request.
func (s *Store) Request(ctx context.Context, id string) (Request, error) {
	return requestBy(ctx, s.db.R, id)
}

// Requests returns the job requests of a pull request, newest first.
func (s *Store) Requests(ctx context.Context, repo string, pr int) ([]Request, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+requestColumns+` FROM job_requests WHERE repo = ? AND pr = ? ORDER BY number DESC`, repo, pr)
	if err != nil {
		return nil, fmt.Errorf("read job requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("read job requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Jobs returns the jobs of a request in the order they were created (plan order).
func (s *Store) Jobs(ctx context.Context, requestID string) ([]Job, error) {
	return queryJobs(ctx, s.db.R, `WHERE job_request_id = ? ORDER BY created_at, rowid`, requestID)
}

// Job returns one job.
func (s *Store) Job(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(s.db.R.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("job %s: %w", id, ErrNotFound)
	}
	return j, err
}

// LatestJobs returns the workspace's latest job of each action, for the planner.
func (s *Store) LatestJobs(ctx context.Context, workspace string) (map[string]plan.PriorJob, error) {
	jobs, err := queryJobs(ctx, s.db.R, `WHERE workspace = ? ORDER BY created_at, rowid`, workspace)
	if err != nil {
		return nil, err
	}
	out := make(map[string]plan.PriorJob, len(jobs))
	for _, j := range jobs {
		out[j.Action] = plan.PriorJob{ID: j.ID, State: j.State, Fingerprint: j.Fingerprint}
	}
	return out, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // only plain data is encoded here
	}
	return string(b)
}
