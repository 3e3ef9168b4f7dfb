package release

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/fivesafes/fivesafes/checks"
)

// ErrExists is returned (wrapped) when a branch to create exists already.
var ErrExists = errors.New("already exists")

// GitHub is what releases need of GitHub; the go-github adapter lives in
// app/ (the check-run and file methods are the project.yaml check's).
type GitHub interface {
	checks.GitHub

	// DefaultBranch is the repository's default branch and its head commit.
	DefaultBranch(ctx context.Context, repo checks.Repo) (branch, sha string, err error)
	// BranchHead is a branch's head commit; found is false if there is no
	// such branch.
	BranchHead(ctx context.Context, repo checks.Repo, branch string) (sha string, found bool, err error)
	// CreateBranch makes branch point at sha; ErrExists if it exists.
	CreateBranch(ctx context.Context, repo checks.Repo, branch, sha string) error
	// MoveBranch points branch at sha: a fast-forward, or anything with force.
	MoveBranch(ctx context.Context, repo checks.Repo, branch, sha string, force bool) error
	// CommitFiles makes a commit whose parent is parent and whose tree is
	// parent's with files added or replaced, and returns its SHA. Each
	// file's bytes are streamed from Open, never held whole in memory.
	// Author and committer are the app, dated at, so that the same files,
	// parent, message and time make the same commit: a repeated call is
	// harmless. It does not move any branch.
	CommitFiles(ctx context.Context, repo checks.Repo, parent string, files []CommitFile, message string, at time.Time) (sha string, err error)

	// FindPullRequest finds the open pull request from head (a branch of
	// repo) into base.
	FindPullRequest(ctx context.Context, repo checks.Repo, head, base string) (number int, found bool, err error)
	CreatePullRequest(ctx context.Context, repo checks.Repo, head, base, title, body string) (number int, err error)
	// ClosePullRequest closes a pull request; a closed one is not an error.
	ClosePullRequest(ctx context.Context, repo checks.Repo, number int) error
	// RequestReviewers asks users and teams ("org/team-slug" or "team-slug")
	// to review; asking again is not an error. The requester of a pull
	// request cannot be asked: leave them out.
	RequestReviewers(ctx context.Context, repo checks.Repo, number int, users, teams []string) error
	// Reviews lists a pull request's reviews, oldest first.
	Reviews(ctx context.Context, repo checks.Repo, number int) ([]Review, error)
	// TeamMember reports whether user is an active member of org/team.
	TeamMember(ctx context.Context, repo checks.Repo, org, team, user string) (bool, error)

	// CreateComment, UpdateComment and FindComment are as for runs: the
	// bot's comments on both pull requests.
	CreateComment(ctx context.Context, repo checks.Repo, number int, body string) (int64, error)
	FindComment(ctx context.Context, repo checks.Repo, number int, marker string) (commentID int64, found bool, err error)
}

// CommitFile is one file to commit, its bytes read from Open.
type CommitFile struct {
	Path string // in the repository
	Size int64
	Open func() (io.ReadCloser, error)
}
