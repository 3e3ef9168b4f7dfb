package app

import (
	"context"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
)

// PullRequestHandler checks project.yaml whenever a pull request's head moves.
type PullRequestHandler struct {
	Checks PipelineChecker
}

func (h *PullRequestHandler) Handles() []string { return []string{"pull_request"} }

func (h *PullRequestHandler) Handle(ctx context.Context, d inbox.Delivery) error {
	ev, err := parsePayload(d)
	if err != nil {
		return err
	}
	e := ev.(*github.PullRequestEvent)
	switch e.GetAction() {
	case "opened", "synchronize", "reopened":
	default:
		return nil
	}
	repo, err := repoOf(e.GetInstallation(), e.GetRepo())
	if err != nil {
		return err
	}
	ctx = logging.Attrs(ctx, logging.KeyPR, e.GetNumber())
	return h.Checks.Check(ctx, checks.Request{Repo: repo, SHA: e.GetPullRequest().GetHead().GetSHA()})
}
