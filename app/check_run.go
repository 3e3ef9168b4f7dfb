package app

import (
	"context"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/inbox"
)

// CheckRunHandler re-runs the project.yaml check when a user clicks "Re-run"
// on it. Other check runs' events are not ours to act on.
type CheckRunHandler struct {
	Checks PipelineChecker
}

func (h *CheckRunHandler) Handles() []string { return []string{"check_run"} }

func (h *CheckRunHandler) Handle(ctx context.Context, d inbox.Delivery) error {
	ev, err := parsePayload(d)
	if err != nil {
		return err
	}
	e := ev.(*github.CheckRunEvent)
	if e.GetAction() != "rerequested" || e.GetCheckRun().GetName() != checks.CheckName {
		return nil
	}
	repo, err := repoOf(e.GetInstallation(), e.GetRepo())
	if err != nil {
		return err
	}
	return h.Checks.Check(ctx, checks.Request{Repo: repo, SHA: e.GetCheckRun().GetHeadSHA(), Attempt: d.GUID})
}
