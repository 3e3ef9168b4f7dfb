package ghemu_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

func TestPullRequestDetailsForRequirements(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	ctx := t.Context()
	repo.SetPermission("wes", "write")
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	n, _ := repo.OpenPR("feature", "main", "Study", "wes")
	fork := repo.Fork("mallory")
	fork.Commit("evil", map[string]string{"a": "2"}, "evil")
	forked, _ := repo.OpenPR("mallory:evil", "main", "Innocent", "mallory")

	get := func(n int) *github.PullRequest {
		t.Helper()
		pr, _, err := gh.PullRequests.Get(ctx, "ana", "study", n)
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	pr := get(n)
	if !pr.GetMergeable() || pr.Mergeable == nil || pr.GetMergeableState() != "clean" || pr.GetUser().GetLogin() != "wes" ||
		pr.GetHead().GetRepo().GetFullName() != "ana/study" || pr.GetAuthorAssociation() != "COLLABORATOR" {
		t.Errorf("a fresh PR: mergeable %v (%s), user %s, head repo %s, association %s", pr.Mergeable, pr.GetMergeableState(),
			pr.GetUser().GetLogin(), pr.GetHead().GetRepo().GetFullName(), pr.GetAuthorAssociation())
	}
	if pr := get(forked); pr.GetHead().GetRepo().GetFullName() != "mallory/study" || !pr.GetHead().GetRepo().GetFork() ||
		pr.GetAuthorAssociation() != "NONE" {
		t.Errorf("fork PR: head repo %s", pr.GetHead().GetRepo().GetFullName())
	}

	repo.SetMergeable(n, false)
	if pr := get(n); pr.Mergeable == nil || pr.GetMergeable() || pr.GetMergeableState() != "dirty" {
		t.Errorf("a conflict: mergeable %v (%s)", pr.Mergeable, pr.GetMergeableState())
	}
	repo.SetMergeable(n, true)
	repo.MergeableUnknown(n, 2)
	for i := range 2 {
		if pr := get(n); pr.Mergeable != nil || pr.GetMergeableState() != "unknown" {
			t.Errorf("answer %d while computing: mergeable %v", i, *pr.Mergeable)
		}
	}
	if pr := get(n); !pr.GetMergeable() {
		t.Errorf("once computed: mergeable %v", pr.Mergeable)
	}
	if p, _ := repo.PullRequest(n); p.Mergeable == nil || !*p.Mergeable {
		t.Errorf("snapshot %+v", p)
	}
}

func TestTheAppOpensAPullRequest(t *testing.T) {
	emu, repo, failures := startRecording(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := t.Context()
	repo.Commit("release-1", map[string]string{"releases/1/manifest.json": "{}"}, "manifest")
	before := len(rc.all())

	pr, resp, err := gh.PullRequests.Create(ctx, "ana", "study", &github.NewPullRequest{
		Title: github.Ptr("Release 1"), Head: github.Ptr("release-1"), Base: github.Ptr("main"), Body: github.Ptr("Manifest"),
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v", err)
	}
	if pr.GetUser().GetLogin() != ghemu.AppLogin || pr.GetUser().GetType() != "Bot" || pr.GetHead().GetRef() != "release-1" ||
		pr.GetBody() != "Manifest" || pr.GetState() != "open" || resp.Header.Get("Location") != pr.GetURL() {
		t.Errorf("created %+v", pr)
	}
	got := rc.all()[before:]
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	if ev := got[0].event.(*github.PullRequestEvent); ev.GetAction() != "opened" || ev.GetSender().GetLogin() != ghemu.AppLogin || ev.GetNumber() != pr.GetNumber() {
		t.Errorf("opened %+v", ev)
	}
	if len(failures.list()) > 0 {
		t.Fatalf("spec failures: %v", failures.list())
	}

	// Idempotency: the bot looks for its pull request before opening one.
	list, _, err := gh.PullRequests.List(ctx, "ana", "study", &github.PullRequestListOptions{Head: "ana:release-1", State: "open"})
	if err != nil || len(list) != 1 || list[0].GetNumber() != pr.GetNumber() {
		t.Errorf("list by head: %v %v", list, err)
	}
	if list, _, _ := gh.PullRequests.List(ctx, "ana", "study", &github.PullRequestListOptions{Head: "ana:other"}); len(list) != 0 {
		t.Errorf("list by another head: %d", len(list))
	}
	if list, _, _ := gh.PullRequests.List(ctx, "ana", "study", &github.PullRequestListOptions{State: "closed"}); len(list) != 0 {
		t.Errorf("closed: %d", len(list))
	}

	for name, tc := range map[string]struct {
		pull    github.NewPullRequest
		message string
	}{
		"a second PR for the same head": {github.NewPullRequest{Title: github.Ptr("again"), Head: github.Ptr("release-1"), Base: github.Ptr("main")}, "already exists"},
		"a missing head branch":         {github.NewPullRequest{Title: github.Ptr("x"), Head: github.Ptr("nope"), Base: github.Ptr("main")}, "head"},
		"a missing base branch":         {github.NewPullRequest{Title: github.Ptr("x"), Head: github.Ptr("release-1"), Base: github.Ptr("nope")}, "base"},
		"no title":                      {github.NewPullRequest{Head: github.Ptr("release-1"), Base: github.Ptr("main")}, "title"},
		"nothing to merge":              {github.NewPullRequest{Title: github.Ptr("x"), Head: github.Ptr("main"), Base: github.Ptr("release-1")}, "No commits"},
	} {
		_, _, err := gh.PullRequests.Create(ctx, "ana", "study", &tc.pull)
		if statusOf(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: %v, want 422 mentioning %q", name, err, tc.message)
		}
	}
}

func TestTheAppClosesAndReopensAPullRequest(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := t.Context()
	repo.Commit("fivesafes/release-1", map[string]string{"releases/1/manifest.json": "{}"}, "manifest")
	n, _ := repo.OpenPR("fivesafes/release-1", "main", "Release 1", "ana")
	before := len(rc.all())

	closed, resp, err := gh.PullRequests.Edit(ctx, "ana", "study", n, &github.PullRequest{State: github.Ptr("closed")})
	if err != nil || resp.StatusCode != http.StatusOK || closed.GetState() != "closed" || closed.ClosedAt == nil {
		t.Fatalf("close: %+v %v", closed, err)
	}
	if p, _ := repo.PullRequest(n); p.State != "closed" {
		t.Errorf("state after closing: %s", p.State)
	}
	if _, _, err := gh.PullRequests.Edit(ctx, "ana", "study", n, &github.PullRequest{State: github.Ptr("closed")}); err != nil {
		t.Errorf("closing a closed pull request: %v, want 200", err)
	}
	got := rc.all()[before:]
	if len(got) != 1 {
		t.Fatalf("%d events, want one pull_request closed (closing again changes nothing)", len(got))
	}
	if ev := got[0].event.(*github.PullRequestEvent); ev.GetAction() != "closed" || ev.GetSender().GetLogin() != ghemu.AppLogin ||
		ev.GetNumber() != n || ev.GetPullRequest().GetState() != "closed" {
		t.Errorf("closed %+v", ev)
	}

	// Another pull request from the same branch blocks reopening, as on GitHub.
	other, _, err := gh.PullRequests.Create(ctx, "ana", "study", &github.NewPullRequest{
		Title: github.Ptr("Release 1, again"), Head: github.Ptr("fivesafes/release-1"), Base: github.Ptr("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.PullRequests.Edit(ctx, "ana", "study", n, &github.PullRequest{State: github.Ptr("open")}); statusOf(err) != http.StatusUnprocessableEntity ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("reopening beside an open twin: %v, want 422", err)
	}
	if _, _, err := gh.PullRequests.Edit(ctx, "ana", "study", other.GetNumber(), &github.PullRequest{State: github.Ptr("closed")}); err != nil {
		t.Fatal(err)
	}
	before = len(rc.all())
	reopened, _, err := gh.PullRequests.Edit(ctx, "ana", "study", n, &github.PullRequest{
		State: github.Ptr("open"), Title: github.Ptr("Release 1 (revised)"),
	})
	if err != nil || reopened.GetState() != "open" || reopened.ClosedAt != nil || reopened.GetTitle() != "Release 1 (revised)" {
		t.Fatalf("reopen: %+v %v", reopened, err)
	}
	got = rc.all()[before:]
	if len(got) != 2 {
		t.Fatalf("%d events, want edited then reopened", len(got))
	}
	if ev := got[0].event.(*github.PullRequestEvent); ev.GetAction() != "edited" || ev.GetChanges().GetTitle().GetFrom() != "Release 1" {
		t.Errorf("edited %+v", ev)
	}
	if ev := got[1].event.(*github.PullRequestEvent); ev.GetAction() != "reopened" {
		t.Errorf("reopened %+v", ev)
	}
	if _, _, err := gh.PullRequests.Edit(ctx, "ana", "study", 999, &github.PullRequest{State: github.Ptr("closed")}); statusOf(err) != http.StatusNotFound {
		t.Errorf("a missing pull request: %v, want 404", err)
	}
}

func TestUpdatingAPullRequestGitHubWouldRejectOrTheEmulatorDoesNotModel(t *testing.T) {
	emu, repo, failures := startRecording(t)
	gh := client(t, emu)
	ctx := t.Context()
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	n, _ := repo.OpenPR("feature", "main", "Study", "ana")
	for name, tc := range map[string]struct {
		body    any
		message string
	}{
		"a state GitHub does not have": {map[string]any{"state": "merged"}, "state"},
		"another base (not modelled)":  {map[string]any{"base": "feature"}, "does not support"},
	} {
		before := len(failures.list())
		req, err := gh.NewRequest(ctx, "PATCH", fmt.Sprintf("repos/ana/study/pulls/%d", n), tc.body)
		if err != nil {
			t.Fatal(err)
		}
		if resp, _ := gh.Do(req, nil); resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: got %v, want 422", name, resp)
		}
		if f := failures.list()[before:]; len(f) != 1 || !strings.Contains(f[0].Error(), tc.message) {
			t.Errorf("%s: spec failures %v, want one mentioning %q", name, f, tc.message)
		}
	}
	if p, _ := repo.PullRequest(n); p.State != "open" || p.BaseRef != "main" {
		t.Errorf("a refused update changed the pull request: %+v", p)
	}
}
