package app

import (
	"context"
	"io"
	"time"

	"github.com/fivesafes/fivesafes/checks"
)

// RunGitHub is the part of GitHub that runs need: who may run, what the pull
// request is, the code to plan from, and the replies, reactions, check runs
// and status comment that researchers see. RunsGitHub is the go-github
// implementation; tests use it against the emulator.
type RunGitHub interface {
	checks.GitHub

	// PullRequest reads a pull request as it is now.
	PullRequest(ctx context.Context, repo checks.Repo, number int) (PullRequest, error)
	// Mergeable asks GitHub whether a pull request can be merged, waiting a
	// little while GitHub works it out; known is false if it did not.
	Mergeable(ctx context.Context, repo checks.Repo, number int) (mergeable, known bool, err error)
	// Permission is user's role on the repository from the REST permission
	// API: admin, maintain, write, triage, read, or none.
	Permission(ctx context.Context, repo checks.Repo, user string) (string, error)
	// Reviews lists a pull request's reviews, oldest first.
	Reviews(ctx context.Context, repo checks.Repo, number int) ([]Review, error)
	// Tree lists every file of a commit: path -> Git blob SHA. truncated
	// is true when GitHub did not list the whole tree.
	Tree(ctx context.Context, repo checks.Repo, sha string) (files map[string]string, truncated bool, err error)
	// Tarball streams the repository at sha as a gzip'd tar.
	Tarball(ctx context.Context, repo checks.Repo, sha string) (io.ReadCloser, error)

	// React adds a reaction (eyes, confused, ...) to an issue comment; one
	// that is there already is not an error.
	React(ctx context.Context, repo checks.Repo, commentID int64, content string) error
	// CreateComment comments on an issue or pull request.
	CreateComment(ctx context.Context, repo checks.Repo, number int, body string) (int64, error)
	// UpdateComment replaces a comment's body.
	UpdateComment(ctx context.Context, repo checks.Repo, commentID int64, body string) error
	// FindComment finds this app's newest comment on the issue whose body
	// contains marker.
	FindComment(ctx context.Context, repo checks.Repo, number int, marker string) (commentID int64, found bool, err error)
	// RemoveLabel takes a label off an issue; one that is gone already is
	// not an error.
	RemoveLabel(ctx context.Context, repo checks.Repo, number int, label string) error
}

// PullRequest is what runs need to know about a pull request.
type PullRequest struct {
	Number   int
	Open     bool // state "open"
	Author   string
	HeadSHA  string
	HeadRef  string // the head branch
	HeadRepo string // owner/name of the head's repository; "" when it was deleted
	BaseRepo string // owner/name
	BaseRef  string
}

// Fork reports whether the head is on another repository than the base,
// which is the one case where code a maintainer never saw could reach the
// secure zone.
func (p PullRequest) Fork() bool { return p.HeadRepo != p.BaseRepo }

// Review is one pull request review.
type Review struct {
	User        string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	CommitID    string
	SubmittedAt time.Time
}
