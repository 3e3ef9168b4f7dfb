package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/release"
)

// CommitFiles commits files on top of parent with the Git Data API: a blob
// per file, streamed (see blobUpload), a tree on top of the parent's, and
// a commit by the app's bot user. The author and committer are dated at,
// so the same call makes the same commit: GitHub dates them now when they
// are left out, and it signs (with a signature that is never the same
// twice) only commits whose author and committer it chose itself.
//
// A repeated call uploads the blobs again rather than asking GitHub first
// whether it has them: asking (GET git/blobs/{sha}) answers with the whole
// content, as large again as the upload, and needs the SHA before sending,
// so a second pass over each file. Creating a blob GitHub has is harmless:
// blobs are stored by their content.
func (g *ReleasesGitHub) CommitFiles(ctx context.Context, repo checks.Repo, parent string, files []release.CommitFile, message string, at time.Time) (string, error) {
	what := fmt.Sprintf("commit %d files onto %s in %s", len(files), shortSHA(parent), repo.FullName())
	if err := checkCommitFiles(files); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if at.IsZero() {
		return "", fmt.Errorf("%s: no time to date the commit with", what)
	}
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	base, _, err := c.Git.GetCommit(ctx, repo.Owner, repo.Name, parent)
	if err != nil {
		return "", fmt.Errorf("%s: read the parent commit: %w", what, err)
	}
	tree := base.GetTree().GetSHA()
	if len(files) > 0 {
		entries := make([]*github.TreeEntry, len(files))
		for i, f := range files {
			sha, err := g.uploadBlob(ctx, c, repo, f)
			if err != nil {
				return "", fmt.Errorf("%s: %w", what, err)
			}
			entries[i] = &github.TreeEntry{Path: github.Ptr(f.Path), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), SHA: github.Ptr(sha)}
		}
		t, _, err := c.Git.CreateTree(ctx, repo.Owner, repo.Name, tree, entries)
		if err != nil {
			return "", fmt.Errorf("%s: create the tree: %w", what, err)
		}
		tree = t.GetSHA()
	}
	bot, err := g.botIdentity(ctx, c)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	// Git keeps whole seconds; GitHub's answer would drop the rest anyway.
	sig := &github.CommitAuthor{
		Name: github.Ptr(bot.name), Email: github.Ptr(bot.email),
		Date: &github.Timestamp{Time: at.UTC().Truncate(time.Second)},
	}
	commit, _, err := c.Git.CreateCommit(ctx, repo.Owner, repo.Name, github.Commit{
		Message: github.Ptr(message), Tree: &github.Tree{SHA: github.Ptr(tree)},
		Parents: []*github.Commit{{SHA: github.Ptr(parent)}}, Author: sig, Committer: sig,
	}, nil)
	if err != nil {
		return "", fmt.Errorf("%s: create the commit: %w", what, err)
	}
	if commit.GetSHA() == "" {
		return "", fmt.Errorf("%s: GitHub gave the commit no SHA", what)
	}
	return commit.GetSHA(), nil
}

// checkCommitFiles refuses what GitHub would refuse in the tree, before
// anything is uploaded.
func checkCommitFiles(files []release.CommitFile) error {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		segs := strings.Split(f.Path, "/")
		switch {
		case f.Path == "" || path.Clean(f.Path) != f.Path || path.IsAbs(f.Path) ||
			slices.ContainsFunc(segs, func(s string) bool { return s == ".." || s == ".git" }):
			return fmt.Errorf("%q is not a path in a repository", f.Path)
		case seen[f.Path]:
			return fmt.Errorf("%s is given twice", f.Path)
		case f.Size < 0 || f.Open == nil:
			return fmt.Errorf("%s has no content to read (size %d)", f.Path, f.Size)
		}
		seen[f.Path] = true
	}
	return nil
}

// commitIdentity is how a commit names its author or committer.
type commitIdentity struct{ name, email string }

// botIdentity is the app's bot user as Git names it: "<slug>[bot]" and
// the no-reply address GitHub ties to that user, "<id>+<slug>[bot]@users.noreply.github.com",
// where the ID is the bot user's (GET /users/<slug>[bot]), not the app's.
// With any other address GitHub shows the commit as by nobody it knows.
// It is read once.
func (g *ReleasesGitHub) botIdentity(ctx context.Context, c *github.Client) (commitIdentity, error) {
	g.botMu.Lock()
	defer g.botMu.Unlock()
	if g.bot.email != "" {
		return g.bot, nil
	}
	slug, err := g.appSlug(ctx)
	if err != nil {
		return commitIdentity{}, err
	}
	login := slug + "[bot]"
	u, _, err := c.Users.Get(ctx, url.PathEscape(login))
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
		return commitIdentity{}, fmt.Errorf("read the app's bot user %s: GitHub has no such user (is the app's slug %q right?): %w", login, slug, err)
	case err != nil:
		return commitIdentity{}, fmt.Errorf("read the app's bot user %s: %w", login, err)
	case u.GetID() == 0:
		return commitIdentity{}, fmt.Errorf("read the app's bot user %s: GitHub gave no ID", login)
	}
	g.bot = commitIdentity{name: login, email: fmt.Sprintf("%d+%s@users.noreply.github.com", u.GetID(), login)}
	return g.bot, nil
}
