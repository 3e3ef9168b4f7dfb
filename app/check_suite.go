package app

import (
	"context"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/inbox"
)

// CheckSuiteHandler checks project.yaml when GitHub asks for the checks of a
// push (requested) or a user asks to re-run them all (rerequested).
type CheckSuiteHandler struct {
	Checks PipelineChecker
}

func (h *CheckSuiteHandler) Handles() []string { return []string{"check_suite"} }

func (h *CheckSuiteHandler) Handle(ctx context.Context, d inbox.Delivery) error {
	ev, err := parsePayload(d)
	if err != nil {
		return err
	}
	e := ev.(*github.CheckSuiteEvent)
	req := checks.Request{SHA: e.GetCheckSuite().GetHeadSHA()}
	switch e.GetAction() {
	case "requested":
	case "rerequested":
		req.Attempt = d.GUID // a re-run is a new check run, once per delivery
	default:
		return nil
	}
	if req.Repo, err = repoOf(e.GetInstallation(), e.GetRepo()); err != nil {
		return err
	}
	return h.Checks.Check(ctx, req)
}
