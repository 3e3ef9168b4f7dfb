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

func TestCheckRunName(t *testing.T) {
	t.Parallel()
	r := request(12, jobs.RequestRunning)
	if got, want := CheckRunName(r), "fivesafes / run #12 (tpp)"; got != want {
		t.Errorf("CheckRunName = %q, want %q", got, want)
	}
}

func TestRunCheckRunState(t *testing.T) {
	t.Parallel()
	three := []jobs.PlanStep{dependency("generate"), dependency("describe"), requestedStep("model")}
	running := request(1, jobs.RequestRunning, three...)
	done := func(s jobs.RequestStatus) jobs.Request { return request(1, s, three...) }
	ok, failedRun := done(jobs.RequestSucceeded), done(jobs.RequestFailed)
	cases := map[string]struct {
		r          jobs.Request
		js         []jobs.Job
		status     string
		conclusion string
		title      string
	}{
		"no job claimed yet: queued": {
			r:      running,
			js:     []jobs.Job{pending(running, "generate"), waitingOnDeps(running, "describe"), waitingOnDeps(running, "model")},
			status: "queued", title: "Queued: 3 jobs waiting for the backend",
		},
		"every job waits on another run's jobs": {
			r:      request(1, jobs.RequestRunning, requestedStep("model")),
			js:     []jobs.Job{waitingOnDeps(running, "model")},
			status: "queued", title: "Queued: 1 job waiting on jobs of another run",
		},
		"one job claimed: in progress": {
			r:      running,
			js:     []jobs.Job{runningJob(running, "generate"), waitingOnDeps(running, "describe"), waitingOnDeps(running, "model")},
			status: "in_progress", title: "Running: 0 of 3 jobs done",
		},
		"one job done": {
			r:      running,
			js:     []jobs.Job{succeeded(running, "generate", time.Minute), runningJob(running, "describe"), waitingOnDeps(running, "model")},
			status: "in_progress", title: "Running: 1 of 3 jobs done",
		},
		"a job failed while another runs": {
			r: request(1, jobs.RequestRunning, requestedStep("a"), requestedStep("b"), requestedStep("c")),
			js: []jobs.Job{
				succeeded(running, "a", time.Minute), exited(running, "b", 1), runningJob(running, "c"),
			},
			status: "in_progress", title: "Running: 2 of 3 jobs done, 1 failed",
		},
		"every job succeeded": {
			r:      ok,
			js:     []jobs.Job{succeeded(ok, "generate", time.Minute), succeeded(ok, "describe", time.Second), succeeded(ok, "model", time.Second)},
			status: "completed", conclusion: "success", title: "Succeeded: 3 jobs",
		},
		"succeeded, reusing earlier work": {
			r:      request(1, jobs.RequestSucceeded, reused("generate", "job-old"), requestedStep("model")),
			js:     []jobs.Job{succeeded(ok, "model", time.Second)},
			status: "completed", conclusion: "success", title: "Succeeded: 1 job, 1 reused",
		},
		"nothing needed to run: everything reused": {
			r:      request(1, jobs.RequestSucceeded, reused("generate", "job-old"), reused("model", "job-old2")),
			status: "completed", conclusion: "success", title: "Succeeded: nothing needed to run, everything was reused",
		},
		"nonzero exit, dependants never ran": {
			r: failedRun,
			js: []jobs.Job{succeeded(failedRun, "generate", time.Minute), exited(failedRun, "describe", 2),
				failed(failedRun, "model", jobs.DependencyFailed, "a job it needs failed")},
			status: "completed", conclusion: "failure", title: "Failed: describe exited with code 2 (nonzero_exit)",
		},
		"unmatched patterns": {
			r: failedRun,
			js: []jobs.Job{succeeded(failedRun, "generate", time.Minute), succeeded(failedRun, "describe", time.Minute),
				unmatched(failedRun, "model", "output/model.csv")},
			status: "completed", conclusion: "failure", title: "Failed: model did not write output/model.csv (unmatched_patterns)",
		},
		"several unmatched patterns": {
			r:      request(1, jobs.RequestFailed, requestedStep("model")),
			js:     []jobs.Job{unmatched(failedRun, "model", "output/model.csv", "output/*.png")},
			status: "completed", conclusion: "failure", title: "Failed: model did not write output/model.csv and 1 more (unmatched_patterns)",
		},
		"internal error": {
			r:      request(1, jobs.RequestFailed, requestedStep("model")),
			js:     []jobs.Job{failed(failedRun, "model", jobs.InternalError, "the agent stopped reporting too often")},
			status: "completed", conclusion: "failure", title: "Failed: model stopped on an internal error (internal_error)",
		},
		"two jobs failed on their own": {
			r:      request(1, jobs.RequestFailed, requestedStep("a"), requestedStep("b")),
			js:     []jobs.Job{exited(failedRun, "a", 2), failed(failedRun, "b", jobs.InternalError, "boom")},
			status: "completed", conclusion: "failure", title: "Failed: a exited with code 2 (nonzero_exit), and 1 more failed",
		},
		"a user cancelled, dependants never ran": {
			r: failedRun,
			js: []jobs.Job{succeeded(failedRun, "generate", time.Minute), failed(failedRun, "describe", jobs.CancelledByUser, "cancelled by user"),
				failed(failedRun, "model", jobs.DependencyFailed, "a job it needs failed")},
			status: "completed", conclusion: "cancelled", title: "Cancelled by a user",
		},
		"a cancellation and a real failure": {
			r: failedRun,
			js: []jobs.Job{failed(failedRun, "generate", jobs.CancelledByUser, "cancelled by user"), exited(failedRun, "describe", 1),
				failed(failedRun, "model", jobs.DependencyFailed, "a job it needs failed")},
			status: "completed", conclusion: "failure", title: "Failed: describe exited with code 1 (nonzero_exit)",
		},
		"timed out, dependants never ran": {
			r: failedRun,
			js: []jobs.Job{succeeded(failedRun, "generate", time.Minute), timedOut(failedRun, "describe", 4*time.Hour),
				failed(failedRun, "model", jobs.DependencyFailed, "a job it needs failed")},
			status: "completed", conclusion: "timed_out", title: "Timed out: describe ran past its time limit of 4h 00m (timed_out)",
		},
		"a timeout and an internal error": {
			r: failedRun,
			js: []jobs.Job{timedOut(failedRun, "generate", time.Hour), failed(failedRun, "describe", jobs.InternalError, "lost"),
				failed(failedRun, "model", jobs.DependencyFailed, "a job it needs failed")},
			status: "completed", conclusion: "failure", title: "Failed: describe stopped on an internal error (internal_error)",
		},
		"only a waited-on job of another run failed": {
			r:      request(1, jobs.RequestFailed, waits("generate", "job-other"), requestedStep("model")),
			js:     []jobs.Job{failed(failedRun, "model", jobs.DependencyFailed, "a job it needs failed")},
			status: "completed", conclusion: "failure", title: "Failed: model could not run: a job it needs failed (dependency_failed)",
		},
		"held for approval": {
			r:      request(1, jobs.RequestHeld),
			status: "queued", title: "Waiting for a maintainer to approve this run",
		},
		"stale before approval": {
			r:      request(1, jobs.RequestStale),
			status: "completed", conclusion: "skipped", title: "Not run: new commits were pushed before it was approved",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := RunCheckRun(tc.r, tc.js, now)
			if got.Status != tc.status || got.Conclusion != tc.conclusion {
				t.Errorf("status, conclusion = %q, %q; want %q, %q", got.Status, got.Conclusion, tc.status, tc.conclusion)
			}
			if got.Output.Title != tc.title {
				t.Errorf("title = %q\n         want %q", got.Output.Title, tc.title)
			}
			if n := len([]rune(got.Output.Title)); n > 80 {
				t.Errorf("title has %d characters, want at most 80: %q", n, got.Output.Title)
			}
			if got.Actions != nil {
				t.Errorf("actions = %v, want nil: a run's check run leaves its buttons alone", got.Actions)
			}
		})
	}
}

