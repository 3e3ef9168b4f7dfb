package ghemu

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// comment is a comment on an issue or pull request (the conversation, not
// a review comment on a line).
type comment struct {
	id        int64
	repo      *repo
	number    int
	user      string
	body      string
	viaApp    bool // posted by the app through the REST API
	createdAt time.Time
	updatedAt time.Time
	edits     int
	reactions []reaction
}

// Comment is a snapshot of a comment on an issue or pull request.
type Comment struct {
	ID        int64
	Number    int // of the issue or pull request
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Edits     int // times the body was changed
}

func (c *comment) snapshot() Comment {
	return Comment{
		ID: c.id, Number: c.number, User: c.user, Body: c.body, CreatedAt: c.createdAt, UpdatedAt: c.updatedAt,
		Edits: c.edits,
	}
}

// GitHub's limit on a comment's body.
const maxCommentChars = 65536

// Comment is user commenting on issue or pull request number: GitHub sends
// issue_comment created. A login ending in "[bot]" comments as a Bot
// ("dependabot[bot]"). It returns the comment's ID.
func (r *Repo) Comment(number int, user, body string) (commentID int64) {
	e := r.e
	e.act(func() []outgoing {
		rp, is, p := r.mustThreadLocked(number)
		c := e.addCommentLocked(rp, is, user, body, false)
		commentID = c.id
		return []outgoing{e.issueCommentEventLocked(c, is, p, "created", user, nil)}
	})
	return commentID
}

// BotComment is the Bot account app+"[bot]" (say "dependabot") commenting
// on issue or pull request number: GitHub sends issue_comment created with
// a user of type Bot. It returns the comment's ID.
func (r *Repo) BotComment(number int, app, body string) (commentID int64) {
	return r.Comment(number, app+"[bot]", body)
}

// EditComment is user changing the body of comment id: GitHub sends
// issue_comment edited with the previous body in changes.
func (r *Repo) EditComment(id int64, user, body string) {
	e := r.e
	e.act(func() []outgoing {
		c, is, p := r.mustCommentLocked(id)
		from := e.editCommentLocked(c, body)
		return []outgoing{e.issueCommentEventLocked(c, is, p, "edited", user, obj{"changes": obj{"body": obj{"from": from}}})}
	})
}

// DeleteComment is user deleting comment id: GitHub sends issue_comment
// deleted.
func (r *Repo) DeleteComment(id int64, user string) {
	e := r.e
	e.act(func() []outgoing {
		c, is, p := r.mustCommentLocked(id)
		delete(e.st.comments, c.id)
		return []outgoing{e.issueCommentEventLocked(c, is, p, "deleted", user, nil)}
	})
}

// Comments returns the comments on issue or pull request number, oldest
// first.
func (r *Repo) Comments(number int) []Comment {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Comment
	for _, c := range e.commentsLocked(r.repoLocked(), number) {
		out = append(out, c.snapshot())
	}
	return out
}

// WaitComment waits until a comment on issue or pull request number
// satisfies match (evaluated on every comment, oldest first, after every
// change) and returns it.
func (r *Repo) WaitComment(ctx context.Context, number int, match func(Comment) bool) (Comment, error) {
	var got Comment
	err := r.e.WaitFor(ctx, func() bool {
		for _, c := range r.Comments(number) {
			if match(c) {
				got = c
				return true
			}
		}
		return false
	})
	if err != nil {
		return got, fmt.Errorf("no matching comment on %s#%d (comments: %+v): %w", r.FullName(), number, r.Comments(number), err)
	}
	return got, nil
}

func (r *Repo) mustCommentLocked(id int64) (*comment, *issue, *pull) {
	rp := r.repoLocked()
	c, ok := r.e.st.comments[id]
	if !ok || c.repo != rp {
		panic(fmt.Sprintf("ghemu: no comment %d in %s", id, rp.fullName()))
	}
	is, p := threadLocked(rp, c.number)
	return c, is, p
}

func (e *Emulator) addCommentLocked(r *repo, is *issue, user, body string, viaApp bool) *comment {
	e.knowLocked(user)
	e.st.nextCommentID++
	now := e.timestamp()
	c := &comment{id: e.st.nextCommentID, repo: r, number: is.number, user: user, body: body, viaApp: viaApp, createdAt: now, updatedAt: now}
	e.st.comments[c.id] = c
	is.updatedAt = now
	return c
}

// editCommentLocked changes the body and returns the previous one.
func (e *Emulator) editCommentLocked(c *comment, body string) string {
	from := c.body
	if body != from {
		c.edits++
	}
	c.body, c.updatedAt = body, e.timestamp()
	return from
}

// commentsLocked lists the comments on number of r, oldest first.
func (e *Emulator) commentsLocked(r *repo, number int) []*comment {
	var out []*comment
	for _, c := range e.st.comments {
		if c.repo == r && c.number == number {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *comment) int { return cmp.Compare(a.id, b.id) })
	return out
}

func (e *Emulator) issueCommentEventLocked(c *comment, is *issue, p *pull, action, sender string, extra obj) outgoing {
	fields := obj{"issue": e.issueJSON(c.repo, is, p), "comment": e.commentJSON(c)}
	for k, v := range extra {
		fields[k] = v
	}
	return e.eventLocked(c.repo, "issue_comment", action, sender, fields)
}

