package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
)

// RunsGitHub is RunGitHub over go-github, acting as the installation each
// repository names. Errors wrap go-github's own, so Retryable and RetryAfter
// can read them.
type RunsGitHub struct {
	*ChecksGitHub

	mergeableReads int
	mergeablePause time.Duration
	// archives fetches the archive GitHub redirects to: a client without
	// credentials, since the link itself carries what it needs.
	archives *http.Client

	slugMu sync.Mutex
	slug   string // the app's slug, once known
}

var _ RunGitHub = (*RunsGitHub)(nil)

// RunsGitHubOption configures a RunsGitHub.
type RunsGitHubOption func(*RunsGitHub)

// WithMergeablePolls sets how many times Mergeable reads a pull request
// while GitHub computes its mergeability, and the pause between reads
// (default 4 reads, 500ms apart).
func WithMergeablePolls(reads int, pause time.Duration) RunsGitHubOption {
	return func(g *RunsGitHub) { g.mergeableReads, g.mergeablePause = max(reads, 1), max(pause, 0) }
}

// WithAppSlug names the app's slug, which FindComment otherwise asks
// GitHub for (GET /app) the first time it needs it.
func WithAppSlug(slug string) RunsGitHubOption {
	return func(g *RunsGitHub) { g.slug = slug }
}

// NewRunsGitHub returns the runs' view of GitHub.
func NewRunsGitHub(f *ClientFactory, opts ...RunsGitHubOption) *RunsGitHub {
	g := &RunsGitHub{
		ChecksGitHub:   NewChecksGitHub(f),
		mergeableReads: 4,
		mergeablePause: 500 * time.Millisecond,
		archives:       &http.Client{Transport: f.opt.base},
	}
	for _, o := range opts {
		o(g)
	}
	return g
}

// PullRequest reads a pull request as it is now.
func (g *RunsGitHub) PullRequest(ctx context.Context, repo checks.Repo, number int) (PullRequest, error) {
	pr, err := g.pull(ctx, repo, number)
	if err != nil {
		return PullRequest{}, err
	}
	return PullRequest{
		Number:   pr.GetNumber(),
		Open:     pr.GetState() == "open",
		Author:   pr.GetUser().GetLogin(),
		HeadSHA:  pr.GetHead().GetSHA(),
		HeadRef:  pr.GetHead().GetRef(),
		HeadRepo: pr.GetHead().GetRepo().GetFullName(), // no repo: the fork was deleted
		BaseRepo: pr.GetBase().GetRepo().GetFullName(),
		BaseRef:  pr.GetBase().GetRef(),
	}, nil
}

func (g *RunsGitHub) pull(ctx context.Context, repo checks.Repo, number int) (*github.PullRequest, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return nil, fmt.Errorf("read pull request %s#%d: %w", repo.FullName(), number, err)
	}
	pr, _, err := c.PullRequests.Get(ctx, repo.Owner, repo.Name, number)
	if err != nil {
		return nil, fmt.Errorf("read pull request %s#%d: %w", repo.FullName(), number, err)
	}
	return pr, nil
}

// Mergeable reads the pull request until GitHub has worked out whether it
// can be merged: GitHub answers mergeable null while a background job
// computes it, and the read itself starts that job.
func (g *RunsGitHub) Mergeable(ctx context.Context, repo checks.Repo, number int) (mergeable, known bool, err error) {
	for read := 1; ; read++ {
		pr, err := g.pull(ctx, repo, number)
		if err != nil {
			return false, false, err
		}
		if m := pr.Mergeable; m != nil {
			return *m, true, nil
		}
		if read >= g.mergeableReads {
			return false, false, nil
		}
		t := time.NewTimer(g.mergeablePause)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, false, fmt.Errorf("wait for GitHub to compute whether %s#%d can be merged: %w", repo.FullName(), number, ctx.Err())
		case <-t.C:
		}
	}
}

