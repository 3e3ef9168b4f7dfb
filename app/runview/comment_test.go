package runview

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
)

func details(r jobs.Request) string { return fmt.Sprintf("https://fivesafes.example/runs/%s", r.ID) }

func TestStatusComment(t *testing.T) {
	t.Parallel()
	done := request(1, jobs.RequestFailed, requestedStep("describe"), requestedStep("model"))
	live := request(2, jobs.RequestRunning, reused("generate", "job-old"), requestedStep("describe"), requestedStep("model"))
	held := request(3, jobs.RequestHeld)
	held.Requester, held.Actions = "eve", []string{"model"}
	runs := []RequestJobs{
		{done, []jobs.Job{succeeded(done, "describe", 12*time.Second), exited(done, "model", 2)}},
		{held, nil},
		{live, []jobs.Job{runningJob(live, "describe"), waitingOnDeps(live, "model")}},
	}
	got := StatusComment(runs, details, now)
	if !strings.HasPrefix(got, StatusMarker+"\n") {
		t.Errorf("comment does not start with the marker:\n%s", got)
	}
	want := strings.Join([]string{
		"- ✋ Run #3 · **Waiting for a maintainer to approve this run** · by @eve · `abc1234` · on tpp · [details](https://fivesafes.example/runs/req3)",
		"  - asked for **model**",
		"- ⏳ Run #2 · **Running**: 0 of 2 jobs done · by @ana · `abc1234` · on tpp · [details](https://fivesafes.example/runs/req2)",
		"  - describe — `executing` — 3m 05s so far",
		"  - model — `waiting_on_dependencies`",
		"  - 1 action reused from earlier runs",
		"- ❌ Run #1 · **Failed**: model exited with code 2 (nonzero_exit) · by @ana · `abc1234` · on tpp · [details](https://fivesafes.example/runs/req1)",
		"  - describe — `succeeded` — 12s",
		"  - model — `nonzero_exit` — 30s",
	}, "\n")
	if !strings.Contains(got, want) {
		t.Errorf("comment lacks the runs, newest first:\n%s\n\nwant:\n%s", got, want)
	}
	for _, hint := range []string{"`/run ACTION...`", "`/cancel`", "`/status`", "`/help`"} {
		if !strings.Contains(got[strings.LastIndex(got, "\n\n"):], hint) {
			t.Errorf("comment does not end with a hint naming %s:\n%s", hint, got)
		}
	}
}

func TestStatusCommentEmoji(t *testing.T) {
	t.Parallel()
	ok := request(1, jobs.RequestSucceeded, requestedStep("a"))
	cancelled := request(1, jobs.RequestFailed, requestedStep("a"))
	queued := request(1, jobs.RequestRunning, requestedStep("a"))
	cases := map[string]struct {
		rj   RequestJobs
		line string
	}{
		"succeeded": {RequestJobs{ok, []jobs.Job{succeeded(ok, "a", time.Second)}}, "- ✅ Run #1 · **Succeeded**: 1 job"},
		"cancelled": {RequestJobs{cancelled, []jobs.Job{failed(cancelled, "a", jobs.CancelledByUser, "cancelled by user")}}, "- 🚫 Run #1 · **Cancelled by a user** ·"},
		"queued":    {RequestJobs{queued, []jobs.Job{pending(queued, "a")}}, "- ⏳ Run #1 · **Queued**: 1 job waiting for the backend"},
		"stale":     {RequestJobs{request(1, jobs.RequestStale), nil}, "- ⚪ Run #1 · **Not run**: new commits were pushed before it was approved"},
		"withdrawn": {RequestJobs{request(1, jobs.RequestWithdrawn), nil}, "- ⚪ Run #1 · **Withdrawn before it was approved**"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := StatusComment([]RequestJobs{tc.rj}, nil, now); !strings.Contains(got, tc.line) {
				t.Errorf("comment lacks %q:\n%s", tc.line, got)
			}
		})
	}
}

func TestStatusCommentShowsTenNewestRuns(t *testing.T) {
	t.Parallel()
	var runs []RequestJobs
	for n := 1; n <= 13; n++ {
		r := request(n, jobs.RequestSucceeded, requestedStep("a"))
		runs = append(runs, RequestJobs{r, []jobs.Job{succeeded(r, "a", time.Second)}})
	}
	got := StatusComment(runs, details, now)
	last := -1
	for n := 13; n >= 4; n-- {
		i := strings.Index(got, fmt.Sprintf("Run #%d ·", n))
		if i < 0 || i < last {
			t.Fatalf("run #%d is missing or out of order (newest first):\n%s", n, got)
		}
		last = i
	}
	for n := 1; n <= 3; n++ {
		if strings.Contains(got, fmt.Sprintf("Run #%d ·", n)) {
			t.Errorf("run #%d is shown, want only the 10 newest:\n%s", n, got)
		}
	}
	if !strings.Contains(got, "_and 3 earlier runs_") {
		t.Errorf("comment does not count the earlier runs:\n%s", got)
	}
}

func TestStatusCommentWithoutRuns(t *testing.T) {
	t.Parallel()
	got := StatusComment(nil, details, now)
	if !strings.HasPrefix(got, StatusMarker) || !strings.Contains(got, "No runs yet. Comment `/run ACTION...`") {
		t.Errorf("empty comment does not say there are no runs and how to start one:\n%s", got)
	}
	if strings.Contains(got, "Run #") {
		t.Errorf("empty comment shows a run:\n%s", got)
	}
}

func TestStatusCommentLinksOnlyToWebURLs(t *testing.T) {
	t.Parallel()
	r := request(1, jobs.RequestHeld)
	cases := map[string]string{
		"https://x.example/runs/1":   "[details](https://x.example/runs/1)",
		"https://x.example/a (b)<c>": "[details](https://x.example/a%20%28b%29%3Cc%3E)",
		"javascript:alert(1)":        "",
		"":                           "",
	}
	for u, want := range cases {
		got := StatusComment([]RequestJobs{{r, nil}}, func(jobs.Request) string { return u }, now)
		if want == "" && strings.Contains(got, "[details]") || want != "" && !strings.Contains(got, want) {
			t.Errorf("details URL %q: want %q in\n%s", u, want, got)
		}
	}
}

// The status comment is an issue comment, where GitHub notifies whoever
// is mentioned: names from project.yaml mention nobody.
func TestStatusCommentMentionsNobodyByName(t *testing.T) {
	t.Parallel()
	r := request(1, jobs.RequestRunning, requestedStep("@octo-org/everyone"))
	held := request(2, jobs.RequestHeld)
	held.Actions = []string{"@mia"}
	got := StatusComment([]RequestJobs{{r, []jobs.Job{pending(r, "@octo-org/everyone")}}, {held, nil}}, details, now)
	for _, mention := range []string{"@octo-org/everyone", "@mia"} {
		if strings.Contains(got, mention) {
			t.Errorf("the comment mentions %s:\n%s", mention, got)
		}
	}
	if !strings.Contains(got, "@ana") {
		t.Errorf("the requester is no longer named:\n%s", got)
	}
}
