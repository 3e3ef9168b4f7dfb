package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/app/commands"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/release"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// ReleasesGitHubAPI is what the release service needs of GitHub: the run
// service's reads and the release adapter's. *ReleasesGitHub is one.
type ReleasesGitHubAPI interface {
	release.GitHub
	PullRequest(ctx context.Context, repo checks.Repo, number int) (PullRequest, error)
	Permission(ctx context.Context, repo checks.Repo, user string) (string, error)
}

// Releases takes researchers' /release and /withdraw, checkers' reviews of
// release pull requests and pushes to their branches; the Releaser shows
// what comes of it on GitHub.
type Releases struct {
	gh       ReleasesGitHubAPI
	store    *release.Store
	jobs     *jobs.Store
	runs     *Runs // backends and the run permission
	checkers release.Policy
	now      func() time.Time
}

// NewReleases returns the release service.
func NewReleases(gh ReleasesGitHubAPI, st *release.Store, js *jobs.Store, runs *Runs, checkers release.Policy) *Releases {
	return &Releases{gh: gh, store: st, jobs: js, runs: runs, checkers: checkers, now: time.Now}
}

// Ask is /release on a research pull request: the files asked for must be
// moderately sensitive outputs of succeeded jobs of its workspace, and the
// requester needs the run permission. A release already under review for
// the pull request gets a new manifest revision instead.
func (r *Releases) Ask(ctx context.Context, repo checks.Repo, pr int, requester, trigger string, cmd commands.Release) (RunOutcome, error) {
	refuse := func(reasons ...string) (RunOutcome, error) {
		return RunOutcome{Verdict: Refused, Reply: "I did not ask for this release:\n\n" + bullets(reasons)}, nil
	}
	if len(r.checkers.Users)+len(r.checkers.Teams) == 0 {
		return refuse("This bot has no output checkers, so nothing can be released: an operator must list them under `release.checkers` in fivesafes.yml.")
	}
	if rel, err := r.store.ByReleasePR(ctx, repo.FullName(), pr); err == nil {
		return refuse(fmt.Sprintf("This is the pull request of release #%d: ask for releases on the research pull request, #%d.", rel.Number, rel.PR))
	}
	var p PullRequest
	var role string
	err := concurrently(
		func() (err error) { p, err = r.gh.PullRequest(ctx, repo, pr); return err },
		func() (err error) { role, err = r.gh.Permission(ctx, repo, requester); return err })
	if err != nil {
		return RunOutcome{}, err
	}
	if !roleAtLeast(role, r.runs.policy.Permission) {
		return refuse(fmt.Sprintf("Asking for a release needs %s permission on this repository, and @%s has %s.",
			r.runs.policy.Permission, requester, roleName(role)))
	}
	if !p.Open || p.Fork() {
		return refuse("Releases are asked for on open pull requests from a branch of this repository.")
	}
	backend, err := r.runs.backend(cmd.Backend)
	if err != nil {
		return refuse(err.Error())
	}
	workspace := jobs.Workspace(repo.FullName(), p.HeadRef)
	done, err := r.jobs.WorkspaceJobs(ctx, workspace, backend)
	if err != nil {
		return RunOutcome{}, err
	}
	paths, problems := release.Resolve(cmd.Paths, done)
	if len(problems) > 0 {
		return refuse(problems...)
	}
	rel, err := r.store.Ask(ctx, release.Ask{Repo: repo.FullName(), InstallationID: repo.InstallationID, PR: pr,
		Workspace: workspace, Branch: p.HeadRef, Backend: backend, Requester: requester, Trigger: trigger,
		Paths: paths, Context: cmd.Context, Controls: cmd.Controls}, r.now())
	if errors.Is(err, release.ErrBusy) {
		return refuse(strings.TrimPrefix(err.Error(), "release: release busy: ") + ".")
	}
	if err != nil {
		return RunOutcome{}, err
	}
	logging.From(ctx).Info("release asked for", logging.KeyRelease, rel.ID, "number", rel.Number, "revision", rel.Revision, "files", len(paths))
	what := fmt.Sprintf("Release #%d", rel.Number)
	if rel.Revision > 1 {
		what += fmt.Sprintf(", revision %d,", rel.Revision)
	}
	return RunOutcome{Verdict: Admitted, Reply: fmt.Sprintf("%s: the %s backend is preparing a manifest of %s (%s). "+
		"Output checkers review it in a release pull request, which I will link here; no data leaves the secure zone until they approve.\n",
		what, markdown.Code(backend, valueShown), markdown.Plural(len(paths), "file"), codes(paths))}, nil
}

