// Package jobs keeps job requests, their jobs and the tasks backend agents
// claim, in SQLite, and moves jobs through job-runner's states with a pure
// state machine (Transition).
//
// Every Store method is one transaction that appends its audit entries in
// the same commit: run.requested, run.refused, run.held, run.approved,
// job.created, job.state (every state or status change, and a cancellation
// flagged for the agent) and run.finished. Actors are the GitHub login that
// asked, the backend whose agent reported, or "fivesafes" for the bot's own
// decisions (a dependency failed, a lease ran out, a job timed out).
package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// StatusCode says why a job is in its state, as job-runner names it.
type StatusCode string

const (
	WaitingOnDependencies StatusCode = "waiting_on_dependencies"
	WaitingOnWorkers      StatusCode = "waiting_on_workers"
	Preparing             StatusCode = "preparing"
	Executing             StatusCode = "executing"
	Finalizing            StatusCode = "finalizing"
	Succeeded             StatusCode = "succeeded"
	DependencyFailed      StatusCode = "dependency_failed"
	NonzeroExit           StatusCode = "nonzero_exit"
	UnmatchedPatterns     StatusCode = "unmatched_patterns"
	CancelledByUser       StatusCode = "cancelled_by_user"
	InternalError         StatusCode = "internal_error"
	TimedOut              StatusCode = "timed_out"
)

// IsStage reports whether c is a stage of a running job.
func (c StatusCode) IsStage() bool {
	return c == Preparing || c == Executing || c == Finalizing
}

// IsOutcome reports whether c is a code an agent may finish a job with.
func (c StatusCode) IsOutcome() bool {
	switch c {
	case Succeeded, NonzeroExit, UnmatchedPatterns, CancelledByUser, InternalError, TimedOut:
		return true
	}
	return false
}

// Spec is what the agent needs to run a job.
type Spec struct {
	Image   string               `json:"image"` // "python:v2", as written in run
	Args    []string             `json:"args"`
	Outputs []checks.OutputGroup `json:"outputs"`
	Config  json.RawMessage      `json:"config,omitempty"`
}

// Job is one action run for one job request.
type Job struct {
	ID          string
	RequestID   string
	Action      string
	Workspace   string
	Backend     string
	State       plan.JobState
	Status      StatusCode
	Message     string
	Needs       []string // job IDs
	Fingerprint plan.Fingerprint
	Spec        Spec
	CreatedAt   time.Time
	StartedAt   time.Time // zero until claimed
	CompletedAt time.Time // zero until finished
	ExitCode    *int
	Outputs     *outputs.Report
	Timeout     time.Duration
	// CancelRequested is set when a running job is to stop; the agent learns
	// it from the answer to its next update.
	CancelRequested bool
}

// Finished reports whether the job reached a terminal state.
func (j Job) Finished() bool { return j.State == plan.Succeeded || j.State == plan.Failed }

// EventKind names what happened to a job.
type EventKind string

const (
	// Ready: every job it needs succeeded; it waits for a worker.
	Ready EventKind = "ready"
	// Claimed: an agent took its task.
	Claimed EventKind = "claimed"
	// Stage: the agent reports a stage (Event.Status).
	Stage EventKind = "stage"
	// Finished: the agent reports the outcome (Event.Status, ExitCode, Report).
	Finished EventKind = "finished"
	// Cancelled: a user cancelled it.
	Cancelled EventKind = "cancelled"
	// LeaseLost: the agent stopped renewing its lease; the job waits for a
	// worker again.
	LeaseLost EventKind = "lease_lost"
	// Abandoned: the lease was lost too often; the job fails internal_error.
	Abandoned EventKind = "abandoned"
	// TimedOutEvent: the job ran past its wall-clock limit.
	TimedOutEvent EventKind = "timed_out"
	// DependencyFailedEvent: a job it needs failed.
	DependencyFailedEvent EventKind = "dependency_failed"
)

// Event is something that happened to a job.
type Event struct {
	Kind     EventKind
	Status   StatusCode // Stage: the stage; Finished: the outcome
	Message  string
	ExitCode *int
	Report   *outputs.Report
}

// ErrFinished is returned for any event on a job that already finished: a
// finished job never changes again.
var ErrFinished = errors.New("job already finished")

