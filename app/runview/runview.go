// Package runview renders what researchers, output checkers and
// maintainers see of a run on GitHub: the check run of a job request (a live
// table of its jobs), the check run that holds a request for a maintainer's
// approval, and the pull request's sticky status comment.
//
// It is pure: a job request and its jobs in, plain values out. It reads no
// clock (now is passed in) and talks to no GitHub; the caller sends what it
// returns. Every value that came from a user or a file (action names,
// paths, messages) is escaped, so that a crafted name cannot break a table
// or inject HTML, and every output fits GitHub's limits.
package runview

import (
	"fmt"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// ApproveAction is the identifier of the approval check run's button; the
// check_run requested_action event carries it.
const ApproveAction = "approve"

// CheckRunName is the name of a request's check run: "fivesafes / run #N (BACKEND)".
func CheckRunName(r jobs.Request) string {
	return fmt.Sprintf("fivesafes / run #%d (%s)", r.Number, markdown.Line(r.Backend, 40))
}

// CheckRun is what a check run shows now.
type CheckRun struct {
	Status     string // queued, in_progress, completed
	Conclusion string // with completed: success, failure, cancelled, action_required, timed_out, neutral, skipped
	Output     checks.CheckRunOutput
	// Actions are the run's buttons: nil leaves them as they are, an empty
	// slice removes them.
	Actions []checks.CheckRunAction
}

// Check run statuses and conclusions, as GitHub names them.
const (
	statusQueued     = "queued"
	statusInProgress = "in_progress"
	statusCompleted  = "completed"

	conclusionSuccess        = "success"
	conclusionFailure        = "failure"
	conclusionCancelled      = "cancelled"
	conclusionTimedOut       = "timed_out"
	conclusionActionRequired = "action_required"
	conclusionNeutral        = "neutral"
	conclusionSkipped        = "skipped"
)

// view is a request with its jobs sorted out: the ones it made, in plan
// order, and one row per plan step with the job the step ran, reuses or
// waits on when that job was given.
type view struct {
	r    jobs.Request
	own  []jobs.Job
	rows []row
}

type row struct {
	step jobs.PlanStep
	job  *jobs.Job // nil: not given (yet)
}

// newView matches jobs to r's plan steps by PlanStep.JobID (a wait step by
// WaitsOn). A job is the request's own when its RequestID is r's or a run
// step made it; own jobs that no step names (a plan the store did not keep)
// get rows of their own after the plan's.
func newView(r jobs.Request, js []jobs.Job) view {
	v := view{r: r}
	byID := make(map[string]*jobs.Job, len(js))
	for i := range js {
		byID[js[i].ID] = &js[i]
	}
	ranBy := map[string]bool{}
	for _, s := range r.Plan {
		id := s.JobID
		if s.Decision == plan.Wait && id == "" {
			id = s.WaitsOn
		}
		j := byID[id]
		if id == "" {
			j = nil
		}
		v.rows = append(v.rows, row{step: s, job: j})
		if s.Decision == plan.Run && j != nil && !ranBy[j.ID] {
			ranBy[j.ID] = true
			v.own = append(v.own, *j)
		}
	}
	for i, j := range js {
		if j.RequestID == r.ID && !ranBy[j.ID] {
			ranBy[j.ID] = true
			v.own = append(v.own, j)
			v.rows = append(v.rows, row{step: jobs.PlanStep{Action: j.Action, Decision: plan.Run, JobID: j.ID}, job: &js[i]})
		}
	}
	return v
}

// count is how many of the request's own jobs are in each state, and how
// many of its steps reuse or wait.
type count struct {
	pending, running, succeeded, failed int
	reused, waits                       int
}

func (v view) count() count {
	var c count
	for _, j := range v.own {
		switch j.State {
		case plan.Pending:
			c.pending++
		case plan.Running:
			c.running++
		case plan.Succeeded:
			c.succeeded++
		case plan.Failed:
			c.failed++
		}
	}
	for _, s := range v.r.Plan {
		switch s.Decision {
		case plan.Reuse:
			c.reused++
		case plan.Wait:
			c.waits++
		}
	}
	return c
}

// state is where a request is, in the check run's terms.
func (v view) state() (status, conclusion string) {
	switch v.r.Status {
	case jobs.RequestHeld:
		return statusQueued, ""
	case jobs.RequestStale:
		return statusCompleted, conclusionSkipped
	case jobs.RequestWithdrawn:
		return statusCompleted, conclusionCancelled
	case jobs.RequestRunning:
		for _, j := range v.own {
			if j.State != plan.Pending {
				return statusInProgress, ""
			}
		}
		return statusQueued, ""
	case jobs.RequestSucceeded:
		return statusCompleted, conclusionSuccess
	}
	culprit, _ := v.culprit()
	switch {
	case culprit == nil:
		return statusCompleted, conclusionFailure
	case culprit.Status == jobs.TimedOut:
		return statusCompleted, conclusionTimedOut
	case culprit.Status == jobs.CancelledByUser:
		return statusCompleted, conclusionCancelled
	}
	return statusCompleted, conclusionFailure
}

// culprit is the failed job that says best why the request failed, in plan
// order: the first that failed on its own (nonzero_exit, internal_error,
// ...), else the first that timed out, else the first a user cancelled,
// else the first whose dependency failed. others is how many more failed on
// their own.
func (v view) culprit() (culprit *jobs.Job, others int) {
	rank := func(c jobs.StatusCode) int {
		switch c {
		case jobs.TimedOut:
			return 1
		case jobs.CancelledByUser:
			return 2
		case jobs.DependencyFailed:
			return 3
		}
		return 0
	}
	best, own := 4, 0
	for i, j := range v.own {
		if j.State != plan.Failed {
			continue
		}
		k := rank(j.Status)
		if k == 0 {
			own++
		}
		if k < best {
			culprit, best = &v.own[i], k
		}
	}
	return culprit, max(own-1, 0)
}

// names renders a user's value for one place: plain for a title, escaped
// Markdown for a comment.
type names func(s string, limit int) string

// headline says a request's state in words, in two parts: "Failed" and
// "describe exited with code 2 (nonzero_exit)". A check run's title is
// "Failed: describe exited ...".
func (v view) headline(name names) (word, detail string) {
	c := v.count()
	switch v.r.Status {
	case jobs.RequestHeld:
		return "Waiting for a maintainer to approve this run", ""
	case jobs.RequestStale:
		return "Not run", "new commits were pushed before it was approved"
	case jobs.RequestWithdrawn:
		return "Withdrawn before it was approved", ""
	case jobs.RequestRunning:
		if status, _ := v.state(); status == statusQueued {
			return "Queued", v.queued(c)
		}
		done := c.succeeded + c.failed
		detail = fmt.Sprintf("%d of %s done", done, markdown.Plural(len(v.own), "job"))
		if c.failed > 0 {
			detail += fmt.Sprintf(", %d failed", c.failed)
		}
		return "Running", detail
	case jobs.RequestSucceeded:
		if len(v.own) == 0 {
			return "Succeeded", "nothing needed to run, everything was reused"
		}
		detail = markdown.Plural(len(v.own), "job")
		if c.reused > 0 {
			detail += fmt.Sprintf(", %d reused", c.reused)
		}
		return "Succeeded", detail
	}
	j, others := v.culprit()
	if j == nil {
		return "Failed", "see the jobs below"
	}
	action := name(j.Action, nameInTitle)
	more := ""
	if others > 0 {
		more = fmt.Sprintf(", and %d more failed", others)
	}
	switch j.Status {
	case jobs.CancelledByUser:
		return "Cancelled by a user", ""
	case jobs.TimedOut:
		limit := ""
		if j.Timeout > 0 {
			limit = " of " + duration(j.Timeout)
		}
		return "Timed out", fmt.Sprintf("%s ran past its time limit%s (timed_out)", action, limit)
	case jobs.NonzeroExit:
		if j.ExitCode != nil {
			return "Failed", fmt.Sprintf("%s exited with code %d (nonzero_exit)%s", action, *j.ExitCode, more)
		}
		return "Failed", fmt.Sprintf("%s exited with an error (nonzero_exit)%s", action, more)
	case jobs.UnmatchedPatterns:
		what := "its outputs"
		if j.Outputs != nil && len(j.Outputs.Unmatched) > 0 {
			what = name(j.Outputs.Unmatched[0], pathInTitle)
			if n := len(j.Outputs.Unmatched) - 1; n > 0 {
				what += fmt.Sprintf(" and %d more", n)
			}
		}
		return "Failed", fmt.Sprintf("%s did not write %s (unmatched_patterns)%s", action, what, more)
	case jobs.InternalError:
		return "Failed", fmt.Sprintf("%s stopped on an internal error (internal_error)%s", action, more)
	case jobs.DependencyFailed:
		return "Failed", fmt.Sprintf("%s could not run: a job it needs failed (dependency_failed)", action)
	}
	return "Failed", fmt.Sprintf("%s failed (%s)%s", action, name(string(j.Status), 30), more)
}

func (v view) queued(c count) string {
	if len(v.own) == 0 {
		return "waiting for the backend"
	}
	for _, j := range v.own {
		if j.Status != jobs.WaitingOnDependencies {
			return markdown.Plural(c.pending, "job") + " waiting for the backend"
		}
	}
	return markdown.Plural(c.pending, "job") + " waiting on jobs of another run"
}

// title is the check run's title: the headline in plain text, one line.
func (v view) title() string {
	word, detail := v.headline(markdown.Line)
	if detail == "" {
		return markdown.Line(word, markdown.TitleRunes)
	}
	return markdown.Line(word+": "+detail, markdown.TitleRunes)
}

// jobDuration is how long a job ran: started to completed, or to now while
// it runs ("so far"); "" if it never started.
func jobDuration(j jobs.Job, now time.Time) string {
	if j.StartedAt.IsZero() {
		return ""
	}
	if j.CompletedAt.IsZero() {
		return duration(now.Sub(j.StartedAt)) + " so far"
	}
	return duration(j.CompletedAt.Sub(j.StartedAt))
}

// requested is the actions a request asked for, escaped, as a list.
func requested(r jobs.Request) string {
	if len(r.Actions) == 0 {
		return "no actions"
	}
	names := make([]string, len(r.Actions))
	for i, a := range r.Actions {
		names[i] = "**" + markdown.TextNoMentions(a, nameInComment) + "**"
	}
	return markdown.List(names, actionsListed)
}

// forced is the note that --force-run-dependencies was given, or "".
func forced(r jobs.Request) string {
	if !r.Force {
		return ""
	}
	return ", with `--force-run-dependencies`"
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}
