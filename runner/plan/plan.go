// Package plan decides, for a run a researcher asked for, which actions run,
// which earlier work is reused and which jobs already under way are waited
// on, and why. It is pure: plain data in, plain data out.
//
// The rules are OpenSAFELY job-runner's (create_or_update_jobs.py), with
// one addition: a dependency that succeeded before is reused only while its
// Fingerprint is unchanged.
package plan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
)

// JobState is a job's state as job-runner names it. Its status code
// (waiting_on_dependencies, nonzero_exit, ...) is not the planner's
// business.
type JobState string

const (
	Pending   JobState = "pending"
	Running   JobState = "running"
	Succeeded JobState = "succeeded"
	Failed    JobState = "failed"
)

// PriorJob is the latest job of an action in the workspace, from any
// earlier job request.
type PriorJob struct {
	ID    string
	State JobState
	// Fingerprint is what the job recorded when it was planned (its Step's
	// Fingerprint).
	Fingerprint Fingerprint
}

// Request is what the planner needs to know about a run.
type Request struct {
	Pipeline *checks.Pipeline
	// All asks for every action (Pipeline.AllActions). Naming run_all in
	// Actions means the same, as in job-runner, even where project.yaml
	// defines an action of that name.
	All     bool
	Actions []string
	// Force is --force-run-dependencies: dependencies run even when earlier
	// work could be reused (but jobs under way are still waited on).
	Force bool
	// Files is the tree of the commit to run: path -> Git blob SHA.
	Files map[string]string
	// Latest is the workspace's latest job for each action, from any job
	// request.
	Latest map[string]PriorJob
}

// Decision is what happens to one action.
type Decision string

const (
	// Run creates a new job.
	Run Decision = "run"
	// Reuse takes the outputs of a job that succeeded before.
	Reuse Decision = "reuse"
	// Wait uses a job already pending or running instead of starting a
	// second one in the same workspace.
	Wait Decision = "wait"
)

// Step is the decision for one action, and why.
type Step struct {
	Action    string
	Requested bool
	Decision  Decision
	// Reason is a short clause for the researcher: "requested", "never run
	// in this workspace", "succeeded before (job 1a2b), but its inputs
	// changed: analysis/model.py".
	Reason string
	// Needs lists the actions it needs, each once, in the order written,
	// when the step runs (so they are all in the plan, earlier). A reused
	// or waited-on step does not look at its dependencies: nil.
	Needs []string
	// WaitsOn is the ID of the job a Wait step waits on.
	WaitsOn string
	// Fingerprint is the action's at this commit; a job created from this
	// step records it.
	Fingerprint Fingerprint
}

// Plan is the steps of a run, each after the steps of the actions it needs
// and otherwise in file order.
type Plan struct {
	Steps []Step
}

// UnknownActionsError says that some requested actions are not in
// project.yaml. The caller suggests names.
type UnknownActionsError struct {
	Names []string // as requested, each once, in request order
}

func (e *UnknownActionsError) Error() string {
	if len(e.Names) == 1 {
		return fmt.Sprintf("project.yaml has no action named %s", e.Names[0])
	}
	return fmt.Sprintf("project.yaml has no actions named %s", strings.Join(e.Names, ", "))
}

// runAll is the action name job-runner expands to every action.
const runAll = "run_all"

// Make plans a run. The rules, in order, for each action involved:
//
//   - one with a pending or running job is waited on, never started twice,
//     even when requested or with Force: two jobs of an action would write
//     the same outputs in one workspace;
//   - a requested action runs;
//   - a dependency runs with Force, when it never ran here, when its last
//     job failed, or when its Fingerprint changed since its last job
//     succeeded; otherwise that job is reused.
//
// The requested actions are involved, and the dependencies of each action
// that runs. A reused or waited-on action's own dependencies are not: its
// job needs nothing more from them. A step that runs while a dependency is
// waited on still runs; its job waits for that one (DependencyJobIDs).
//
// Make fails with *UnknownActionsError for requested actions that do not
// exist and with *CycleError when `needs` form a cycle anywhere in
// project.yaml (fingerprints cover everything upstream, so a cycle breaks
// them all).
func Make(req Request) (Plan, error) {
	p := req.Pipeline
	if p == nil {
		return Plan{}, errors.New("cannot plan: no pipeline")
	}
	g := newGraph(p)
	wanted, err := requested(req, g)
	if err != nil {
		return Plan{}, err
	}
	prints, err := fingerprints(p, g, req.Files)
	if err != nil {
		return Plan{}, err
	}
	isRequested := make([]bool, len(g.names))
	for _, i := range wanted {
		isRequested[i] = true
	}
	involved := make([]bool, len(g.names))
	steps := make([]Step, len(g.names))
	for queue := wanted; len(queue) > 0; {
		i := queue[0]
		queue = queue[1:]
		if involved[i] {
			continue
		}
		involved[i] = true
		s, err := decide(req, g.names[i], isRequested[i], prints[i])
		if err != nil {
			return Plan{}, err
		}
		if s.Decision == Run {
			for _, d := range g.deps[i] {
				s.Needs = append(s.Needs, g.names[d])
				queue = append(queue, d)
			}
		}
		steps[i] = s
	}
	order, _ := g.order(involved) // no cycle: fingerprints would have failed
	out := Plan{Steps: make([]Step, 0, len(order))}
	for _, i := range order {
		out.Steps = append(out.Steps, steps[i])
	}
	return out, nil
}

