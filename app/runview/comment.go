package runview

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// StatusMarker starts the pull request's status comment, so that the bot
// finds its own comment to edit.
const StatusMarker = "<!-- fivesafes:status -->"

// Shown in the status comment at most.
const (
	runsShown       = 10
	jobsShownPerRun = 15
)

// RequestJobs is a request with its jobs.
type RequestJobs struct {
	Request jobs.Request
	Jobs    []jobs.Job
}

// StatusComment is the body of the pull request's single status comment,
// edited in place: the runs newest first (at most 10), each with its state
// in words, who asked, the commit, the backend, a link to detailsURL and its
// jobs one per line; then how to ask for more. detailsURL may be nil, or
// return "" for a run without a page.
func StatusComment(runs []RequestJobs, detailsURL func(jobs.Request) string, now time.Time) string {
	l := markdown.Lines{Budget: markdown.Budget}
	l.Must(StatusMarker)
	l.Must("### fivesafes runs on this pull request\n")
	if len(runs) == 0 {
		l.Must("No runs yet. Comment `/run ACTION...` (or `/run all`) to run actions of `project.yaml`.\n")
		l.Must(commandsHint)
		return l.String()
	}
	runs = slices.Clone(runs)
	slices.SortStableFunc(runs, func(a, b RequestJobs) int {
		return cmp.Or(cmp.Compare(b.Request.Number, a.Request.Number), b.Request.CreatedAt.Compare(a.Request.CreatedAt))
	})
	const reserve = 600 // the "earlier runs" line and the hint
	shown := 0
	for _, rj := range runs[:min(len(runs), runsShown)] {
		block := runBlock(newView(rj.Request, rj.Jobs), detailsURL, now)
		if !l.Add(block, reserve) {
			break
		}
		shown++
	}
	if n := len(runs) - shown; n > 0 {
		l.Must(fmt.Sprintf("\n_and %s_", markdown.Plural(n, "earlier run")))
	}
	l.Must("\n" + commandsHint)
	return l.String()
}

const commandsHint = "<sub>Comment `/run ACTION...` to run actions, `/cancel` to stop this pull request's jobs, " +
	"`/status` to refresh this comment, `/help` for every command.</sub>"

// runBlock is one run in the status comment: a list item, and its jobs one
// per line under it.
func runBlock(v view, detailsURL func(jobs.Request) string, now time.Time) string {
	r := v.r
	word, detail := v.headline(markdown.TextNoMentions)
	state := "**" + word + "**"
	if detail != "" {
		state += ": " + detail
	}
	head := fmt.Sprintf("- %s Run #%d · %s · by %s · %s · on %s", v.emoji(), r.Number, state,
		markdown.Mention(r.Requester), markdown.ShortSHA(r.HeadSHA), markdown.TextNoMentions(r.Backend, 40))
	if detailsURL != nil {
		if u := markdown.SafeURL(detailsURL(r)); u != "" {
			head += " · [details](" + u + ")"
		}
	}
	out := []string{head}
	if len(r.Plan) == 0 && len(v.own) == 0 {
		out = append(out, "  - asked for "+requested(r)+forced(r))
	}
	for i, j := range v.own {
		if i == jobsShownPerRun {
			out = append(out, fmt.Sprintf("  - … and %s: see the details", markdown.Plural(len(v.own)-i, "more job")))
			break
		}
		line := fmt.Sprintf("  - %s — %s", markdown.TextNoMentions(j.Action, nameInComment), statusCode(j.Status))
		if d := jobDuration(j, now); d != "" {
			line += " — " + d
		}
		out = append(out, line)
	}
	c := v.count()
	if c.reused > 0 {
		out = append(out, fmt.Sprintf("  - %s reused from earlier runs", markdown.Plural(c.reused, "action")))
	}
	if c.waits > 0 {
		out = append(out, fmt.Sprintf("  - %s waiting on jobs already under way", markdown.Plural(c.waits, "action")))
	}
	return strings.Join(out, "\n")
}

// emoji is the run's state at a glance.
func (v view) emoji() string {
	switch v.r.Status {
	case jobs.RequestHeld:
		return "✋"
	case jobs.RequestStale, jobs.RequestWithdrawn:
		return "⚪"
	}
	switch _, conclusion := v.state(); conclusion {
	case "":
		return "⏳"
	case conclusionSuccess:
		return "✅"
	case conclusionCancelled:
		return "🚫"
	}
	return "❌"
}