// Withdraw is /withdraw on a research or release pull request: its
// release request ends. The requester may withdraw their own; others need
// the run permission.
func (r *Releases) Withdraw(ctx context.Context, repo checks.Repo, pr int, actor string) (RunOutcome, error) {
	rel, err := r.activeFor(ctx, repo, pr)
	if errors.Is(err, release.ErrNotFound) {
		return RunOutcome{Verdict: Refused, Reply: "There is no release request to withdraw on this pull request.\n"}, nil
	}
	if err != nil {
		return RunOutcome{}, err
	}
	if !strings.EqualFold(actor, rel.Requester) {
		role, err := r.gh.Permission(ctx, repo, actor)
		if err != nil {
			return RunOutcome{}, err
		}
		if !roleAtLeast(role, r.runs.policy.Permission) {
			return RunOutcome{Verdict: Refused, Reply: fmt.Sprintf("Withdrawing @%s's release #%d needs %s permission, and @%s has %s.\n",
				rel.Requester, rel.Number, r.runs.policy.Permission, actor, roleName(role))}, nil
		}
	}
	if _, err := r.store.Withdraw(ctx, rel.ID, actor, r.now()); err != nil {
		return RunOutcome{}, err
	}
	return RunOutcome{Verdict: Admitted, Reply: fmt.Sprintf("Release #%d is withdrawn.\n", rel.Number)}, nil
}

// activeFor is the unfinished release of a research pull request, or the
// release whose pull request pr is.
func (r *Releases) activeFor(ctx context.Context, repo checks.Repo, pr int) (release.Release, error) {
	if rel, err := r.store.ByReleasePR(ctx, repo.FullName(), pr); err == nil && !rel.State.Finished() {
		return rel, nil
	}
	all, err := r.store.ForResearchPR(ctx, repo.FullName(), pr)
	if err != nil {
		return release.Release{}, err
	}
	for _, rel := range all {
		if !rel.State.Finished() {
			return rel, nil
		}
	}
	return release.Release{}, release.ErrNotFound
}

// Reviewed evaluates the reviews of a release pull request after one was
// submitted, edited or dismissed; ev is that review.
func (r *Releases) Reviewed(ctx context.Context, repo checks.Repo, number int, ev release.ReviewEvent) error {
	rel, err := r.store.ByReleasePR(ctx, repo.FullName(), number)
	if errors.Is(err, release.ErrNotFound) {
		return nil // not a release pull request
	}
	if err != nil {
		return err
	}
	ctx = logging.Attrs(ctx, logging.KeyRelease, rel.ID)
	reviews, err := r.gh.Reviews(ctx, repo, number)
	if err != nil {
		return err
	}
	checkers, err := r.checkerRoles(ctx, repo, reviews)
	if err != nil {
		return err
	}
	v := release.Evaluate(r.checkers, rel.Requester, rel.ManifestCommit, reviews, checkers)
	after, err := r.store.Decide(ctx, rel.ID, rel.ManifestCommit, v, &ev, r.now())
	if err != nil {
		return err
	}
	logging.From(ctx).Info("release reviews evaluated", "state", after.State, "counted", v.Counted, "approved", v.Approved)
	return nil
}

// checkerRoles says which reviewers are output checkers: configured users,
// or members of a configured team (asked of GitHub, once per reviewer).
func (r *Releases) checkerRoles(ctx context.Context, repo checks.Repo, reviews []release.Review) (map[string]bool, error) {
	out := map[string]bool{}
	for _, rv := range reviews {
		login := strings.ToLower(rv.User)
		if _, done := out[login]; done {
			continue
		}
		out[login] = containsFold(r.checkers.Users, rv.User)
		for _, team := range r.checkers.Teams {
			if out[login] {
				break
			}
			org, slug, _ := strings.Cut(team, "/")
			member, err := r.gh.TeamMember(ctx, repo, org, slug, rv.User)
			if err != nil {
				return nil, err
			}
			out[login] = member
		}
	}
	return out, nil
}

// Pushed notes a push to a pull request's branch: on a release pull
// request, a commit the bot did not make taints the release until the bot
// puts its own back. Whose push it was is told by the commit, not by the
// sender GitHub names (another app's pushes are bots' too).
func (r *Releases) Pushed(ctx context.Context, repo checks.Repo, number int, head, pusher string) error {
	rel, err := r.store.ByReleasePR(ctx, repo.FullName(), number)
	if errors.Is(err, release.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.store.Taint(ctx, rel.ID, head, pusher, r.now())
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}