// requested returns the indexes of the requested actions, each once, in
// request order.
func requested(req Request, g *graph) ([]int, error) {
	all := req.All
	var names []string
	for _, a := range req.Actions {
		if a == runAll {
			all = true
		} else {
			names = append(names, a)
		}
	}
	if all {
		names = append(req.Pipeline.AllActions(), names...)
	} else if len(names) == 0 {
		return nil, errors.New("cannot plan: no actions requested")
	}
	var out []int
	var unknown []string
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		if i, ok := g.index[name]; ok {
			out = append(out, i)
		} else {
			unknown = append(unknown, name)
		}
	}
	if unknown != nil {
		return nil, &UnknownActionsError{Names: unknown}
	}
	return out, nil
}

// decide applies the rules of Make to one involved action.
func decide(req Request, action string, requested bool, now Fingerprint) (Step, error) {
	s := Step{Action: action, Requested: requested, Fingerprint: now}
	prior, seen := req.Latest[action]
	if seen {
		switch prior.State {
		case Pending, Running:
			if prior.ID == "" {
				return Step{}, fmt.Errorf("cannot plan: the %s job of action %s has no ID", prior.State, action)
			}
			s.Decision, s.WaitsOn = Wait, prior.ID
			s.Reason = fmt.Sprintf("already %s as job %s", prior.State, prior.ID)
			if requested {
				s.Reason = "requested, but " + s.Reason
			}
			if prior.Fingerprint.Sum != "" && prior.Fingerprint.Sum != now.Sum {
				s.Reason += fmt.Sprintf(", planned before a change (%s)", changes(prior.Fingerprint, now))
			}
			return s, nil
		case Succeeded, Failed:
		default:
			return Step{}, fmt.Errorf("cannot plan: job %s of action %s has unknown state %q", prior.ID, action, prior.State)
		}
	}
	s.Decision = Run
	switch {
	case requested:
		s.Reason = "requested"
	case req.Force:
		s.Reason = "--force-run-dependencies was given"
	case !seen:
		s.Reason = "never run in this workspace"
	case prior.State == Failed:
		s.Reason = fmt.Sprintf("its last job (%s) failed", prior.ID)
	case prior.Fingerprint.Sum == "":
		s.Reason = fmt.Sprintf("succeeded before (job %s), but recorded no fingerprint", prior.ID)
	case prior.Fingerprint.Sum != now.Sum:
		s.Reason = fmt.Sprintf("succeeded before (job %s), but %s", prior.ID, changes(prior.Fingerprint, now))
	default:
		s.Decision = Reuse
		s.Reason = fmt.Sprintf("succeeded before (job %s), unchanged since", prior.ID)
	}
	return s, nil
}

// ToRun returns the steps that create jobs, in plan order.
func (p Plan) ToRun() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Decision == Run {
			out = append(out, s)
		}
	}
	return out
}

// NothingToDo reports whether the plan creates no job: everything
// requested is already pending or running (job-runner's "already
// scheduled"), or nothing was there to request.
func (p Plan) NothingToDo() bool {
	for _, s := range p.Steps {
		if s.Decision == Run {
			return false
		}
	}
	return true
}

// Step returns the step of an action.
func (p Plan) Step(action string) (Step, bool) {
	for _, s := range p.Steps {
		if s.Action == action {
			return s, true
		}
	}
	return Step{}, false
}

// DependencyJobIDs returns the IDs of the jobs the new job of a Run step
// waits for, in the order of its Needs: the new jobs of dependencies that
// run in this job request, and the jobs waited on. Reused ones are done.
func (p Plan) DependencyJobIDs(action, jobRequestID string) []string {
	s, ok := p.Step(action)
	if !ok || s.Decision != Run {
		return nil
	}
	var ids []string
	for _, need := range s.Needs {
		d, _ := p.Step(need)
		switch d.Decision {
		case Run:
			ids = append(ids, JobID(jobRequestID, need))
		case Wait:
			ids = append(ids, d.WaitsOn)
		}
	}
	return ids
}

// Summary is a short line for the researcher: "3 to run, 1 reused, 1
// already pending or running", or why nothing runs.
func (p Plan) Summary() string {
	count := map[Decision]int{}
	for _, s := range p.Steps {
		count[s.Decision]++
	}
	switch {
	case len(p.Steps) == 0:
		return "nothing to run: project.yaml has no actions"
	case count[Run] == 0:
		return "nothing to run: everything requested is already pending or running"
	}
	parts := []string{fmt.Sprintf("%d to run", count[Run])}
	if n := count[Reuse]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d reused", n))
	}
	if n := count[Wait]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d already pending or running", n))
	}
	return strings.Join(parts, ", ")
}
