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
	// RequestHeld waits for a maintainer's approval: the requester lacks the
	// permission to run. It has no jobs yet.
	RequestHeld RequestStatus = "held"
	// RequestStale was held when a push moved the pull request's head: an
	// approval is for one commit only.
	RequestStale RequestStatus = "stale"
	// RequestWithdrawn was cancelled while held.
	RequestWithdrawn RequestStatus = "withdrawn"
	RequestRunning   RequestStatus = "running"
	RequestSucceeded RequestStatus = "succeeded"
	RequestFailed    RequestStatus = "failed"
)

// Finished reports whether nothing more will happen to a request.
func (s RequestStatus) Finished() bool {
	return s != RequestHeld && s != RequestRunning
}

// Request is a job request: one /run on a pull request.
type Request struct {
	ID             string
	Number         int // "run #N", per repository; set when it is stored
	Repo           string
	InstallationID int64 // the app installation that acts on Repo
	PR             int
	Workspace      string // owner/repo/branch
	HeadSHA        string
	Backend        string
	Requester      string
	Actions        []string // as requested
	Force          bool
	CreatedAt      time.Time
	Status         RequestStatus
	FinishedAt     time.Time
	// Plan is every action's step as planned, runs, reuses and waits alike,
	// so that GitHub can show why each action does what it does.
	Plan       []PlanStep
	HoldReason string // why a held request waits for approval
	ApprovedBy string // the maintainer who approved a held request

	// What GitHub shows: the run's check run, the action_required one a held
	// request got, and the outbox versions (Version > ReportedVersion: GitHub
	// is behind).
	CheckRunID         int64
	ApprovalCheckRunID int64
	ApprovalClosed     bool
	// CheckRunSent and ApprovalSent: a create went out whose answer may
	// have been lost; look for the check run before creating another.
	CheckRunSent    bool
	ApprovalSent    bool
	Version         int64
	ReportedVersion int64
	ReportedAt      time.Time
}

// PlanStep is one action's decision in a request's plan.
type PlanStep struct {
	Action    string        `json:"action"`
	Requested bool          `json:"requested,omitempty"`
	Decision  plan.Decision `json:"decision"`
	Reason    string        `json:"reason"`
	WaitsOn   string        `json:"waits_on,omitempty"` // job ID
	JobID     string        `json:"job,omitempty"`      // the job a run step created, or the job reused
}

