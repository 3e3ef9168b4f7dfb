package jobs

import (
	"errors"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

func intp(i int) *int { return &i }

func TestTransition(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	waitingDeps := Job{ID: "j", State: plan.Pending, Status: WaitingOnDependencies}
	waitingWorkers := Job{ID: "j", State: plan.Pending, Status: WaitingOnWorkers}
	running := Job{ID: "j", State: plan.Running, Status: Executing, StartedAt: now.Add(-time.Hour)}
	done := Job{ID: "j", State: plan.Succeeded, Status: Succeeded, CompletedAt: now}
	failed := Job{ID: "j", State: plan.Failed, Status: NonzeroExit, CompletedAt: now}
	unmatched := &outputs.Report{Unmatched: []string{"output/*.csv"}}

	cases := map[string]struct {
		from      Job
		ev        Event
		state     plan.JobState
		status    StatusCode
		err       error
		completed bool
	}{
		"dependencies done: waits for a worker":     {from: waitingDeps, ev: Event{Kind: Ready}, state: plan.Pending, status: WaitingOnWorkers},
		"claimed job is preparing":                  {from: waitingWorkers, ev: Event{Kind: Claimed}, state: plan.Running, status: Preparing},
		"cannot claim a job still waiting on deps":  {from: waitingDeps, ev: Event{Kind: Claimed}, err: ErrIllegal},
		"stage moves a running job":                 {from: running, ev: Event{Kind: Stage, Status: Finalizing}, state: plan.Running, status: Finalizing},
		"a stage that is not a stage":               {from: running, ev: Event{Kind: Stage, Status: Succeeded}, err: ErrIllegal},
		"stage on a pending job":                    {from: waitingWorkers, ev: Event{Kind: Stage, Status: Executing}, err: ErrIllegal},
		"exit 0, all matched: succeeded":            {from: running, ev: Event{Kind: Finished, Status: Succeeded, ExitCode: intp(0), Report: &outputs.Report{}}, state: plan.Succeeded, status: Succeeded, completed: true},
		"succeeded without an exit code":            {from: running, ev: Event{Kind: Finished, Status: Succeeded}, err: ErrIllegal},
		"succeeded claimed with exit 1":             {from: running, ev: Event{Kind: Finished, Status: Succeeded, ExitCode: intp(1)}, err: ErrIllegal},
		"succeeded claimed with unmatched patterns": {from: running, ev: Event{Kind: Finished, Status: Succeeded, ExitCode: intp(0), Report: unmatched}, err: ErrIllegal},
		"nonzero exit fails":                        {from: running, ev: Event{Kind: Finished, Status: NonzeroExit, ExitCode: intp(2)}, state: plan.Failed, status: NonzeroExit, completed: true},
		"nonzero_exit with exit 0":                  {from: running, ev: Event{Kind: Finished, Status: NonzeroExit, ExitCode: intp(0)}, err: ErrIllegal},
		"unmatched patterns fail":                   {from: running, ev: Event{Kind: Finished, Status: UnmatchedPatterns, ExitCode: intp(0), Report: unmatched}, state: plan.Failed, status: UnmatchedPatterns, completed: true},
		"unmatched_patterns without patterns":       {from: running, ev: Event{Kind: Finished, Status: UnmatchedPatterns, ExitCode: intp(0)}, err: ErrIllegal},
		"agent's internal error":                    {from: running, ev: Event{Kind: Finished, Status: InternalError}, state: plan.Failed, status: InternalError, completed: true},
		"finish a pending job":                      {from: waitingWorkers, ev: Event{Kind: Finished, Status: NonzeroExit, ExitCode: intp(1)}, err: ErrIllegal},
		"finish with a stage code":                  {from: running, ev: Event{Kind: Finished, Status: Executing}, err: ErrIllegal},
		"cancel a pending job":                      {from: waitingDeps, ev: Event{Kind: Cancelled}, state: plan.Failed, status: CancelledByUser, completed: true},
		"lease lost: waits for a worker again":      {from: running, ev: Event{Kind: LeaseLost}, state: plan.Pending, status: WaitingOnWorkers},
		"lease lost on a pending job":               {from: waitingWorkers, ev: Event{Kind: LeaseLost}, err: ErrIllegal},
		"abandoned: internal error":                 {from: waitingWorkers, ev: Event{Kind: Abandoned}, state: plan.Failed, status: InternalError, completed: true},
		"timed out":                                 {from: running, ev: Event{Kind: TimedOutEvent}, state: plan.Failed, status: TimedOut, completed: true},
		"dependency failed":                         {from: waitingDeps, ev: Event{Kind: DependencyFailedEvent}, state: plan.Failed, status: DependencyFailed, completed: true},
		"dependency failed on a running job":        {from: running, ev: Event{Kind: DependencyFailedEvent}, err: ErrIllegal},
		"a succeeded job never changes":             {from: done, ev: Event{Kind: Finished, Status: NonzeroExit, ExitCode: intp(1)}, err: ErrFinished},
		"a failed job is not cancelled later":       {from: failed, ev: Event{Kind: Cancelled}, err: ErrFinished},
		"a failed job is not re-claimed":            {from: failed, ev: Event{Kind: Claimed}, err: ErrFinished},
		"unknown event":                             {from: running, ev: Event{Kind: "explode"}, err: ErrIllegal},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Transition(tc.from, tc.ev, now)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if got.State != tc.from.State || got.Status != tc.from.Status {
					t.Fatalf("job changed on error: %s/%s", got.State, got.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tc.state || got.Status != tc.status {
				t.Fatalf("got %s/%s, want %s/%s", got.State, got.Status, tc.state, tc.status)
			}
			if got.CompletedAt.IsZero() == tc.completed {
				t.Fatalf("completed_at = %v, want set: %v", got.CompletedAt, tc.completed)
			}
			if got.Finished() != tc.completed {
				t.Fatalf("Finished() = %v", got.Finished())
			}
		})
	}
}

func TestTransitionClaimKeepsFirstStart(t *testing.T) {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	j := Job{State: plan.Pending, Status: WaitingOnWorkers, StartedAt: first}
	got, err := Transition(j, Event{Kind: Claimed}, first.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartedAt.Equal(first) {
		t.Fatalf("started_at = %v, want the first claim %v", got.StartedAt, first)
	}
}