// runningJob has run 3m 05s by now.
func runningJob(r jobs.Request, action string) jobs.Job {
	return running(r, action, 3*time.Minute+5*time.Second)
}

func TestRunCheckRunSummary(t *testing.T) {
	t.Parallel()
	r := request(4, jobs.RequestRunning, dependency("generate"), reused("codelists", "job-old"), waits("extract", "job-other"),
		requestedStep("describe"), requestedStep("model"), requestedStep("report"))
	r.Force, r.ApprovedBy, r.Requester = true, "mia", "eve"
	js := []jobs.Job{
		succeeded(r, "generate", time.Minute), runningJob(r, "describe"), pending(r, "model"), waitingOnDeps(r, "report"),
	}
	got := RunCheckRun(r, js, now).Output.Summary
	for _, want := range []string{
		"Run #4 on **tpp**, asked by @eve for commit `abc1234`, approved by @mia.",
		"Actions requested: **describe**, **model** and **report**, with `--force-run-dependencies`.",
		"- 1 running (1 `executing`)\n",
		"- 2 pending (1 `waiting_on_workers`, 1 `waiting_on_dependencies`)\n",
		"- 1 succeeded\n",
		"- 1 reused from earlier runs\n",
		"- 1 waiting on jobs already under way\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "failed") {
		t.Errorf("summary counts failures that did not happen:\n%s", got)
	}
}

