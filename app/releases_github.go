package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/release"
)

// ReleasesGitHub is release.GitHub over go-github: the runs' adapter, whose
// check runs, files and comments releases share, plus branches, commits of
// released files, the release pull request and who may review it. Errors
// wrap go-github's own, so Retryable and RetryAfter can read them.
type ReleasesGitHub struct {
	*RunsGitHub

	botMu sync.Mutex
	bot   commitIdentity // the app's bot user, once known
}

var _ release.GitHub = (*ReleasesGitHub)(nil)

// NewReleasesGitHub returns the releases' view of GitHub.
func NewReleasesGitHub(runs *RunsGitHub) *ReleasesGitHub {
	return &ReleasesGitHub{RunsGitHub: runs}
}

// DefaultBranch is the repository's default branch and its head commit.
func (g *ReleasesGitHub) DefaultBranch(ctx context.Context, repo checks.Repo) (string, string, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return "", "", fmt.Errorf("read the default branch of %s: %w", repo.FullName(), err)
	}
	r, _, err := c.Repositories.Get(ctx, repo.Owner, repo.Name)
	if err != nil {
		return "", "", fmt.Errorf("read the default branch of %s: %w", repo.FullName(), err)
	}
	branch := r.GetDefaultBranch()
	if branch == "" {
		return "", "", fmt.Errorf("read the default branch of %s: GitHub named none", repo.FullName())
	}
	sha, found, err := g.BranchHead(ctx, repo, branch)
	switch {
	case err != nil:
		return "", "", err
	case !found:
		return "", "", fmt.Errorf("the default branch %s of %s does not exist (is the repository empty?)", branch, repo.FullName())
	}
	return branch, sha, nil
}

// BranchHead is a branch's head commit. go-github escapes each segment of
// the ref, so a branch named "fivesafes/release-3" is
// git/ref/heads/fivesafes/release-3, as GitHub wants it.
func (g *ReleasesGitHub) BranchHead(ctx context.Context, repo checks.Repo, branch string) (string, bool, error) {
	what := fmt.Sprintf("read branch %s of %s", branch, repo.FullName())
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", what, err)
	}
	ref, resp, err := c.Git.GetRef(ctx, repo.Owner, repo.Name, "heads/"+branch)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%s: %w", what, err)
	}
	if sha := ref.GetObject().GetSHA(); sha != "" {
		return sha, true, nil
	}
	return "", false, fmt.Errorf("%s: GitHub gave no commit", what)
}

