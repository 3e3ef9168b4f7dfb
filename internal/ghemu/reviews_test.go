package ghemu_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v88/github"
)

func TestReviewHelpers(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	repo.Commit("release-1", map[string]string{"releases/1/manifest.json": "{}"}, "manifest")
	n, manifest := repo.OpenPR("release-1", "main", "Release 1", "ana")
	before := len(rc.all())

	approved := repo.Review(n, "cat", "APPROVED", "")
	changes := repo.Review(n, "dan", "CHANGES_REQUESTED", "Round the counts")
	repo.DismissReview(n, changes, "ana")
	newer := repo.Push("release-1", map[string]string{"releases/1/manifest.json": `{"v":2}`})
	repo.Review(n, "dan", "COMMENTED", "Better")

	got := rc.all()[before:]
	var seen []string
	for _, r := range got {
		if ev, ok := r.event.(*github.PullRequestReviewEvent); ok {
			rv := ev.GetReview()
			seen = append(seen, ev.GetAction()+":"+rv.GetUser().GetLogin()+":"+rv.GetState()+":"+rv.GetCommitID()[:7])
			if ev.GetInstallation().GetID() != installationID || ev.GetPullRequest().GetNumber() != n {
				t.Errorf("event %+v", ev)
			}
		}
	}
	want := []string{
		"submitted:cat:approved:" + manifest[:7],
		"submitted:dan:changes_requested:" + manifest[:7],
		"dismissed:dan:dismissed:" + manifest[:7],
		"submitted:dan:commented:" + newer[:7],
	}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("review events\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
	if ev := got[2].event.(*github.PullRequestReviewEvent); ev.GetSender().GetLogin() != "ana" || ev.GetReview().GetID() != changes {
		t.Errorf("dismissed by %s, review %d", ev.GetSender().GetLogin(), ev.GetReview().GetID())
	}

	reviews, _, err := gh.PullRequests.ListReviews(t.Context(), "ana", "study", n, &github.ListOptions{PerPage: 2, Page: 1})
	if err != nil || len(reviews) != 2 {
		t.Fatalf("list: %v %v", reviews, err)
	}
	if r := reviews[0]; r.GetID() != approved || r.GetState() != "APPROVED" || r.GetCommitID() != manifest || r.GetUser().GetLogin() != "cat" || r.GetSubmittedAt().IsZero() {
		t.Errorf("first review %+v", r)
	}
	if r := reviews[1]; r.GetState() != "DISMISSED" || r.GetBody() != "Round the counts" {
		t.Errorf("second review %+v", r)
	}
	snap := repo.Reviews(n)
	if len(snap) != 3 || snap[2].State != "COMMENTED" || snap[2].CommitID != newer || snap[1].State != "DISMISSED" {
		t.Errorf("snapshot %+v", snap)
	}

	for name, misuse := range map[string]func(){
		"the author approving":           func() { repo.Review(n, "ana", "APPROVED", "") },
		"a bogus state":                  func() { repo.Review(n, "cat", "LGTM", "") },
		"changes requested without body": func() { repo.Review(n, "cat", "CHANGES_REQUESTED", "") },
		"dismissing a comment":           func() { repo.DismissReview(n, snap[2].ID, "ana") },
		"dismissing a missing review":    func() { repo.DismissReview(n, 1, "ana") },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "ghemu: ") {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			misuse()
		}()
	}
}

func TestRequestingReviewers(t *testing.T) {
	emu, repo, failures := startRecording(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := t.Context()
	emu.AddTeamMember("ana", "output-checkers", "cat")
	repo.SetPermission("dan", "read")
	emu.AddUser("eve")
	repo.Commit("release-1", map[string]string{"m": "1"}, "m")
	n, _ := repo.OpenPR("release-1", "main", "Release", "ben")
	before := len(rc.all())

	pr, resp, err := gh.PullRequests.RequestReviewers(ctx, "ana", "study", n, github.ReviewersRequest{
		Reviewers: []string{"cat", "dan"}, TeamReviewers: []string{"output-checkers"},
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("request: %v", err)
	}
	if len(pr.RequestedReviewers) != 2 || len(pr.RequestedTeams) != 1 || pr.RequestedTeams[0].GetSlug() != "output-checkers" {
		t.Errorf("requested %v %v", pr.RequestedReviewers, pr.RequestedTeams)
	}
	var seen []string
	for _, r := range rc.all()[before:] {
		ev := r.event.(*github.PullRequestEvent)
		seen = append(seen, ev.GetAction()+":"+ev.GetRequestedReviewer().GetLogin()+ev.GetRequestedTeam().GetSlug())
	}
	if got := strings.Join(seen, " "); got != "review_requested:cat review_requested:dan review_requested:output-checkers" {
		t.Errorf("events %s", got)
	}
	// Asking again changes nothing.
	before = len(rc.all())
	if _, _, err := gh.PullRequests.RequestReviewers(ctx, "ana", "study", n, github.ReviewersRequest{Reviewers: []string{"cat"}}); err != nil || len(rc.all()) != before {
		t.Errorf("asking again: %v, %d events", err, len(rc.all())-before)
	}

	repo.Review(n, "cat", "APPROVED", "")
	got, _, err := gh.PullRequests.ListReviewers(ctx, "ana", "study", n)
	if err != nil || len(got.Users) != 1 || got.Users[0].GetLogin() != "dan" || len(got.Teams) != 1 {
		t.Errorf("after cat's review: %+v %v", got, err)
	}
	if p, _ := repo.PullRequest(n); strings.Join(p.RequestedReviewers, ",") != "dan" || strings.Join(p.RequestedTeams, ",") != "output-checkers" {
		t.Errorf("snapshot %v %v", p.RequestedReviewers, p.RequestedTeams)
	}
	if len(failures.list()) > 0 {
		t.Fatalf("spec failures: %v", failures.list())
	}

	for name, req := range map[string]github.ReviewersRequest{
		"the author":            {Reviewers: []string{"ben"}},
		"not a collaborator":    {Reviewers: []string{"eve"}},
		"nobody by that login":  {Reviewers: []string{"zed"}},
		"a team that isn't one": {TeamReviewers: []string{"nope"}},
	} {
		if _, _, err := gh.PullRequests.RequestReviewers(ctx, "ana", "study", n, req); statusOf(err) != http.StatusUnprocessableEntity {
			t.Errorf("%s: %v, want 422", name, err)
		}
	}
}
