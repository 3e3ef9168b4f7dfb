package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/app/commands"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/markdown"
)

// IssueCommentHandler reads the commands in new comments on pull requests
// and answers each: it reacts at once (👀 taken, 😕 refused) and replies
// where there is more to say than the check run and status comment show.
// Edited and deleted comments, comments by bots (this app among them) and
// comments on issues that are not pull requests are ignored.
type IssueCommentHandler struct {
	Runs     *Runs
	Releases *Releases // nil: /release and /withdraw are not offered
	GitHub   RunGitHub
	Replies  *Replies
}

func (h *IssueCommentHandler) Handles() []string { return []string{"issue_comment"} }

// commandResult is what became of one command of a comment.
type commandResult struct {
	refused bool
	reply   string
}

func (h *IssueCommentHandler) Handle(ctx context.Context, d inbox.Delivery) error {
	ev, err := parsePayload(d)
	if err != nil {
		return err
	}
	e := ev.(*github.IssueCommentEvent)
	c := e.GetComment()
	if e.GetAction() != "created" || !e.GetIssue().IsPullRequest() || isBot(e.GetSender()) || isBot(c.GetUser()) ||
		!mayHoldCommand(c.GetBody()) {
		return nil
	}
	cmds, errs := commands.Parse(c.GetBody())
	if len(cmds) == 0 && len(errs) == 0 {
		return nil
	}
	repo, err := repoOf(e.GetInstallation(), e.GetRepo())
	if err != nil {
		return err
	}
	pr, user := e.GetIssue().GetNumber(), c.GetUser().GetLogin()
	ctx = logging.Attrs(ctx, logging.KeyRepo, repo.FullName(), logging.KeyPR, pr, "comment", c.GetID(), "user", user)

	var sections []string
	refused, taken := len(errs) > 0, false
	if len(errs) > 0 {
		sections = append(sections, commands.Reply(errs))
	}
	for _, cmd := range cmds {
		res, err := h.command(ctx, repo, pr, c.GetID(), user, cmd)
		if err != nil {
			return fmt.Errorf("line %d (/%s): %w", cmd.Line, cmd.Name, err)
		}
		refused, taken = refused || res.refused, taken || !res.refused
		if res.reply != "" {
			if len(cmds)+len(errs) > 1 {
				res.reply = fmt.Sprintf("**%s**\n\n%s", markdown.Code(cmd.Raw, 80), res.reply)
			}
			sections = append(sections, res.reply)
		}
	}
	for _, r := range []struct {
		content string
		on      bool
	}{{"eyes", taken}, {"confused", refused}} {
		if r.on {
			if err := h.GitHub.React(ctx, repo, c.GetID(), r.content); err != nil {
				return err
			}
		}
	}
	if len(sections) == 0 {
		return nil
	}
	reply := fmt.Sprintf("@%s %s", user, strings.Join(sections, "\n\n---\n\n"))
	return h.Replies.Post(ctx, repo, pr, fmt.Sprintf("%s#%d/comment/%d", repo.FullName(), pr, c.GetID()), reply)
}

// command carries out one command line.
func (h *IssueCommentHandler) command(ctx context.Context, repo checks.Repo, pr int, commentID int64, user string, cmd commands.Parsed) (commandResult, error) {
	switch v := cmd.Command.(type) {
	case commands.Run:
		out, err := h.Runs.Start(ctx, RunAsk{Repo: repo, PR: pr, Requester: user, Run: v,
			Trigger: fmt.Sprintf("comment/%d/%d", commentID, cmd.Line)})
		return commandResult{refused: out.Verdict == Refused, reply: out.Reply}, err
	case commands.Cancel:
		out, err := h.Runs.Cancel(ctx, repo, pr, user, v.Actions)
		return commandResult{refused: out.Verdict == Refused, reply: out.Reply}, err
	case commands.Status:
		return commandResult{}, h.Runs.Status(ctx, repo, pr)
	case commands.Help:
		return commandResult{reply: commands.HelpText()}, nil
	case commands.Release:
		if h.Releases == nil {
			return commandResult{refused: true, reply: "Releases are not enabled on this bot.\n"}, nil
		}
		out, err := h.Releases.Ask(ctx, repo, pr, user, fmt.Sprintf("comment/%d/%d", commentID, cmd.Line), v)
		return commandResult{refused: out.Verdict == Refused, reply: out.Reply}, err
	case commands.Withdraw:
		if h.Releases == nil {
			return commandResult{refused: true, reply: "Releases are not enabled on this bot.\n"}, nil
		}
		out, err := h.Releases.Withdraw(ctx, repo, pr, user)
		return commandResult{refused: out.Verdict == Refused, reply: out.Reply}, err
	}
	return commandResult{refused: true, reply: fmt.Sprintf("`/%s` is not something I can do.\n", cmd.Name)}, nil
}

// mayHoldCommand is a cheap look for a line starting with "/", so that
// ordinary conversation costs no parsing.
func mayHoldCommand(body string) bool {
	for line := range strings.Lines(body) {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "/") {
			return true
		}
	}
	return false
}

// isBot reports whether a GitHub account is a bot (an app, this one among
// them): bots' comments and clicks are never commands.
func isBot(u *github.User) bool {
	return u.GetType() == "Bot" || strings.HasSuffix(u.GetLogin(), "[bot]")
}