func TestRunCheckRunSummaryNothingToRun(t *testing.T) {
	t.Parallel()
	r := request(2, jobs.RequestSucceeded, reused("generate", "job-old"), jobs.PlanStep{
		Action: "model", Requested: true, Decision: plan.Reuse, Reason: "succeeded before (job job-m), unchanged since", JobID: "job-m",
	})
	got := RunCheckRun(r, nil, now).Output.Summary
	for _, want := range []string{"- 2 reused from earlier runs", "Nothing needed to run: everything was reused."} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}

func TestRunCheckRunTable(t *testing.T) {
	t.Parallel()
	r := request(3, jobs.RequestRunning, reused("codelists", "job-old"), waits("extract", "job-other"),
		dependency("generate"), requestedStep("describe"), requestedStep("model"), requestedStep("plots"), requestedStep("report"))
	gen := succeeded(r, "generate", 850*time.Millisecond, file("output/summary.csv", 1536),
		refused("output/table.xlsx", 3072, "file type .xlsx is not allowed for moderately_sensitive files"))
	gen.Outputs.HighlySensitiveCount = 2
	js := []jobs.Job{
		gen,
		exited(r, "describe", 2),
		unmatched(r, "model", "output/model.csv"),
		runningJob(r, "plots"),
		pending(r, "report"),
	}
	text := RunCheckRun(r, js, now).Output.Text
	want := []string{
		`| codelists | reused: succeeded before (job job-old), unchanged since |  |  |  |`,
		`| extract | waits: already running as job job-other |  |  |  |`,
		`| generate | run: never run in this workspace | ` + "`succeeded`" + ` | 850ms | output/summary.csv (1.5 KB)<br>output/table.xlsx (3.0 KB): **refused**, file type .xlsx is not allowed for moderately\_sensitive files<br>+ 2 highly sensitive |`,
		`| **describe** | run: requested | ` + "`nonzero_exit`" + `: exit code 2; Job exited with an error | 30s |  |`,
		`| **model** | run: requested | ` + "`unmatched_patterns`" + `: No outputs found matching patterns | 30s | **no file matched** output/model.csv |`,
		`| **plots** | run: requested | ` + "`executing`" + ` | 3m 05s so far |  |`,
		`| **report** | run: requested | ` + "`waiting_on_workers`" + ` |  |  |`,
	}
	got := tableRows(t, text)
	if len(got) != len(want) {
		t.Fatalf("table has %d rows, want %d (one per plan step):\n%s", len(got), len(want), text)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
	if !strings.Contains(text, "| generate | output/summary.csv | 1.5 KB | `"+strings.Repeat("ab", 32)+"` |") {
		t.Errorf("text lacks the SHA-256 of output/summary.csv:\n%s", text)
	}
}

func TestRunCheckRunShowsGivenJobsOfOtherRuns(t *testing.T) {
	t.Parallel()
	r := request(5, jobs.RequestRunning, waits("extract", "job-other"), requestedStep("model"))
	other := request(4, jobs.RequestRunning)
	extract := runningJob(other, "extract")
	extract.ID = "job-other"
	c := RunCheckRun(r, []jobs.Job{extract, waitingOnDeps(r, "model")}, now)
	rows := tableRows(t, c.Output.Text)
	if len(rows) != 2 || !strings.Contains(rows[0], "`executing` | 3m 05s so far") {
		t.Errorf("the waited-on job's row does not show its status:\n%s", c.Output.Text)
	}
	if c.Status != "queued" || c.Output.Title != "Queued: 1 job waiting on jobs of another run" {
		t.Errorf("another run's running job made this run %q, %q; want it queued", c.Status, c.Output.Title)
	}
}

func TestHostileNamesAreEscaped(t *testing.T) {
	t.Parallel()
	const hostile = "a|b<script>\n`x`"
	r := request(6, jobs.RequestFailed, jobs.PlanStep{
		Action: hostile, Requested: true, Decision: plan.Run, Reason: "requested | <img src=x>", JobID: "job-h",
	})
	r.Actions = []string{hostile}
	r.Backend = "tpp<b>"
	j := failed(r, hostile, jobs.NonzeroExit, "line one\nline two | <iframe> [x](javascript:y)")
	j.ID, j.Outputs = "job-h", &outputs.Report{Files: []outputs.FileReport{file("out/"+hostile+".csv", 10)}}
	code := 3
	j.ExitCode = &code
	c := RunCheckRun(r, []jobs.Job{j}, now)
	comment := StatusComment([]RequestJobs{{r, []jobs.Job{j}}}, nil, now)

	// The title is plain text: GitHub shows it as it is.
	for where, s := range map[string]string{"summary": c.Output.Summary, "text": c.Output.Text, "comment": comment} {
		for _, bad := range []string{"<script>", "<iframe>", "<img", "<b>", "](javascript"} {
			if unescaped(s, bad) {
				t.Errorf("%s has %q unescaped:\n%s", where, bad, s)
			}
		}
	}
	if strings.ContainsAny(c.Output.Title, "\n\r") {
		t.Errorf("title spans lines: %q", c.Output.Title)
	}
	if want := "Failed: a|b<script> `x` exited with code 3 (nonzero_exit)"; c.Output.Title != want {
		t.Errorf("title = %q, want %q (plain text: shown as is, on one line)", c.Output.Title, want)
	}
	rows := tableRows(t, c.Output.Text)
	if len(rows) != 1 {
		t.Fatalf("a newline in a name split the row: %d rows\n%s", len(rows), c.Output.Text)
	}
	if n := separators(rows[0]); n != 6 {
		t.Errorf("row has %d cell separators, want 6 (5 cells):\n%s", n, rows[0])
	}
	escaped := "a\\|b\\<script\\> \\`x\\`"
	for where, s := range map[string]string{"row": rows[0], "summary": c.Output.Summary, "comment": comment} {
		if !strings.Contains(s, escaped) {
			t.Errorf("%s does not show the name escaped as %s:\n%s", where, escaped, s)
		}
	}
	if !strings.Contains(rows[0], "line one line two \\| \\<iframe\\> \\[x\\](javascript:y)") {
		t.Errorf("row does not show the message escaped on one line:\n%s", rows[0])
	}
}

func TestOutputsFitGitHubLimits(t *testing.T) {
	t.Parallel()
	const n = 2000
	steps := make([]jobs.PlanStep, n)
	r := request(9, jobs.RequestFailed)
	js := make([]jobs.Job, n)
	for i := range steps {
		action := fmt.Sprintf("action_%04d_%s", i, strings.Repeat("é|", 40))
		steps[i] = requestedStep(action)
		js[i] = exited(r, action, 1)
		js[i].Message = strings.Repeat("<x>", 200)
		js[i].Outputs = &outputs.Report{Files: []outputs.FileReport{file("output/"+action+".csv", 100)}, HighlySensitiveCount: 3}
	}
	r.Plan, r.Actions = steps, make([]string, n)
	for i := range steps {
		r.Actions[i] = steps[i].Action
	}
	c := RunCheckRun(r, js, now)
	for where, s := range map[string]string{"title": c.Output.Title, "summary": c.Output.Summary, "text": c.Output.Text} {
		if len(s) > 65535 {
			t.Errorf("%s has %d bytes, over GitHub's 65,535", where, len(s))
		}
	}
	rows := tableRows(t, c.Output.Text)
	last := rows[len(rows)-1]
	var more int
	if _, err := fmt.Sscanf(last, "| … and %d more jobs |", &more); err != nil {
		t.Fatalf("the table does not end with how many jobs it left out: %q (%v)", last, err)
	}
	if shown := len(rows) - 1; shown+more != n || shown < 10 {
		t.Errorf("table shows %d rows and says %d more, want %d in all", shown, more, n)
	}
	if !strings.Contains(c.Output.Summary, "and 1970 more") {
		t.Errorf("summary does not cut the list of actions short:\n%.500s", c.Output.Summary)
	}

	runs := make([]RequestJobs, 12)
	for i := range runs {
		ri := r
		ri.Number, ri.ID = i+1, fmt.Sprintf("req%d", i+1)
		runs[i] = RequestJobs{ri, js}
	}
	if s := StatusComment(runs, nil, now); len(s) > 65536 {
		t.Errorf("status comment has %d bytes, over GitHub's 65,536", len(s))
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	cases := map[time.Duration]string{
		0:                                     "0ms",
		-time.Second:                          "0ms",
		850 * time.Millisecond:                "850ms",
		12 * time.Second:                      "12s",
		59*time.Second + 999*time.Millisecond: "59s",
		3*time.Minute + 5*time.Second:         "3m 05s",
		time.Hour + 2*time.Minute + 59*time.Second: "1h 02m",
		26 * time.Hour: "26h 00m",
	}
	for d, want := range cases {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestLongNamesAreShortenedInTitles(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("generate_dataset_", 10)
	r := request(1, jobs.RequestFailed, requestedStep(long))
	j := unmatched(r, long, "output/"+strings.Repeat("deep/", 20)+"model.csv", "output/b.csv")
	title := RunCheckRun(r, []jobs.Job{j}, now).Output.Title
	if n := len([]rune(title)); n > 80 {
		t.Errorf("title has %d characters, want at most 80: %q", n, title)
	}
	if !strings.HasPrefix(title, "Failed: generate_dataset_genera… did not write output/deep/deep/deep/d…") {
		t.Errorf("title = %q, want the action and the pattern shortened with …", title)
	}
}