// ErrIllegal is returned (wrapped) for an event the job's state does not allow.
var ErrIllegal = errors.New("illegal job transition")

// Transition applies ev to j at now and returns the new job. It is pure.
func Transition(j Job, ev Event, now time.Time) (Job, error) {
	if j.Finished() {
		return j, fmt.Errorf("%w: job %s is %s (%s), cannot apply %s", ErrFinished, j.ID, j.State, j.Status, ev.Kind)
	}
	illegal := func() (Job, error) {
		return j, fmt.Errorf("%w: %s on a %s job (%s)", ErrIllegal, ev.Kind, j.State, j.Status)
	}
	pending, running := j.State == plan.Pending, j.State == plan.Running
	switch ev.Kind {
	case Ready:
		if !pending || j.Status != WaitingOnDependencies {
			return illegal()
		}
		return set(j, plan.Pending, WaitingOnWorkers, msg(ev, "waiting for a worker")), nil
	case Claimed:
		if !pending || j.Status != WaitingOnWorkers {
			return illegal()
		}
		j = set(j, plan.Running, Preparing, msg(ev, "claimed by the agent"))
		if j.StartedAt.IsZero() {
			j.StartedAt = now
		}
		return j, nil
	case Stage:
		if !running {
			return illegal()
		}
		if !ev.Status.IsStage() {
			return j, fmt.Errorf("%w: %q is not a stage", ErrIllegal, ev.Status)
		}
		return set(j, plan.Running, ev.Status, ev.Message), nil
	case Finished:
		if !running {
			return illegal()
		}
		return finish(j, ev, now)
	case Cancelled:
		return end(j, now, CancelledByUser, msg(ev, "cancelled by user")), nil
	case LeaseLost:
		if !running {
			return illegal()
		}
		return set(j, plan.Pending, WaitingOnWorkers, msg(ev, "the agent stopped reporting; waiting for a worker again")), nil
	case Abandoned:
		return end(j, now, InternalError, msg(ev, "the agent stopped reporting too often")), nil
	case TimedOutEvent:
		return end(j, now, TimedOut, msg(ev, "ran past its time limit")), nil
	case DependencyFailedEvent:
		if !pending {
			return illegal()
		}
		return end(j, now, DependencyFailed, msg(ev, "a job it needs failed")), nil
	}
	return j, fmt.Errorf("%w: unknown event %q", ErrIllegal, ev.Kind)
}

func finish(j Job, ev Event, now time.Time) (Job, error) {
	exit := 0
	if ev.ExitCode != nil {
		exit = *ev.ExitCode
	}
	unmatched := ev.Report != nil && len(ev.Report.Unmatched) > 0
	switch ev.Status {
	case Succeeded:
		if ev.ExitCode == nil || exit != 0 || unmatched {
			return j, fmt.Errorf("%w: succeeded needs exit code 0 and every output pattern matched", ErrIllegal)
		}
	case NonzeroExit:
		if ev.ExitCode == nil || exit == 0 {
			return j, fmt.Errorf("%w: nonzero_exit needs a nonzero exit code", ErrIllegal)
		}
	case UnmatchedPatterns:
		if !unmatched {
			return j, fmt.Errorf("%w: unmatched_patterns needs the unmatched patterns in the results", ErrIllegal)
		}
	case CancelledByUser, InternalError, TimedOut:
	default:
		return j, fmt.Errorf("%w: %q is not an outcome", ErrIllegal, ev.Status)
	}
	j = end(j, now, ev.Status, ev.Message)
	if ev.ExitCode != nil {
		e := *ev.ExitCode
		j.ExitCode = &e
	}
	j.Outputs = ev.Report
	return j, nil
}

func set(j Job, s plan.JobState, c StatusCode, m string) Job {
	j.State, j.Status, j.Message = s, c, m
	return j
}

func end(j Job, now time.Time, c StatusCode, m string) Job {
	s := plan.Failed
	if c == Succeeded {
		s = plan.Succeeded
	}
	j = set(j, s, c, m)
	j.CompletedAt = now
	return j
}

func msg(ev Event, def string) string {
	if ev.Message != "" {
		return ev.Message
	}
	return def
}
