package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
)

// What researchers see of the bot in the conversation: reactions to their
// commands, the bot's comments, and labels it takes off.

// React adds a reaction to an issue comment. GitHub answers 200 with the
// reaction that was there already, 201 with a new one.
func (g *RunsGitHub) React(ctx context.Context, repo checks.Repo, commentID int64, content string) error {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return fmt.Errorf("react %s to comment %d: %w", content, commentID, err)
	}
	if _, _, err := c.Reactions.CreateIssueCommentReaction(ctx, repo.Owner, repo.Name, commentID, content); err != nil {
		return fmt.Errorf("react %s to comment %d in %s: %w", content, commentID, repo.FullName(), err)
	}
	return nil
}

// CreateComment comments on an issue or pull request and returns the
// comment's ID.
func (g *RunsGitHub) CreateComment(ctx context.Context, repo checks.Repo, number int, body string) (int64, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return 0, fmt.Errorf("comment on %s#%d: %w", repo.FullName(), number, err)
	}
	cm, _, err := c.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &github.IssueComment{Body: github.Ptr(body)})
	if err != nil {
		return 0, fmt.Errorf("comment on %s#%d: %w", repo.FullName(), number, err)
	}
	return cm.GetID(), nil
}

// UpdateComment replaces a comment's body.
func (g *RunsGitHub) UpdateComment(ctx context.Context, repo checks.Repo, commentID int64, body string) error {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return fmt.Errorf("update comment %d: %w", commentID, err)
	}
	if _, _, err := c.Issues.EditComment(ctx, repo.Owner, repo.Name, commentID, &github.IssueComment{Body: github.Ptr(body)}); err != nil {
		return fmt.Errorf("update comment %d in %s: %w", commentID, repo.FullName(), err)
	}
	return nil
}

// FindComment finds this app's newest comment on the issue whose body
// contains marker. Anyone can write the marker into a comment of their
// own, so the author decides: the app that performed the comment, or,
// where GitHub does not say, the app's bot user.
func (g *RunsGitHub) FindComment(ctx context.Context, repo checks.Repo, number int, marker string) (int64, bool, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return 0, false, fmt.Errorf("find the comment on %s#%d: %w", repo.FullName(), number, err)
	}
	var best *issueComment
	for page := 1; page != 0; {
		// go-github's IssueComment has no performed_via_github_app.
		u := fmt.Sprintf("repos/%s/%s/issues/%d/comments?per_page=100&page=%d", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), number, page)
		req, err := c.NewRequest(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, false, fmt.Errorf("list the comments on %s#%d: %w", repo.FullName(), number, err)
		}
		var comments []*issueComment
		resp, err := c.Do(req, &comments)
		if err != nil {
			return 0, false, fmt.Errorf("list the comments on %s#%d: %w", repo.FullName(), number, err)
		}
		for _, cm := range comments {
			if !strings.Contains(cm.Body, marker) || (best != nil && cm.ID < best.ID) {
				continue
			}
			mine, err := g.byThisApp(ctx, cm)
			if err != nil {
				return 0, false, fmt.Errorf("find the comment on %s#%d: %w", repo.FullName(), number, err)
			}
			if mine {
				best = cm
			}
		}
		page = resp.NextPage
	}
	if best == nil {
		return 0, false, nil
	}
	return best.ID, true, nil
}

// issueComment is what FindComment reads of an issue comment.
type issueComment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"user"`
	PerformedViaGitHubApp *struct {
		ID int64 `json:"id"`
	} `json:"performed_via_github_app"`
}

// byThisApp reports whether this app wrote the comment.
func (g *RunsGitHub) byThisApp(ctx context.Context, cm *issueComment) (bool, error) {
	if app := cm.PerformedViaGitHubApp; app != nil {
		return app.ID == g.clients.AppID(), nil
	}
	if cm.User.Type != "Bot" {
		return false, nil
	}
	slug, err := g.appSlug(ctx)
	if err != nil {
		return false, err
	}
	return strings.EqualFold(cm.User.Login, slug+"[bot]"), nil
}

// appSlug is the app's slug, read from GitHub once.
func (g *RunsGitHub) appSlug(ctx context.Context) (string, error) {
	g.slugMu.Lock()
	defer g.slugMu.Unlock()
	if g.slug != "" {
		return g.slug, nil
	}
	c, err := g.clients.App()
	if err != nil {
		return "", fmt.Errorf("read the app's slug: %w", err)
	}
	app, _, err := c.Apps.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("read the app's slug: %w", err)
	}
	if app.GetSlug() == "" {
		return "", fmt.Errorf("read the app's slug: GitHub gave none for app %d", g.clients.AppID())
	}
	g.slug = app.GetSlug()
	return g.slug, nil
}

// RemoveLabel takes a label off an issue or pull request; GitHub's 404 for
// a label that is not there is success.
func (g *RunsGitHub) RemoveLabel(ctx context.Context, repo checks.Repo, number int, label string) error {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return fmt.Errorf("remove label %q from %s#%d: %w", label, repo.FullName(), number, err)
	}
	// go-github's RemoveLabelForIssue does not escape the name, and labels
	// may hold spaces, slashes and colons.
	u := fmt.Sprintf("repos/%s/%s/issues/%d/labels/%s", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), number, url.PathEscape(label))
	req, err := c.NewRequest(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return fmt.Errorf("remove label %q from %s#%d: %w", label, repo.FullName(), number, err)
	}
	resp, err := c.Do(req, nil)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return nil
		}
		return fmt.Errorf("remove label %q from %s#%d: %w", label, repo.FullName(), number, err)
	}
	return nil
}
