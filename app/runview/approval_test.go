package runview

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

func heldRequest() jobs.Request {
	r := request(8, jobs.RequestHeld)
	r.Requester, r.Actions, r.Force = "eve", []string{"describe", "model"}, true
	return r
}

func TestApprovalCheckRun(t *testing.T) {
	t.Parallel()
	c := ApprovalCheckRun(heldRequest(), "@eve has read permission on this repository; runs need write")
	if c.Status != "completed" || c.Conclusion != "action_required" {
		t.Errorf("status, conclusion = %q, %q; want completed, action_required", c.Status, c.Conclusion)
	}
	if c.Output.Title != "Waiting for a maintainer to approve this run" {
		t.Errorf("title = %q", c.Output.Title)
	}
	want := []checks.CheckRunAction{{Label: "Approve run", Description: "Run these actions on tpp", Identifier: ApproveAction}}
	if len(c.Actions) != 1 || c.Actions[0] != want[0] {
		t.Errorf("actions = %+v, want %+v", c.Actions, want)
	}
	for _, s := range []string{
		"Run #8: @eve asked to run **describe** and **model** on **tpp** at commit `abc1234`, with `--force-run-dependencies`",
		"**Why it is held:** @eve has read permission on this repository; runs need write.",
		"**Approve run** button",
		"for commit `abc1234` only",
	} {
		if !strings.Contains(c.Output.Summary, s) {
			t.Errorf("summary lacks %q:\n%s", s, c.Output.Summary)
		}
	}
}

func TestApproveButtonFitsGitHubLimits(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"tpp", "a-very-long-backend-name-indeed", strings.Repeat("é", 30), "emis\n<b>"} {
		r := heldRequest()
		r.Backend = backend
		b := ApprovalCheckRun(r, "held").Actions[0]
		for field, tc := range map[string]struct {
			s     string
			limit int
		}{"label": {b.Label, 20}, "description": {b.Description, 40}, "identifier": {b.Identifier, 20}} {
			if len(tc.s) > tc.limit || !utf8.ValidString(tc.s) || tc.s == "" {
				t.Errorf("backend %q: %s %q is %d bytes, want 1 to %d of valid UTF-8", backend, field, tc.s, len(tc.s), tc.limit)
			}
		}
		if strings.ContainsAny(b.Description, "\n") || !strings.HasPrefix(b.Description, "Run these actions on ") {
			t.Errorf("backend %q: description %q", backend, b.Description)
		}
	}
}

func TestClosedApprovalCheckRun(t *testing.T) {
	t.Parallel()
	approved := heldRequest()
	approved.Status, approved.ApprovedBy = jobs.RequestRunning, "mia"
	stale, withdrawn := heldRequest(), heldRequest()
	stale.Status, withdrawn.Status = jobs.RequestStale, jobs.RequestWithdrawn
	cases := map[string]struct {
		r          jobs.Request
		conclusion string
		title      string
		says       string
	}{
		"approved": {approved, "neutral", "Approved by @mia: running as a new check run",
			"was approved by @mia. It runs as the check run **fivesafes / run #8 (tpp)**"},
		"stale": {stale, "skipped", "Not run: new commits were pushed before it was approved",
			"an approval is for one commit only. Nothing ran."},
		"withdrawn": {withdrawn, "cancelled", "Withdrawn before it was approved", "was withdrawn with `/cancel`"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := ClosedApprovalCheckRun(tc.r)
			if c.Status != "completed" || c.Conclusion != tc.conclusion {
				t.Errorf("status, conclusion = %q, %q; want completed, %q", c.Status, c.Conclusion, tc.conclusion)
			}
			if c.Output.Title != tc.title {
				t.Errorf("title = %q, want %q", c.Output.Title, tc.title)
			}
			if c.Actions == nil || len(c.Actions) != 0 {
				t.Errorf("actions = %#v, want an empty slice: the button must go", c.Actions)
			}
			if !strings.Contains(c.Output.Summary, tc.says) || !strings.Contains(c.Output.Summary, "Run #8 of **describe** and **model**") {
				t.Errorf("summary lacks %q:\n%s", tc.says, c.Output.Summary)
			}
		})
	}
}
