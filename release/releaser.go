package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/outbox"
)

// Releaser carries release requests through GitHub: it opens the release
// pull request with the manifest, keeps its check run and the comments on
// both pull requests up to date, puts its own commit back when someone
// else pushes to the release branch, and commits the approved files once
// they have all arrived. It works from the store's outbox (Unreported):
// every step is idempotent and picked up again after a restart.
type Releaser struct {
	store  *Store
	gh     GitHub
	policy Policy
	prURL  func(repo string, pr int) string
	page   func(releaseID string) string
	now    func() time.Time
	log    *slog.Logger
	failed *outbox.Backoff // releases whose last step failed
	// posted are the comments known to be on GitHub (by issue and marker),
	// so that only the first step after a start looks for them.
	posted map[string]bool
}

// ReleaserOption configures a Releaser.
type ReleaserOption func(*Releaser)

// WithReleasePages sets a release's public page, the check run's details
// link (default: the release pull request).
func WithReleasePages(page func(releaseID string) string) ReleaserOption {
	return func(w *Releaser) { w.page = page }
}

// WithReleaserLogger sets the logger (default slog.Default()).
func WithReleaserLogger(l *slog.Logger) ReleaserOption { return func(w *Releaser) { w.log = l } }

// NewReleaser returns a releaser. prURL is a pull request's page on GitHub,
// for the manifest's link back to the research pull request.
func NewReleaser(st *Store, gh GitHub, p Policy, prURL func(repo string, pr int) string, opts ...ReleaserOption) *Releaser {
	w := &Releaser{store: st, gh: gh, policy: p, prURL: prURL, now: time.Now, log: slog.Default(),
		failed: outbox.NewBackoff(time.Second, 5*time.Minute), posted: map[string]bool{}}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Run works until ctx ends, waking on every change the store signals.
func (w *Releaser) Run(ctx context.Context) { outbox.Loop(ctx, w.store.Changed(), w.pass) }

// pass carries every release that GitHub is behind on one step further,
// and says when to look again.
func (w *Releaser) pass(ctx context.Context) time.Time {
	now := w.now()
	wake := now.Add(time.Minute)
	rs, err := w.store.Unreported(ctx, 100)
	if err != nil && ctx.Err() == nil {
		w.log.Error("read releases to carry on", "err", err)
	}
	for _, r := range rs {
		if at, held := w.failed.Until(r.ID); held && at.After(now) {
			wake = earliest(wake, at)
			continue
		}
		rctx := logging.Attrs(ctx, logging.KeyRepo, r.Repo, logging.KeyRelease, r.ID)
		if err := w.step(rctx, r); err != nil {
			if ctx.Err() != nil {
				return now
			}
			again := w.failed.Failed(r.ID, now, 0)
			wake = earliest(wake, again)
			logging.From(rctx).Warn("release step failed; will retry", "state", r.State, "err", err, "retry_in", again.Sub(now).String())
			continue
		}
		w.failed.Succeeded(r.ID)
		wake = now // the step may have moved it on: look again
	}
	return wake
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// step does what GitHub should show of r now, then records the version.
func (w *Releaser) step(ctx context.Context, r Release) error {
	repo, err := repoOf(r)
	if err != nil {
		return err
	}
	switch {
	case r.Tainted != "":
		if err := w.restore(ctx, repo, r); err != nil {
			return err
		}
	case (r.State == InReview || r.State == Returned) && r.Published < r.Revision:
		if err := w.publish(ctx, repo, r); err != nil {
			return err
		}
	case r.State == Uploading && r.ReleasedCommit == "":
		done, err := w.commitIfComplete(ctx, repo, r)
		if err != nil || done {
			return err
		}
	case r.State == Withdrawn && r.ReleasePR != 0:
		if err := w.gh.ClosePullRequest(ctx, repo, r.ReleasePR); err != nil {
			return err
		}
	}
	if err := w.show(ctx, repo, r); err != nil {
		return err
	}
	return w.store.MarkReported(ctx, r.ID, r.Version)
}

// publish puts the manifest of the current revision on the release branch
// (a new commit on top of the last manifest, so approvals of that one no
// longer count), opens the release pull request if there is none, and asks
// the output checkers to review.
func (w *Releaser) publish(ctx context.Context, repo checks.Repo, r Release) error {
	base, baseSHA, err := w.gh.DefaultBranch(ctx, repo)
	if err != nil {
		return err
	}
	if _, found, err := w.gh.BranchHead(ctx, repo, r.ReleaseBranch); err != nil {
		return err
	} else if !found {
		if err := w.gh.CreateBranch(ctx, repo, r.ReleaseBranch, baseSHA); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
	}
	m, err := w.manifest(ctx, r)
	if err != nil {
		return err
	}
	parent := r.ManifestCommit
	if parent == "" {
		parent = baseSHA
	}
	dir := ManifestDir(r.ID)
	commit, err := w.gh.CommitFiles(ctx, repo, parent, []CommitFile{
		bytesFile(dir+"/manifest.json", m.JSON()),
		bytesFile(dir+"/manifest.md", []byte(m.Markdown())),
	}, fmt.Sprintf("Release #%d: manifest, revision %d", r.Number, r.Revision), m.RequestedAt)
	if err != nil {
		return err
	}
	if err := w.moveBranch(ctx, repo, r, commit); err != nil {
		return err
	}
	pr, found, err := w.gh.FindPullRequest(ctx, repo, r.ReleaseBranch, base)
	if err != nil {
		return err
	}
	if !found {
		if pr, err = w.gh.CreatePullRequest(ctx, repo, r.ReleaseBranch, base, releaseTitle(r, m), releaseBody(r, m, w.prURL(r.Repo, r.PR))); err != nil {
			return err
		}
	}
	if err := w.store.SetReleasePR(ctx, r.ID, pr); err != nil {
		return err
	}
	users := make([]string, 0, len(w.policy.Users))
	for _, u := range w.policy.Users {
		if !strings.EqualFold(u, r.Requester) {
			users = append(users, u)
		}
	}
	if err := w.gh.RequestReviewers(ctx, repo, pr, users, w.policy.Teams); err != nil {
		// A courtesy, not a condition: checkers who are not collaborators
		// cannot be asked (GitHub answers 422) but can still review.
		logging.From(ctx).Warn("could not request reviews from the output checkers", "err", err)
	}
	logging.From(ctx).Info("release manifest published", "revision", r.Revision, "commit", commit, "release_pr", pr)
	return w.store.Published(ctx, r.ID, r.Revision, pr, commit, w.now())
}

// manifest is the current revision's manifest.
func (w *Releaser) manifest(ctx context.Context, r Release) (Manifest, error) {
	rev, err := w.store.Revision(ctx, r.ID, r.Revision)
	if err != nil {
		return Manifest{}, err
	}
	files, err := w.store.Manifest(ctx, r.ID, r.Revision)
	if err != nil {
		return Manifest{}, err
	}
	return Manifest{Release: r.ID, Number: r.Number, Revision: r.Revision, Repo: r.Repo, ResearchPR: r.PR,
		ResearchPRURL: w.prURL(r.Repo, r.PR), Workspace: r.Workspace, Backend: r.Backend, Requester: rev.RequestedBy,
		RequestedAt: rev.RequestedAt, Context: rev.Context, Controls: rev.Controls, Files: files}, nil
}

// restore puts the bot's own commit back on a release branch someone else
// pushed to.
func (w *Releaser) restore(ctx context.Context, repo checks.Repo, r Release) error {
	commit := r.ManifestCommit
	if r.ReleasedCommit != "" {
		commit = r.ReleasedCommit
	}
	if commit != "" {
		if err := w.moveBranch(ctx, repo, r, commit); err != nil {
			return err
		}
	}
	logging.From(ctx).Warn("release branch restored", "commit", commit, "replaced", r.Tainted)
	return w.store.Restored(ctx, r.ID, commit, w.now())
}

// commitIfComplete commits the approved files once all have arrived, under
// released_outputs/<branch>/, on top of the manifest commit.
func (w *Releaser) commitIfComplete(ctx context.Context, repo checks.Repo, r Release) (bool, error) {
	files, err := w.store.Files(ctx, r.ID, r.Revision)
	if err != nil {
		return false, err
	}
	var commitFiles []CommitFile
	for _, f := range files {
		if !f.Received {
			return false, nil // more to come
		}
		commitFiles = append(commitFiles, CommitFile{Path: ReleasedPath(r.Branch, f.Path), Size: f.Size,
			Open: func() (io.ReadCloser, error) { return os.Open(w.store.FilePath(f.SHA256)) }})
	}
	commit, err := w.gh.CommitFiles(ctx, repo, r.ManifestCommit, commitFiles,
		fmt.Sprintf("Release #%d: %d approved files from %s", r.Number, len(files), r.Workspace), r.ApprovedAt)
	if err != nil {
		return false, err
	}
	if err := w.moveBranch(ctx, repo, r, commit); err != nil {
		return false, err
	}
	logging.From(ctx).Info("released files committed", "commit", commit, "files", len(files))
	return true, w.store.Released(ctx, r.ID, commit, w.now())
}

// moveBranch points the release branch at commit, saying first that it is
// the bot's doing, so that the push is not taken for someone else's.
func (w *Releaser) moveBranch(ctx context.Context, repo checks.Repo, r Release, commit string) error {
	if err := w.store.MovingTo(ctx, r.ID, commit); err != nil {
		return err
	}
	return w.gh.MoveBranch(ctx, repo, r.ReleaseBranch, commit, true)
}

func bytesFile(path string, data []byte) CommitFile {
	return CommitFile{Path: path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(string(data))), nil
	}}
}

func repoOf(r Release) (checks.Repo, error) {
	owner, name, ok := strings.Cut(r.Repo, "/")
	if !ok || r.InstallationID == 0 {
		return checks.Repo{}, fmt.Errorf("release %s has no repository or installation", r.ID)
	}
	return checks.Repo{InstallationID: r.InstallationID, Owner: owner, Name: name}, nil
}