func (e *Emulator) commentJSON(c *comment) obj {
	api := fmt.Sprintf("%s/repos/%s/issues/comments/%d", e.url, c.repo.fullName(), c.id)
	kind := "issues"
	if _, ok := c.repo.pulls[c.number]; ok {
		kind = "pull"
	}
	var app any
	if c.viaApp {
		app = e.appJSON()
	}
	return obj{
		"id": c.id, "node_id": nodeID("IssueComment", c.id), "url": api,
		"html_url":  fmt.Sprintf("%s/%s/%s/%d#issuecomment-%d", htmlBase, c.repo.fullName(), kind, c.number, c.id),
		"issue_url": fmt.Sprintf("%s/repos/%s/issues/%d", e.url, c.repo.fullName(), c.number),
		"body":      c.body, "user": e.userJSON(c.user),
		"created_at": ts(c.createdAt), "updated_at": ts(c.updatedAt),
		"author_association": association(c.repo, c.user), "performed_via_github_app": app,
		"reactions": reactionRollup(api+"/reactions", c.reactions),
	}
}

// commentBody reads {"body": ...} and applies GitHub's rules on it.
func commentBody(c *call) (string, reply, bool) {
	var in struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return "", errorReply(http.StatusBadRequest, "Problems parsing JSON"), false
	}
	switch {
	case in.Body == "":
		return "", c.ruleBroken("body cannot be blank"), false
	case utf8.RuneCountInString(in.Body) > maxCommentChars:
		return "", c.ruleBroken("body is too long (maximum is %d characters)", maxCommentChars), false
	}
	return in.Body, reply{}, true
}

// commentForCallLocked finds {comment_id} in the request's repository.
func (e *Emulator) commentForCallLocked(c *call, write bool) (*comment, reply, bool) {
	r, rep, ok := e.repoForCallLocked(c, write)
	if !ok {
		return nil, rep, false
	}
	id, _ := strconv.ParseInt(c.param("comment_id"), 10, 64)
	cm, ok := e.st.comments[id]
	if !ok || cm.repo != r {
		return nil, notFound(), false
	}
	return cm, reply{}, true
}

// createComment serves POST /repos/{owner}/{repo}/issues/{issue_number}/comments.
func createComment(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	n, _ := strconv.Atoi(c.param("issue_number"))
	is, p := threadLocked(r, n)
	if is == nil {
		return notFound()
	}
	body, rep, ok := commentBody(c)
	if !ok {
		return rep
	}
	cm := e.addCommentLocked(r, is, AppLogin, body, true)
	e.changedLocked()
	o := e.commentJSON(cm)
	return reply{
		status: http.StatusCreated, body: o, header: http.Header{"Location": {o["url"].(string)}},
		events: []outgoing{e.issueCommentEventLocked(cm, is, p, "created", AppLogin, nil)},
	}
}

// listComments serves GET /repos/{owner}/{repo}/issues/{issue_number}/comments.
func listComments(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	n, _ := strconv.Atoi(c.param("issue_number"))
	if is, _ := threadLocked(r, n); is == nil {
		return notFound()
	}
	all := e.commentsLocked(r, n)
	if s := c.query("since"); s != "" {
		since, _ := time.Parse(time.RFC3339, s) // the description checked the format
		all = slices.DeleteFunc(all, func(cm *comment) bool { return cm.updatedAt.Before(since) })
	}
	out, link := pageOf(e, c, all, e.commentJSON)
	return reply{status: http.StatusOK, body: out, header: link}
}

// getComment serves GET /repos/{owner}/{repo}/issues/comments/{comment_id}.
func getComment(e *Emulator, c *call) reply {
	cm, rep, ok := e.commentForCallLocked(c, false)
	if !ok {
		return rep
	}
	return jsonReply(http.StatusOK, e.commentJSON(cm))
}

// updateComment serves PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}.
func updateComment(e *Emulator, c *call) reply {
	cm, rep, ok := e.commentForCallLocked(c, true)
	if !ok {
		return rep
	}
	body, rep, ok := commentBody(c)
	if !ok {
		return rep
	}
	from := e.editCommentLocked(cm, body)
	e.changedLocked()
	is, p := threadLocked(cm.repo, cm.number)
	rep = jsonReply(http.StatusOK, e.commentJSON(cm))
	if from != body { // an unchanged body is no edit
		rep.events = []outgoing{e.issueCommentEventLocked(cm, is, p, "edited", AppLogin, obj{"changes": obj{"body": obj{"from": from}}})}
	}
	return rep
}

// deleteComment serves DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}.
func deleteComment(e *Emulator, c *call) reply {
	cm, rep, ok := e.commentForCallLocked(c, true)
	if !ok {
		return rep
	}
	delete(e.st.comments, cm.id)
	e.changedLocked()
	is, p := threadLocked(cm.repo, cm.number)
	return reply{status: http.StatusNoContent, events: []outgoing{e.issueCommentEventLocked(cm, is, p, "deleted", AppLogin, nil)}}
}
