package app

import (
	"context"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/app/commands"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/markdown"
)

// PullRequestHandler checks project.yaml whenever a pull request's head
// moves, voids the approvals pending for the old head, and takes the trigger
// label as "/run all" by whoever added it.
type PullRequestHandler struct {
	Checks PipelineChecker
	// Runs, Replies and TriggerLabel are for runs; a nil Runs leaves them out.
	Runs         *Runs
	Releases     *Releases // a push to a release branch; nil leaves it out
	Replies      *Replies
	GitHub       RunGitHub
	TriggerLabel string
}

func (h *PullRequestHandler) Handles() []string { return []string{"pull_request"} }

func (h *PullRequestHandler) Handle(ctx context.Context, d inbox.Delivery) error {
	ev, err := parsePayload(d)
	if err != nil {
		return err
	}
	e := ev.(*github.PullRequestEvent)
	switch e.GetAction() {
	case "opened", "synchronize", "reopened", "labeled":
	default:
		return nil
	}
	repo, err := repoOf(e.GetInstallation(), e.GetRepo())
	if err != nil {
		return err
	}
	number, head := e.GetNumber(), e.GetPullRequest().GetHead().GetSHA()
	ctx = logging.Attrs(ctx, logging.KeyRepo, repo.FullName(), logging.KeyPR, number)
	if e.GetAction() == "labeled" {
		return h.labeled(ctx, d, e, repo)
	}
	if h.Runs != nil && e.GetAction() == "synchronize" {
		if err := h.Runs.ExpireHeld(ctx, repo, number, head); err != nil {
			return err
		}
	}
	if h.Releases != nil && e.GetAction() == "synchronize" {
		if err := h.Releases.Pushed(ctx, repo, number, head, e.GetSender().GetLogin()); err != nil {
			return err
		}
	}
	return h.Checks.Check(ctx, checks.Request{Repo: repo, SHA: head})
}

// labeled runs every action when the trigger label was added, then takes
// the label off so that adding it again asks again.
func (h *PullRequestHandler) labeled(ctx context.Context, d inbox.Delivery, e *github.PullRequestEvent, repo checks.Repo) error {
	if h.Runs == nil || h.TriggerLabel == "" || e.GetLabel().GetName() != h.TriggerLabel || isBot(e.GetSender()) {
		return nil
	}
	number, user := e.GetNumber(), e.GetSender().GetLogin()
	out, err := h.Runs.Start(ctx, RunAsk{Repo: repo, PR: number, Requester: user, Trigger: "label/" + d.GUID,
		Run: commands.Run{All: true}})
	if err != nil {
		return err
	}
	if out.Reply != "" {
		reply := "@" + user + " added the " + markdown.Code(h.TriggerLabel, valueShown) + " label, which means `/run all`. " + out.Reply
		if err := h.Replies.Post(ctx, repo, number, repo.FullName()+"/label/"+d.GUID, reply); err != nil {
			return err
		}
	}
	return h.GitHub.RemoveLabel(ctx, repo, number, h.TriggerLabel)
}
