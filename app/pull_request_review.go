package app

import (
	"context"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/release"
)

// PullRequestReviewHandler weighs the reviews of release pull requests
// whenever one is submitted, edited or dismissed. Reviews of other pull
// requests are not this bot's business.
type PullRequestReviewHandler struct {
	Releases *Releases
}

func (h *PullRequestReviewHandler) Handles() []string { return []string{"pull_request_review"} }

func (h *PullRequestReviewHandler) Handle(ctx context.Context, d inbox.Delivery) error {
	ev, err := parsePayload(d)
	if err != nil {
		return err
	}
	e := ev.(*github.PullRequestReviewEvent)
	switch e.GetAction() {
	case "submitted", "edited", "dismissed":
	default:
		return nil
	}
	repo, err := repoOf(e.GetInstallation(), e.GetRepo())
	if err != nil {
		return err
	}
	number := e.GetPullRequest().GetNumber()
	rv := e.GetReview()
	ctx = logging.Attrs(ctx, logging.KeyRepo, repo.FullName(), logging.KeyPR, number, "reviewer", rv.GetUser().GetLogin())
	return h.Releases.Reviewed(ctx, repo, number, release.ReviewEvent{
		Reviewer: rv.GetUser().GetLogin(), State: strings.ToUpper(rv.GetState()), CommitID: rv.GetCommitID()})
}
