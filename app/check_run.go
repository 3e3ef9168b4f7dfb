package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/app/runview"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
)

// CheckRunHandler re-runs the project.yaml check when a user clicks
// "Re-run" on it, and takes a click on "Approve run" of a held run as that
// user's approval. Other check runs' events are not ours to act on.
type CheckRunHandler struct {
	Checks PipelineChecker
	// Runs and Replies are for approvals; a nil Runs leaves them out.
	Runs    *Runs
	Replies *Replies
}

func (h *CheckRunHandler) Handles() []string { return []string{"check_run"} }

func (h *CheckRunHandler) Handle(ctx context.Context, d inbox.Delivery) error {
	ev, err := parsePayload(d)
	if err != nil {
		return err
	}
	e := ev.(*github.CheckRunEvent)
	repo, err := repoOf(e.GetInstallation(), e.GetRepo())
	if err != nil {
		return err
	}
	switch {
	case e.GetAction() == "rerequested" && e.GetCheckRun().GetName() == checks.CheckName:
		return h.Checks.Check(ctx, checks.Request{Repo: repo, SHA: e.GetCheckRun().GetHeadSHA(), Attempt: d.GUID})
	case e.GetAction() == "requested_action" && e.GetRequestedAction().Identifier == runview.ApproveAction && h.Runs != nil:
		return h.approve(ctx, d, e, repo)
	}
	return nil
}

func (h *CheckRunHandler) approve(ctx context.Context, d inbox.Delivery, e *github.CheckRunEvent, repo checks.Repo) error {
	id, ok := strings.CutSuffix(e.GetCheckRun().GetExternalID(), approvalSuffix)
	if !ok || isBot(e.GetSender()) {
		return nil
	}
	user := e.GetSender().GetLogin()
	ctx = logging.Attrs(ctx, logging.KeyRepo, repo.FullName(), "request", id, "user", user)
	out, err := h.Runs.Approve(ctx, repo, id, user)
	if err != nil || out.Reply == "" {
		return err
	}
	return h.Replies.Post(ctx, repo, out.Request.PR, fmt.Sprintf("%s/approve/%s", repo.FullName(), d.GUID), "@"+user+" "+out.Reply)
}
