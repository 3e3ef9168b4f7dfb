package ghemu_test

import (
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
