package runview

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// t0 is when the test requests were made; now is a little later.
var (
	t0  = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	now = t0.Add(time.Hour)
)

const sha = "abc1234def5678abc1234def5678abc1234def56"

// request is run #n by ana on tpp at sha, with status and plan steps.
func request(n int, status jobs.RequestStatus, steps ...jobs.PlanStep) jobs.Request {
	var actions []string
	for _, s := range steps {
		if s.Requested {
			actions = append(actions, s.Action)
		}
	}
	return jobs.Request{
		ID: fmt.Sprintf("req%d", n), Number: n, Repo: "lab/study", PR: 7, Workspace: "lab/study/main",
		HeadSHA: sha, Backend: "tpp", Requester: "ana", Actions: actions, CreatedAt: t0.Add(time.Duration(n) * time.Minute),
		Status: status, Plan: steps,
	}
}

// requestedStep is a run step the researcher asked for; dependency is one
// the plan added.
func requestedStep(action string) jobs.PlanStep {
	return jobs.PlanStep{Action: action, Requested: true, Decision: plan.Run, Reason: "requested", JobID: "job-" + action}
}

func dependency(action string) jobs.PlanStep {
	return jobs.PlanStep{Action: action, Decision: plan.Run, Reason: "never run in this workspace", JobID: "job-" + action}
}

func reused(action, jobID string) jobs.PlanStep {
	return jobs.PlanStep{Action: action, Decision: plan.Reuse, Reason: "succeeded before (job " + jobID + "), unchanged since", JobID: jobID}
}

func waits(action, jobID string) jobs.PlanStep {
	return jobs.PlanStep{Action: action, Decision: plan.Wait, Reason: "already running as job " + jobID, WaitsOn: jobID}
}

// A job of request r for action, in each shape the store makes.
func job(r jobs.Request, action string, state plan.JobState, code jobs.StatusCode) jobs.Job {
	return jobs.Job{
		ID: "job-" + action, RequestID: r.ID, Action: action, Workspace: r.Workspace, Backend: r.Backend,
		State: state, Status: code, Message: strings.ReplaceAll(string(code), "_", " "), CreatedAt: r.CreatedAt,
	}
}

func pending(r jobs.Request, action string) jobs.Job {
	return job(r, action, plan.Pending, jobs.WaitingOnWorkers)
}

func waitingOnDeps(r jobs.Request, action string) jobs.Job {
	return job(r, action, plan.Pending, jobs.WaitingOnDependencies)
}

// running started ran ago (before now).
func running(r jobs.Request, action string, ran time.Duration) jobs.Job {
	j := job(r, action, plan.Running, jobs.Executing)
	j.StartedAt = now.Add(-ran)
	return j
}

func succeeded(r jobs.Request, action string, took time.Duration, files ...outputs.FileReport) jobs.Job {
	j := job(r, action, plan.Succeeded, jobs.Succeeded)
	j.StartedAt, j.CompletedAt = t0, t0.Add(took)
	zero := 0
	j.ExitCode = &zero
	j.Outputs = &outputs.Report{Files: files}
	return j
}

func failed(r jobs.Request, action string, code jobs.StatusCode, message string) jobs.Job {
	j := job(r, action, plan.Failed, code)
	j.Message = message
	if code != jobs.DependencyFailed && code != jobs.CancelledByUser {
		j.StartedAt = t0
	}
	j.CompletedAt = t0.Add(30 * time.Second)
	return j
}

func exited(r jobs.Request, action string, code int) jobs.Job {
	j := failed(r, action, jobs.NonzeroExit, "Job exited with an error")
	j.ExitCode = &code
	return j
}

func unmatched(r jobs.Request, action string, patterns ...string) jobs.Job {
	j := failed(r, action, jobs.UnmatchedPatterns, "No outputs found matching patterns")
	j.Outputs = &outputs.Report{Unmatched: patterns, Files: []outputs.FileReport{}}
	return j
}

func timedOut(r jobs.Request, action string, limit time.Duration) jobs.Job {
	j := failed(r, action, jobs.TimedOut, "ran past its time limit")
	j.Timeout = limit
	return j
}

func file(path string, n int64) outputs.FileReport {
	return outputs.FileReport{Path: path, Level: "moderately_sensitive", Size: n, SHA256: strings.Repeat("ab", 32)}
}

func refused(path string, n int64, why string) outputs.FileReport {
	f := file(path, n)
	f.Refused = why
	return f
}

// tableRows are the rows of the first Markdown table in text, without its
// header and separator.
func tableRows(t *testing.T, text string) []string {
	t.Helper()
	var rows []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "| Action |"):
			in = true
		case in && strings.HasPrefix(line, "|---"):
		case in && strings.HasPrefix(line, "|"):
			rows = append(rows, line)
		case in:
			return rows
		}
	}
	return rows
}

// separators counts the cell separators of a table row that Markdown sees: pipes
// not escaped by a backslash.
func separators(line string) int {
	n, backslashes := 0, 0
	for _, c := range line {
		switch {
		case c == '\\':
			backslashes++
			continue
		case c == '|' && backslashes%2 == 0:
			n++
		}
		backslashes = 0
	}
	return n
}

// unescaped reports whether s holds markup whose first character no
// backslash escapes, so that Markdown would read it as markup.
func unescaped(s, markup string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], markup)
		if j < 0 {
			return false
		}
		at := i + j
		backslashes := 0
		for k := at - 1; k >= 0 && s[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return true
		}
		i = at + 1
	}
}
