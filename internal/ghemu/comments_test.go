package ghemu_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

func TestCommentHelpersSendIssueCommentEvents(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	repo.Commit("feature", map[string]string{"project.yaml": "x"}, "x")
	pr, _ := repo.OpenPR("feature", "main", "Study", "ana")
	issue := repo.OpenIssue("A question", "ben")
	before := len(rc.all())

	onPR := repo.Comment(pr, "ben", "/run all")
	onIssue := repo.Comment(issue, "ben", "/run all")
	fromBot := repo.BotComment(pr, "dependabot", "/run all")
	repo.EditComment(onPR, "ana", "/run analyse")
	repo.DeleteComment(onIssue, "ben")

	got := rc.all()[before:]
	if len(got) != 5 {
		t.Fatalf("%d events, want 5", len(got))
	}
	ev := func(i int) *github.IssueCommentEvent {
		e, ok := got[i].event.(*github.IssueCommentEvent)
		if !ok {
			t.Fatalf("event %d is %T", i, got[i].event)
		}
		return e
	}
	created := ev(0)
	if created.GetAction() != "created" || created.GetInstallation().GetID() != installationID ||
		created.GetIssue().GetNumber() != pr || !created.GetIssue().IsPullRequest() ||
		created.GetComment().GetID() != onPR || created.GetComment().GetBody() != "/run all" ||
		created.GetComment().GetUser().GetLogin() != "ben" || created.GetComment().GetUser().GetType() != "User" ||
		created.GetSender().GetLogin() != "ben" || created.GetRepo().GetFullName() != "ana/study" ||
		created.GetComment().GetAuthorAssociation() != "NONE" || created.GetIssue().GetAuthorAssociation() != "OWNER" {
		t.Errorf("created on the PR: %+v", created)
	}
	if e := ev(1); e.GetIssue().IsPullRequest() || e.GetIssue().GetNumber() != issue || e.GetComment().GetID() != onIssue {
		t.Errorf("created on the issue: pull_request %v, number %d", e.GetIssue().GetPullRequestLinks(), e.GetIssue().GetNumber())
	}
	if e := ev(2); e.GetComment().GetUser().GetType() != "Bot" || e.GetSender().GetType() != "Bot" || e.GetComment().GetID() != fromBot {
		t.Errorf("a bot's comment: user %+v", e.GetComment().GetUser())
	}
	if e := ev(3); e.GetAction() != "edited" || e.GetChanges().GetBody().GetFrom() != "/run all" ||
		e.GetComment().GetBody() != "/run analyse" || e.GetSender().GetLogin() != "ana" || e.GetComment().GetUser().GetLogin() != "ben" {
		t.Errorf("edited: %+v", e)
	}
	if e := ev(4); e.GetAction() != "deleted" || e.GetComment().GetID() != onIssue {
		t.Errorf("deleted: %+v", e)
	}

	comments := repo.Comments(pr)
	if len(comments) != 2 || comments[0].ID != onPR || comments[0].Body != "/run analyse" || comments[0].Edits != 1 ||
		comments[1].User != "dependabot[bot]" || comments[0].Number != pr {
		t.Errorf("comments on the PR: %+v", comments)
	}
	if c := repo.Comments(issue); len(c) != 0 {
		t.Errorf("the deleted comment is still there: %+v", c)
	}
}

