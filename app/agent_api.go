package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/fivesafes/fivesafes/internal/config"
	"github.com/fivesafes/fivesafes/runner/agentapi"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// newAgentAPI is the API backend agents call, under /agent/v1, for the
// configured backends; the code they run comes from GitHub through gh, and
// the files of approved releases go to uploads.
func newAgentAPI(cfg *config.Config, st *jobs.Store, gh RunGitHub, uploads agentapi.Uploads, log *slog.Logger, m *Metrics) (*agentapi.Server, error) {
	backends := make([]agentapi.Backend, len(cfg.Backends))
	for i, b := range cfg.Backends {
		backends[i] = agentapi.Backend{Name: b.Name, TokenSHA256: b.TokenSHA256}
	}
	api, err := agentapi.New(st, backends, codeFromGitHub{gh}, agentapi.WithLogger(log),
		agentapi.WithRegisterer(m.Registry), agentapi.WithUploads(uploads))
	if err != nil {
		return nil, fmt.Errorf("agent API: %w", err)
	}
	return api, nil
}

// codeFromGitHub serves agents the repository at a job's commit, read with
// the installation's token: agents never hold a GitHub credential.
type codeFromGitHub struct{ gh RunGitHub }

func (c codeFromGitHub) Tarball(ctx context.Context, installationID int64, repo, sha string) (io.ReadCloser, error) {
	r, err := repoNamed(repo, installationID)
	if err != nil {
		return nil, err
	}
	return c.gh.Tarball(ctx, r, sha)
}
