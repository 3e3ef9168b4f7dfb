package runview

import (
	"fmt"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// RunCheckRun is what the check run of a running or finished request shows
// now: its status and conclusion, a title that says the state in words, a
// summary of who asked for what, and a table of its plan's steps with their
// jobs. js are the request's jobs; jobs of other requests that its steps
// reuse or wait on may be given too, and show in their rows. A held, stale
// or withdrawn request is shown as its approval check run would be, without
// buttons.
func RunCheckRun(r jobs.Request, js []jobs.Job, now time.Time) CheckRun {
	switch r.Status {
	case jobs.RequestHeld:
		return CheckRun{
			Status: statusQueued,
			Output: checks.CheckRunOutput{Title: "Waiting for a maintainer to approve this run", Summary: capOutput(heldSummary(r, r.HoldReason))},
		}
	case jobs.RequestStale, jobs.RequestWithdrawn:
		c := ClosedApprovalCheckRun(r)
		c.Actions = nil
		return c
	}
	v := newView(r, js)
	status, conclusion := v.state()
	return CheckRun{
		Status:     status,
		Conclusion: conclusion,
		Output: checks.CheckRunOutput{
			Title:   capOutput(v.title()),
			Summary: capOutput(v.summary()),
			Text:    capOutput(v.text(now)),
		},
	}
}

// summary says who asked, for which actions, on which commit and backend,
// and how many jobs are in each state.
func (v view) summary() string {
	r := v.r
	var b strings.Builder
	fmt.Fprintf(&b, "Run #%d on **%s**, asked by %s for commit %s", r.Number, markdown.Text(r.Backend, 40), markdown.Mention(r.Requester), markdown.ShortSHA(r.HeadSHA))
	if r.ApprovedBy != "" {
		fmt.Fprintf(&b, ", approved by %s", markdown.Mention(r.ApprovedBy))
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "Actions requested: %s%s.\n\n", requested(r), forced(r))

	c := v.count()
	if len(v.own) == 0 && len(r.Plan) == 0 {
		b.WriteString("- no jobs\n")
	}
	byCode := func(state plan.JobState) string {
		n := map[jobs.StatusCode]int{}
		var order []jobs.StatusCode
		for _, j := range v.own {
			if j.State != state {
				continue
			}
			if n[j.Status] == 0 {
				order = append(order, j.Status)
			}
			n[j.Status]++
		}
		if len(order) == 0 || (len(order) == 1 && string(order[0]) == string(state)) {
			return ""
		}
		parts := make([]string, len(order))
		for i, code := range order {
			parts[i] = fmt.Sprintf("%d %s", n[code], statusCode(code))
		}
		return " (" + strings.Join(parts, ", ") + ")"
	}
	for _, s := range []struct {
		n     int
		state plan.JobState
	}{{c.running, plan.Running}, {c.pending, plan.Pending}, {c.succeeded, plan.Succeeded}, {c.failed, plan.Failed}} {
		if s.n > 0 {
			fmt.Fprintf(&b, "- %d %s%s\n", s.n, s.state, byCode(s.state))
		}
	}
	if c.reused > 0 {
		fmt.Fprintf(&b, "- %d reused from earlier runs\n", c.reused)
	}
	if c.waits > 0 {
		fmt.Fprintf(&b, "- %d waiting on jobs already under way\n", c.waits)
	}
	if r.Status == jobs.RequestSucceeded && len(v.own) == 0 {
		b.WriteString("\nNothing needed to run: everything was reused.\n")
	}
	return b.String()
}

const tableHeader = "| Action | Plan | Status | Duration | Outputs |\n|---|---|---|---|---|"

// text is the table of the plan's steps, one row each in plan order, then
// the SHA-256 of each moderately sensitive output; both are cut short with
// a row that counts what did not fit.
func (v view) text(now time.Time) string {
	if len(v.rows) == 0 {
		return ""
	}
	l := markdown.Lines{Budget: markdown.Budget}
	l.Must("### Jobs\n")
	l.Must(tableHeader)
	const reserve = 200
	for i, rw := range v.rows {
		if !l.Add(rw.markdown(now), reserve) {
			l.Must(fmt.Sprintf("| … and %d more jobs | | | | |", len(v.rows)-i))
			return l.String()
		}
	}

	var files []fileRow
	for _, rw := range v.rows {
		if rw.job == nil || rw.job.Outputs == nil {
			continue
		}
		for _, f := range rw.job.Outputs.Files {
			files = append(files, fileRow{action: rw.job.Action, f: f})
		}
	}
	if len(files) == 0 || !l.Add("", reserve+400) {
		return l.String()
	}
	l.Must("<details><summary>SHA-256 of the moderately sensitive outputs</summary>\n")
	l.Must("| Action | File | Size | SHA-256 |\n|---|---|---|---|")
	for i, f := range files {
		line := fmt.Sprintf("| %s | %s | %s | %s |", markdown.Text(f.action, nameInTable), markdown.Text(f.f.Path, nameInTable), markdown.Size(f.f.Size), markdown.SHA256(f.f.SHA256))
		if !l.Add(line, reserve) {
			l.Must(fmt.Sprintf("| … and %d more files | | | |", len(files)-i))
			break
		}
	}
	l.Must("\n</details>")
	return l.String()
}

type fileRow struct {
	action string
	f      outputs.FileReport
}

// markdown is the step's table row: action, plan, status, duration, outputs.
func (rw row) markdown(now time.Time) string {
	s := rw.step
	action := markdown.Text(s.Action, nameInTable)
	if s.Requested {
		action = "**" + action + "**"
	}
	cells := []string{action, rw.plan(), "", "", ""}
	if j := rw.job; j != nil {
		cells[2] = jobStatus(*j)
		cells[3] = jobDuration(*j, now)
		cells[4] = jobOutputs(*j)
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// plan says what the plan decided for the step and why.
func (rw row) plan() string {
	s := rw.step
	reason := markdown.Text(s.Reason, reasonShown)
	switch s.Decision {
	case plan.Run:
		return join("run", reason)
	case plan.Reuse:
		what := "reused"
		if s.JobID != "" && !strings.Contains(s.Reason, s.JobID) {
			what += " job " + markdown.Text(s.JobID, 40)
		}
		return join(what, reason)
	case plan.Wait:
		what := "waits"
		if s.WaitsOn != "" && !strings.Contains(s.Reason, s.WaitsOn) {
			what += " on job " + markdown.Text(s.WaitsOn, 40)
		}
		return join(what, reason)
	}
	return join(markdown.Text(string(s.Decision), 20), reason)
}

func join(decision, reason string) string {
	if reason == "" {
		return decision
	}
	return decision + ": " + reason
}

// jobStatus is the job's status code; for a failed job, with what went
// wrong.
func jobStatus(j jobs.Job) string {
	out := statusCode(j.Status)
	if j.State != plan.Failed {
		return out
	}
	var why []string
	if j.Status == jobs.NonzeroExit && j.ExitCode != nil {
		why = append(why, fmt.Sprintf("exit code %d", *j.ExitCode))
	}
	if m := markdown.Text(j.Message, messageShown); m != "" {
		why = append(why, m)
	}
	if len(why) > 0 {
		out += ": " + strings.Join(why, "; ")
	}
	return out
}

// jobOutputs lists a job's moderately sensitive files with their sizes,
// marking the ones kept out of the medium privacy store and why, then
// counts the others; for unmatched_patterns, the patterns nothing matched.
// A job reports no file contents, and none are shown.
func jobOutputs(j jobs.Job) string {
	rep := j.Outputs
	if rep == nil {
		return ""
	}
	var parts []string
	if len(rep.Unmatched) > 0 {
		pats := make([]string, len(rep.Unmatched))
		for i, p := range rep.Unmatched {
			pats[i] = markdown.Text(p, nameInTable)
		}
		parts = append(parts, "**no file matched** "+markdown.List(pats, filesListed))
	}
	for i, f := range rep.Files {
		if i == filesListed {
			parts = append(parts, fmt.Sprintf("and %s more", markdown.Plural(len(rep.Files)-i, "file")))
			break
		}
		line := fmt.Sprintf("%s (%s)", markdown.Text(f.Path, nameInTable), markdown.Size(f.Size))
		if f.Refused != "" {
			line += ": **refused**, " + markdown.Text(f.Refused, reasonShown)
		}
		parts = append(parts, line)
	}
	if n := rep.HighlySensitiveCount; n > 0 {
		parts = append(parts, fmt.Sprintf("+ %d highly sensitive", n))
	}
	if n := rep.MinimallySensitiveCount; n > 0 {
		parts = append(parts, fmt.Sprintf("+ %d minimally sensitive", n))
	}
	return strings.Join(parts, "<br>")
}
