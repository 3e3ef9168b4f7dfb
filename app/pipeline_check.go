package app

import (
	"context"
	"fmt"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/inbox"
)

// PipelineChecker runs the project.yaml check for a commit; *checks.Service is one.
type PipelineChecker interface {
	Check(ctx context.Context, req checks.Request) error
}

// parsePayload decodes a delivery into go-github's event type. A payload that
// does not parse will never parse, so the error is permanent.
func parsePayload(d inbox.Delivery) (any, error) {
	ev, err := github.ParseWebHook(d.Event, d.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: parse %s payload: %v", ErrPermanent, d.Event, err)
	}
	return ev, nil
}

// repoOf names the repository and installation an event is about.
func repoOf(inst *github.Installation, repo *github.Repository) (checks.Repo, error) {
	if inst.GetID() == 0 || repo.GetOwner().GetLogin() == "" || repo.GetName() == "" {
		return checks.Repo{}, fmt.Errorf("%w: event has no installation or repository", ErrPermanent)
	}
	return checks.Repo{InstallationID: inst.GetID(), Owner: repo.GetOwner().GetLogin(), Name: repo.GetName()}, nil
}