// PlanSteps is what a request keeps of a plan. A reused step names the job
// it reuses, when the plan knows it.
func PlanSteps(p plan.Plan, requestID string, latest map[string]plan.PriorJob) []PlanStep {
	out := make([]PlanStep, len(p.Steps))
	for i, s := range p.Steps {
		ps := PlanStep{Action: s.Action, Requested: s.Requested, Decision: s.Decision, Reason: s.Reason, WaitsOn: s.WaitsOn}
		switch s.Decision {
		case plan.Run:
			ps.JobID = plan.JobID(requestID, s.Action)
		case plan.Reuse:
			ps.JobID = latest[s.Action].ID
		}
		out[i] = ps
	}
	return out
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
// at once. r.Plan, if empty, is taken from p. Calling it again with the
// same ID returns the request made the first time and changes nothing.
func (s *Store) CreateRequest(ctx context.Context, r Request, p plan.Plan, pipeline *checks.Pipeline, now time.Time) (Request, error) {
	if err := r.check(); err != nil {
		return r, fmt.Errorf("create job request: %w", err)
	}
	err := s.write(ctx, now, func(t *txn) error {
		created, err := t.insertRequest(&r, RequestRunning, p)
		if err != nil || !created {
			return err
		}
		if err := t.audit("run.requested", r.Requester, r.Repo, r.ID, map[string]any{
			"number": r.Number, "pr": r.PR, "sha": r.HeadSHA, "backend": r.Backend, "actions": r.Actions,
			"force": r.Force, "plan": p.Summary(),
		}); err != nil {
			return err
		}
		return t.startJobs(r, p, pipeline)
	})
	if err != nil {
		return r, fmt.Errorf("create job request: %w", err)
	}
	return r, nil
}

func (r Request) check() error {
	if r.ID == "" || r.Repo == "" || r.Workspace == "" || r.Backend == "" {
		return errors.New("ID, repo, workspace and backend are required")
	}
	return nil
}

// insertRequest stores r with status and p's steps (unless r has its own),
// numbering it. When a request with r's ID exists already it loads that
// one into r instead and reports created false.
func (t *txn) insertRequest(r *Request, status RequestStatus, p plan.Plan) (created bool, err error) {
	if old, err := requestBy(t.ctx, t.tx, r.ID); err == nil {
		*r = old
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if err := t.tx.QueryRowContext(t.ctx, `SELECT coalesce(max(number), 0) + 1 FROM job_requests WHERE repo = ?`, r.Repo).Scan(&r.Number); err != nil {
		return false, fmt.Errorf("number job request: %w", err)
	}
	if r.Plan == nil {
		r.Plan = PlanSteps(p, r.ID, nil)
	}
	r.CreatedAt, r.Status, r.Version = t.now.Truncate(time.Millisecond), status, 1
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO job_requests (id, number, repo, installation_id, pr, workspace, head_sha,
		backend, requester, actions, force, created_at, check_run_id, status, plan, hold_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Number, r.Repo, r.InstallationID, r.PR, r.Workspace, r.HeadSHA, r.Backend, r.Requester,
		mustJSON(nonNil(r.Actions)), r.Force, r.CreatedAt.UnixMilli(), r.CheckRunID, r.Status, mustJSON(r.Plan), r.HoldReason); err != nil {
		return false, fmt.Errorf("insert job request %s: %w", r.ID, err)
	}
	t.repos[r.ID] = r.Repo
	t.touch(r.ID)
	return true, nil
}

// startJobs creates the jobs of p's Run steps and finishes the request at
// once if there are none.
func (t *txn) startJobs(r Request, p plan.Plan, pipeline *checks.Pipeline) error {
	for _, step := range p.ToRun() {
		if err := t.createJob(r, p, step, pipeline); err != nil {
			return err
		}
	}
	return t.finishRequest(r.ID)
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

const requestColumns = `id, number, repo, installation_id, pr, workspace, head_sha, backend, requester, actions, force,
	created_at, check_run_id, status, finished_at, plan, hold_reason, approved_by, approval_check_run_id, approval_closed,
	check_run_sent, approval_sent, version, reported_version, reported_at`

func scanRequest(r scanner) (Request, error) {
	var q Request
	var actions, steps string
	var created int64
	var finished, reported sql.NullInt64
	if err := r.Scan(&q.ID, &q.Number, &q.Repo, &q.InstallationID, &q.PR, &q.Workspace, &q.HeadSHA, &q.Backend,
		&q.Requester, &actions, &q.Force, &created, &q.CheckRunID, &q.Status, &finished, &steps, &q.HoldReason, &q.ApprovedBy,
		&q.ApprovalCheckRunID, &q.ApprovalClosed, &q.CheckRunSent, &q.ApprovalSent, &q.Version, &q.ReportedVersion, &reported); err != nil {
		return q, err
	}
	if err := errors.Join(json.Unmarshal([]byte(actions), &q.Actions), json.Unmarshal([]byte(steps), &q.Plan)); err != nil {
		return q, fmt.Errorf("job request %s: %w", q.ID, err)
	}
	q.CreatedAt = ms(created)
	if finished.Valid {
		q.FinishedAt = ms(finished.Int64)
	}
	if reported.Valid {
		q.ReportedAt = ms(reported.Int64)
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
	return queryRequests(ctx, s.db.R, `WHERE repo = ? AND pr = ? ORDER BY number DESC`, repo, pr)
}

// JobCount is how many jobs a request made, and how many of them failed.
type JobCount struct{ Jobs, Failed int }

// JobCounts counts the jobs of each request, in one query, for lists.
func (s *Store) JobCounts(ctx context.Context, ids []string) (map[string]JobCount, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT job_request_id, count(*), coalesce(sum(state = 'failed'), 0) FROM jobs
		WHERE job_request_id IN (SELECT value FROM json_each(?)) GROUP BY job_request_id`, mustJSON(nonNil(ids)))
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := make(map[string]JobCount, len(ids))
	for rows.Next() {
		var id string
		var c JobCount
		if err := rows.Scan(&id, &c.Jobs, &c.Failed); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		out[id] = c
	}
	return out, rows.Err()
}

// RecentRequests returns the newest job requests of every repository.
func (s *Store) RecentRequests(ctx context.Context, limit int) ([]Request, error) {
	return queryRequests(ctx, s.db.R, `ORDER BY created_at DESC, rowid DESC LIMIT ?`, limit)
}

func queryRequests(ctx context.Context, q querier, where string, args ...any) ([]Request, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+requestColumns+` FROM job_requests `+where, args...)
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

// LatestJobs returns the workspace's latest job of each action on backend,
// for the planner. A workspace's outputs live in each backend's own stores,
// as in OpenSAFELY, so work done on one backend is never reused or waited
// on by another.
func (s *Store) LatestJobs(ctx context.Context, workspace, backend string) (map[string]plan.PriorJob, error) {
	jobs, err := queryJobs(ctx, s.db.R, `WHERE workspace = ? AND backend = ? ORDER BY created_at, rowid`, workspace, backend)
	if err != nil {
		return nil, err
	}
	out := make(map[string]plan.PriorJob, len(jobs))
	for _, j := range jobs {
		out[j.Action] = plan.PriorJob{ID: j.ID, State: j.State, Fingerprint: j.Fingerprint}
	}
	return out, nil
}

// WorkspaceJobs returns the workspace's latest job of each action on
// backend, whole, in the order the actions first ran: what a release can
// be made from.
func (s *Store) WorkspaceJobs(ctx context.Context, workspace, backend string) ([]Job, error) {
	jobs, err := queryJobs(ctx, s.db.R, `WHERE workspace = ? AND backend = ? ORDER BY created_at, rowid`, workspace, backend)
	if err != nil {
		return nil, err
	}
	latest := map[string]int{}
	var out []Job
	for _, j := range jobs {
		if i, ok := latest[j.Action]; ok {
			out[i] = j
			continue
		}
		latest[j.Action] = len(out)
		out = append(out, j)
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