func TestCommentsThroughTheAPI(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := t.Context()
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	pr, _ := repo.OpenPR("feature", "main", "Study", "ana")
	first := repo.Comment(pr, "ana", "/run all")
	before := len(rc.all())

	c, resp, err := gh.Issues.CreateComment(ctx, "ana", "study", pr, &github.IssueComment{Body: github.Ptr("Working on it")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != c.GetURL() || c.GetID() <= 1<<31 ||
		c.GetUser().GetLogin() != ghemu.AppLogin || c.GetUser().GetType() != "Bot" ||
		!strings.HasSuffix(c.GetHTMLURL(), "/pull/1#issuecomment-"+itoa(c.GetID())) {
		t.Fatalf("created %d: %+v", resp.StatusCode, c)
	}
	// The app's own comment comes back as a webhook, as on GitHub.
	got := rc.all()[before:]
	if len(got) != 1 {
		t.Fatalf("%d events after the app commented", len(got))
	}
	if ev := got[0].event.(*github.IssueCommentEvent); ev.GetSender().GetLogin() != ghemu.AppLogin || ev.GetComment().GetID() != c.GetID() {
		t.Errorf("event %+v", ev)
	}
	var payload struct {
		Comment struct {
			PerformedViaGithubApp struct{ ID int64 } `json:"performed_via_github_app"`
		}
	}
	ds := emu.Deliveries()
	if err := json.Unmarshal(ds[len(ds)-1].Body, &payload); err != nil || payload.Comment.PerformedViaGithubApp.ID != emu.AppID() {
		t.Errorf("performed_via_github_app %+v %v", payload, err)
	}

	// The sticky status comment: edited in place.
	edited, _, err := gh.Issues.EditComment(ctx, "ana", "study", c.GetID(), &github.IssueComment{Body: github.Ptr("Done")})
	if err != nil || edited.GetBody() != "Done" || edited.GetID() != c.GetID() {
		t.Fatalf("edit: %+v %v", edited, err)
	}
	if ev := rc.all()[before+1].event.(*github.IssueCommentEvent); ev.GetAction() != "edited" || ev.GetChanges().GetBody().GetFrom() != "Working on it" {
		t.Errorf("edited event %+v", ev)
	}
	if _, _, err := gh.Issues.EditComment(ctx, "ana", "study", c.GetID(), &github.IssueComment{Body: github.Ptr("Done")}); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.all()) - before; n != 2 {
		t.Errorf("an edit that changes nothing sent an event (%d events)", n)
	}
	one, _, err := gh.Issues.GetComment(ctx, "ana", "study", first)
	if err != nil || one.GetBody() != "/run all" || one.GetUser().GetLogin() != "ana" || one.GetAuthorAssociation() != "OWNER" {
		t.Errorf("get: %+v %v", one, err)
	}

	for i := range 3 {
		repo.Comment(pr, "ben", "more "+itoa(int64(i)))
	}
	var bodies []string
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 2}}
	for {
		page, resp, err := gh.Issues.ListComments(ctx, "ana", "study", pr, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			bodies = append(bodies, c.GetBody())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if got := strings.Join(bodies, "|"); got != "/run all|Done|more 0|more 1|more 2" {
		t.Errorf("listed %s", got)
	}
	future := time.Now().Add(time.Hour)
	if page, _, err := gh.Issues.ListComments(ctx, "ana", "study", pr, &github.IssueListCommentsOptions{Since: &future}); err != nil || len(page) != 0 {
		t.Errorf("since an hour from now: %d comments, %v", len(page), err)
	}

	resp, err = gh.Issues.DeleteComment(ctx, "ana", "study", c.GetID())
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := gh.Issues.GetComment(ctx, "ana", "study", c.GetID()); statusOf(err) != http.StatusNotFound {
		t.Errorf("deleted comment: %v, want 404", err)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "ana", "study", 99, &github.IssueComment{Body: github.Ptr("x")}); statusOf(err) != http.StatusNotFound {
		t.Errorf("comment on a missing issue: %v, want 404", err)
	}
	other := emu.CreateRepo("ben", "other")
	other.Commit("f", map[string]string{"x": "y"}, "x")
	otherPR, _ := other.OpenPR("f", "main", "t", "ben")
	foreign := other.Comment(otherPR, "ben", "hi")
	if _, _, err := gh.Issues.GetComment(ctx, "ana", "study", foreign); statusOf(err) != http.StatusNotFound {
		t.Errorf("another repository's comment through this one: %v, want 404", err)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "ben", "other", otherPR, &github.IssueComment{Body: github.Ptr("x")}); statusOf(err) != http.StatusForbidden {
		t.Errorf("comment where the app is not installed: %v, want 403", err)
	}
}

func TestBadCommentsAreSpecFailures(t *testing.T) {
	emu, repo, failures := startRecording(t)
	gh := client(t, emu)
	n := repo.OpenIssue("q", "ana")
	cases := map[string]struct {
		body    any
		message string
	}{
		"no body":          {body: map[string]any{"text": "hello"}, message: "body"},
		"a blank body":     {body: map[string]any{"body": ""}, message: "blank"},
		"a body too long":  {body: map[string]any{"body": strings.Repeat("x", 65537)}, message: "too long"},
		"a number as body": {body: map[string]any{"body": 42}, message: "body"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(failures.list())
			req, err := gh.NewRequest(t.Context(), "POST", "repos/ana/study/issues/"+itoa(int64(n))+"/comments", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			resp, _ := gh.Do(req, nil)
			if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %v, want 422", resp)
			}
			if f := failures.list()[before:]; len(f) != 1 || !strings.Contains(f[0].Error(), tc.message) {
				t.Errorf("spec failures %v, want one mentioning %q", f, tc.message)
			}
		})
	}
	if c := repo.Comments(n); len(c) != 0 {
		t.Errorf("refused requests made comments: %+v", c)
	}
}

