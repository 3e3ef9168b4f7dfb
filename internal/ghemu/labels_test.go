package ghemu_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

func TestLabelHelpersChangeThePullRequest(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	n, _ := repo.OpenPR("feature", "main", "t", "ben")
	repo.LabelPR(n, "fivesafes:run-all", "ana")
	repo.LabelPR(n, "fivesafes:run-all", "ana") // already there: nothing happens
	repo.LabelPR(n, "wip", "ben")
	repo.UnlabelPR(n, "wip", "ben")
	repo.UnlabelPR(n, "wip", "ben") // not there any more: nothing happens

	if got := strings.Join(repo.Labels(n), ","); got != "fivesafes:run-all" {
		t.Errorf("labels %s", got)
	}
	var actions []string
	for _, r := range rc.all()[1:] {
		ev := r.event.(*github.PullRequestEvent)
		actions = append(actions, ev.GetAction()+":"+ev.GetLabel().GetName()+":"+ev.GetSender().GetLogin())
	}
	if got := strings.Join(actions, " "); got != "labeled:fivesafes:run-all:ana labeled:wip:ben unlabeled:wip:ben" {
		t.Errorf("events %s", got)
	}
	pr, _, err := gh.PullRequests.Get(t.Context(), "ana", "study", n)
	if err != nil || len(pr.Labels) != 1 || pr.Labels[0].GetName() != "fivesafes:run-all" {
		t.Errorf("GET pull: labels %v, %v", pr.Labels, err)
	}
}

func TestLabelsThroughTheAPI(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := t.Context()
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	n, _ := repo.OpenPR("feature", "main", "t", "ben")
	repo.LabelPR(n, "fivesafes:run-all", "ana")
	before := len(rc.all())

	labels, _, err := gh.Issues.ListLabelsByIssue(ctx, "ana", "study", n, nil)
	if err != nil || len(labels) != 1 || labels[0].GetName() != "fivesafes:run-all" {
		t.Fatalf("list: %v %v", labels, err)
	}
	// The bot takes the request and removes the trigger label.
	resp, err := gh.Issues.RemoveLabelForIssue(ctx, "ana", "study", n, "fivesafes:run-all")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("remove: %v", err)
	}
	if _, err := gh.Issues.RemoveLabelForIssue(ctx, "ana", "study", n, "fivesafes:run-all"); statusOf(err) != http.StatusNotFound {
		t.Errorf("removing a label that is not there: %v, want 404", err)
	}
	added, _, err := gh.Issues.AddLabelsToIssue(ctx, "ana", "study", n, []string{"fivesafes:running", "fivesafes:running", "x"})
	if err != nil || len(added) != 2 {
		t.Fatalf("add: %v %v", added, err)
	}
	// The {"labels": [...]} form works too.
	req, _ := gh.NewRequest(ctx, "POST", "repos/ana/study/issues/1/labels", map[string]any{"labels": []any{"y", map[string]string{"name": "z"}}})
	if _, err := gh.Do(req, nil); err != nil {
		t.Fatalf("add with the object form: %v", err)
	}
	if got := strings.Join(repo.Labels(n), ","); got != "fivesafes:running,x,y,z" {
		t.Errorf("labels %s", got)
	}
	var actions []string
	for _, r := range rc.all()[before:] {
		ev := r.event.(*github.PullRequestEvent)
		if ev.GetSender().GetLogin() != ghemu.AppLogin || ev.GetInstallation().GetID() != installationID {
			t.Errorf("sender %s", ev.GetSender().GetLogin())
		}
		actions = append(actions, ev.GetAction()+":"+ev.GetLabel().GetName())
	}
	if got := strings.Join(actions, " "); got != "unlabeled:fivesafes:run-all labeled:fivesafes:running labeled:x labeled:y labeled:z" {
		t.Errorf("events %s", got)
	}

	// Labels of a plain issue: no event the app subscribes to.
	issue := repo.OpenIssue("q", "ben")
	before = len(emu.Deliveries())
	if _, _, err := gh.Issues.AddLabelsToIssue(ctx, "ana", "study", issue, []string{"question"}); err != nil {
		t.Fatal(err)
	}
	if got := repo.Labels(issue); len(got) != 1 || len(emu.Deliveries()) != before {
		t.Errorf("issue labels %v, %d deliveries", got, len(emu.Deliveries())-before)
	}
	if _, _, err := gh.Issues.ListLabelsByIssue(ctx, "ana", "study", 99, nil); statusOf(err) != http.StatusNotFound {
		t.Errorf("labels of a missing issue: %v", err)
	}
}