// Permission is user's role on the repository. A user who is not a
// collaborator, or does not exist, has none.
func (g *RunsGitHub) Permission(ctx context.Context, repo checks.Repo, user string) (string, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return "", fmt.Errorf("read %s's permission on %s: %w", user, repo.FullName(), err)
	}
	level, resp, err := c.Repositories.GetPermissionLevel(ctx, repo.Owner, repo.Name, url.PathEscape(user))
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return "none", nil
		}
		return "", fmt.Errorf("read %s's permission on %s: %w", user, repo.FullName(), err)
	}
	return permissionRole(level.GetRoleName(), level.GetPermission()), nil
}

// permissionRole reads the permission API's answer: role_name names the
// role, unless it is a custom role, whose base role only the legacy
// permission field tells (maintain shows as write, triage as read there).
func permissionRole(roleName, permission string) string {
	switch roleName {
	case "admin", "maintain", "write", "triage", "read":
		return roleName
	}
	switch permission {
	case "admin", "write", "read":
		return permission
	}
	return "none"
}

// Reviews lists a pull request's reviews in GitHub's order, which is
// chronological.
func (g *RunsGitHub) Reviews(ctx context.Context, repo checks.Repo, number int) ([]Review, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return nil, fmt.Errorf("list reviews of %s#%d: %w", repo.FullName(), number, err)
	}
	opts := &github.ListOptions{PerPage: 100}
	var out []Review
	for {
		page, resp, err := c.PullRequests.ListReviews(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list reviews of %s#%d: %w", repo.FullName(), number, err)
		}
		for _, r := range page {
			out = append(out, Review{
				User:        r.GetUser().GetLogin(),
				State:       r.GetState(),
				CommitID:    r.GetCommitID(),
				SubmittedAt: r.GetSubmittedAt().Time,
			})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Tree lists the files of a commit (or tree) with one recursive read.
// Submodules and directories are left out.
func (g *RunsGitHub) Tree(ctx context.Context, repo checks.Repo, sha string) (map[string]string, bool, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return nil, false, fmt.Errorf("list the files of %s in %s: %w", shortSHA(sha), repo.FullName(), err)
	}
	tree, _, err := c.Git.GetTree(ctx, repo.Owner, repo.Name, url.PathEscape(sha), true)
	if err != nil {
		return nil, false, fmt.Errorf("list the files of %s in %s: %w", shortSHA(sha), repo.FullName(), err)
	}
	files := map[string]string{}
	for _, e := range tree.Entries {
		if e.GetType() == "blob" {
			files[e.GetPath()] = e.GetSHA()
		}
	}
	return files, tree.GetTruncated(), nil
}

// Tarball streams the repository at sha as a gzip'd tar. GitHub answers
// with a redirect to a short-lived link on another host (codeload), which
// the API client does not follow: it adds the installation token to every
// request it sends. The link is fetched without credentials. Reading the
// stream stops when ctx ends.
func (g *RunsGitHub) Tarball(ctx context.Context, repo checks.Repo, sha string) (io.ReadCloser, error) {
	what := fmt.Sprintf("download %s at %s", repo.FullName(), shortSHA(sha))
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req, err := c.NewRequest(ctx, http.MethodGet,
		fmt.Sprintf("repos/%s/%s/tarball/%s", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), url.PathEscape(sha)), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	resp, err := c.BareDo(req)
	var redirect *github.RedirectionError
	switch {
	case err == nil:
		// Followed on the API's own host (GitHub Enterprise Server, the
		// emulator).
		return resp.Body, nil
	case !errors.As(err, &redirect) || redirect.Location == nil:
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	link := req.URL.ResolveReference(redirect.Location)
	if link.Scheme != "https" && link.Scheme != "http" {
		return nil, fmt.Errorf("%s: GitHub redirected to %s, not an http(s) link", what, link.Redacted())
	}
	dl, err := http.NewRequestWithContext(ctx, http.MethodGet, link.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	archive, err := g.archives.Do(dl)
	if err != nil {
		return nil, fmt.Errorf("%s from %s: %w", what, link.Host, err)
	}
	if err := github.CheckResponse(archive); err != nil {
		archive.Body.Close()
		return nil, fmt.Errorf("%s from %s: %w", what, link.Host, err)
	}
	return archive.Body, nil
}