// CreateBranch makes branch point at sha. GitHub refuses a branch that
// exists with 422 "Reference already exists": that is release.ErrExists.
func (g *ReleasesGitHub) CreateBranch(ctx context.Context, repo checks.Repo, branch, sha string) error {
	what := fmt.Sprintf("create branch %s at %s in %s", branch, shortSHA(sha), repo.FullName())
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, _, err = c.Git.CreateRef(ctx, repo.Owner, repo.Name, github.CreateRef{Ref: "refs/heads/" + branch, SHA: sha})
	var er *github.ErrorResponse
	switch {
	case err == nil:
		return nil
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity &&
		strings.Contains(strings.ToLower(er.Message), "already exists"):
		return fmt.Errorf("%s: %w (%w)", what, release.ErrExists, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// MoveBranch points branch at sha. Without force GitHub refuses anything
// but a fast-forward (422 "Update is not a fast forward").
func (g *ReleasesGitHub) MoveBranch(ctx context.Context, repo checks.Repo, branch, sha string, force bool) error {
	what := fmt.Sprintf("move branch %s of %s to %s", branch, repo.FullName(), shortSHA(sha))
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, _, err := c.Git.UpdateRef(ctx, repo.Owner, repo.Name, "heads/"+branch, github.UpdateRef{SHA: sha, Force: github.Ptr(force)}); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// FindPullRequest finds the open pull request from head, a branch of repo,
// into base. GitHub allows one at a time for a head and base.
func (g *ReleasesGitHub) FindPullRequest(ctx context.Context, repo checks.Repo, head, base string) (int, bool, error) {
	what := fmt.Sprintf("find the pull request from %s into %s in %s", head, base, repo.FullName())
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", what, err)
	}
	opts := &github.PullRequestListOptions{
		State: "open", Head: repo.Owner + ":" + head, Base: base, ListOptions: github.ListOptions{PerPage: 100},
	}
	for {
		pulls, resp, err := c.PullRequests.List(ctx, repo.Owner, repo.Name, opts)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %w", what, err)
		}
		for _, pr := range pulls {
			// The filters are GitHub's; the check keeps a fork's branch of
			// the same name, or a lenient filter, from passing.
			if pr.GetHead().GetRef() == head && pr.GetBase().GetRef() == base &&
				strings.EqualFold(pr.GetHead().GetRepo().GetFullName(), repo.FullName()) {
				return pr.GetNumber(), true, nil
			}
		}
		if resp.NextPage == 0 {
			return 0, false, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreatePullRequest opens a pull request from head, a branch of repo, into
// base.
func (g *ReleasesGitHub) CreatePullRequest(ctx context.Context, repo checks.Repo, head, base, title, body string) (int, error) {
	what := fmt.Sprintf("open a pull request from %s into %s in %s", head, base, repo.FullName())
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	pr, _, err := c.PullRequests.Create(ctx, repo.Owner, repo.Name, &github.NewPullRequest{
		Title: github.Ptr(title), Head: github.Ptr(head), Base: github.Ptr(base), Body: github.Ptr(body),
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return pr.GetNumber(), nil
}

// ClosePullRequest closes a pull request. GitHub answers 200 for one that
// is closed already, and then changes nothing.
func (g *ReleasesGitHub) ClosePullRequest(ctx context.Context, repo checks.Repo, number int) error {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return fmt.Errorf("close %s#%d: %w", repo.FullName(), number, err)
	}
	if _, _, err := c.PullRequests.Edit(ctx, repo.Owner, repo.Name, number, &github.PullRequest{State: github.Ptr("closed")}); err != nil {
		return fmt.Errorf("close %s#%d: %w", repo.FullName(), number, err)
	}
	return nil
}

// RequestReviewers asks users and teams to review. GitHub takes a team by
// its slug alone, and only a team of the repository's owner; asking again
// is a 201 like the first time. Nothing to ask is no request.
func (g *ReleasesGitHub) RequestReviewers(ctx context.Context, repo checks.Repo, number int, users, teams []string) error {
	what := fmt.Sprintf("request reviews on %s#%d", repo.FullName(), number)
	req := github.ReviewersRequest{}
	for _, u := range users {
		if u != "" {
			req.Reviewers = append(req.Reviewers, u)
		}
	}
	for _, t := range teams {
		org, slug, ok := strings.Cut(t, "/")
		if !ok {
			org, slug = repo.Owner, t
		}
		if !strings.EqualFold(org, repo.Owner) || slug == "" {
			return fmt.Errorf("%s: team %q cannot review there: GitHub asks only teams of %s", what, t, repo.Owner)
		}
		req.TeamReviewers = append(req.TeamReviewers, slug)
	}
	if len(req.Reviewers) == 0 && len(req.TeamReviewers) == 0 {
		return nil
	}
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, _, err := c.PullRequests.RequestReviewers(ctx, repo.Owner, repo.Name, number, req); err != nil {
		return fmt.Errorf("%s from %s: %w", what, strings.Join(append(req.Reviewers, req.TeamReviewers...), ", "), err)
	}
	return nil
}

// Reviews lists a pull request's reviews, oldest first, as the runs'
// adapter reads them.
func (g *ReleasesGitHub) Reviews(ctx context.Context, repo checks.Repo, number int) ([]release.Review, error) {
	reviews, err := g.RunsGitHub.Reviews(ctx, repo, number)
	if err != nil {
		return nil, err
	}
	out := make([]release.Review, len(reviews))
	for i, r := range reviews {
		out[i] = release.Review{User: r.User, State: r.State, CommitID: r.CommitID, SubmittedAt: r.SubmittedAt}
	}
	return out, nil
}

// TeamMember reports whether user is an active member of org/team. GitHub
// answers 404 for a user who is not a member, and for a team the
// installation cannot see; an invitation not yet accepted is "pending".
func (g *ReleasesGitHub) TeamMember(ctx context.Context, repo checks.Repo, org, team, user string) (bool, error) {
	what := fmt.Sprintf("read %s's membership of %s/%s", user, org, team)
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	// go-github's GetTeamMembershipBySlug does not escape the names.
	u := fmt.Sprintf("orgs/%s/teams/%s/memberships/%s", url.PathEscape(org), url.PathEscape(team), url.PathEscape(user))
	req, err := c.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	var m github.Membership
	resp, err := c.Do(req, &m)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return false, nil
		}
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return m.GetState() == "active", nil
}