func TestReactions(t *testing.T) {
	emu, repo, failures := startRecording(t)
	gh := client(t, emu)
	ctx := t.Context()
	n := repo.OpenIssue("q", "ana")
	id := repo.Comment(n, "ana", "/run all")
	repo.React(id, "ben", "heart")

	eyes, resp, err := gh.Reactions.CreateIssueCommentReaction(ctx, "ana", "study", id, "eyes")
	if err != nil || resp.StatusCode != http.StatusCreated || eyes.GetContent() != "eyes" || eyes.GetUser().GetLogin() != ghemu.AppLogin {
		t.Fatalf("first eyes: %d %+v %v", resp.StatusCode, eyes, err)
	}
	again, resp, err := gh.Reactions.CreateIssueCommentReaction(ctx, "ana", "study", id, "eyes")
	if err != nil || resp.StatusCode != http.StatusOK || again.GetID() != eyes.GetID() {
		t.Errorf("the same reaction again: %d %+v %v, want 200 and the same reaction", resp.StatusCode, again, err)
	}
	confused, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, "ana", "study", id, "confused")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(repo.Reactions(id), ","); got != "heart,eyes,confused" {
		t.Errorf("reactions %s", got)
	}
	list, _, err := gh.Reactions.ListIssueCommentReactions(ctx, "ana", "study", id, &github.ListReactionOptions{Content: "eyes"})
	if err != nil || len(list) != 1 || list[0].GetID() != eyes.GetID() {
		t.Errorf("eyes only: %+v %v", list, err)
	}
	comment, _, err := gh.Issues.GetComment(ctx, "ana", "study", id)
	if err != nil || comment.GetReactions().GetTotalCount() != 3 || comment.GetReactions().GetConfused() != 1 {
		t.Errorf("rollup %+v %v", comment.GetReactions(), err)
	}
	if _, err := gh.Reactions.DeleteIssueCommentReaction(ctx, "ana", "study", id, eyes.GetID()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(repo.Reactions(id), ","); got != "heart,confused" {
		t.Errorf("after deleting eyes: %s", got)
	}
	if len(failures.list()) > 0 {
		t.Fatalf("spec failures for valid requests: %v", failures.list())
	}

	_, resp, _ = gh.Reactions.CreateIssueCommentReaction(ctx, "ana", "study", id, "thumbs")
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("content thumbs: %v, want 422", resp)
	}
	if f := failures.list(); len(f) != 1 || !strings.Contains(f[0].Error(), "content") {
		t.Errorf("spec failures %v, want one about content", f)
	}
	if got := len(repo.Reactions(id)); got != 2 || confused.GetContent() != "confused" {
		t.Errorf("a refused reaction was recorded: %d reactions", got)
	}
	if _, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, "ana", "study", 12345, "eyes"); statusOf(err) != http.StatusNotFound {
		t.Errorf("reaction to a missing comment: %v, want 404", err)
	}
}
