package ghemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// reaction is an emoji reaction to a comment.
type reaction struct {
	id      int64
	user    string
	content string // +1, -1, laugh, confused, heart, hooray, rocket, eyes
	at      time.Time
}

// reactionContents are the reactions GitHub offers, in its order.
var reactionContents = []string{"+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"}

// Reactions returns the contents of the reactions to comment id ("eyes",
// "confused", ...), oldest first.
func (r *Repo) Reactions(commentID int64) []string {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.st.comments[commentID]
	if !ok || c.repo != r.repoLocked() {
		return nil
	}
	var out []string
	for _, re := range c.reactions {
		out = append(out, re.content)
	}
	return out
}

// React is user reacting to comment id with content. Nothing is sent:
// GitHub has no webhook for reactions.
func (r *Repo) React(commentID int64, user, content string) {
	if !slices.Contains(reactionContents, content) {
		panic(fmt.Sprintf("ghemu: React: %q is not one of %v", content, reactionContents))
	}
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	c, _, _ := r.mustCommentLocked(commentID)
	e.knowLocked(user)
	e.reactLocked(c, user, content)
	e.changedLocked()
}

// reactLocked adds a reaction unless the user reacted so already; it
// returns the reaction and whether it is new.
func (e *Emulator) reactLocked(c *comment, user, content string) (reaction, bool) {
	for _, re := range c.reactions {
		if re.user == user && re.content == content {
			return re, false
		}
	}
	e.st.nextReactionID++
	re := reaction{id: e.st.nextReactionID, user: user, content: content, at: e.timestamp()}
	c.reactions = append(c.reactions, re)
	return re, true
}

func (e *Emulator) reactionJSON(re reaction) obj {
	return obj{
		"id": re.id, "node_id": nodeID("Reaction", re.id), "user": e.userJSON(re.user), "content": re.content,
		"created_at": ts(re.at),
	}
}

// reactionRollup is the "reactions" summary of a comment or issue.
func reactionRollup(url string, reactions []reaction) obj {
	o := obj{"url": url, "total_count": len(reactions)}
	for _, c := range reactionContents {
		o[c] = 0
	}
	for _, re := range reactions {
		o[re.content] = o[re.content].(int) + 1
	}
	return o
}

// createCommentReaction serves
// POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions:
// 201 for a new reaction, 200 with the existing one if the app reacted so
// already.
func createCommentReaction(e *Emulator, c *call) reply {
	cm, rep, ok := e.commentForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	re, created := e.reactLocked(cm, AppLogin, in.Content)
	if !created {
		return jsonReply(http.StatusOK, e.reactionJSON(re))
	}
	e.changedLocked()
	return jsonReply(http.StatusCreated, e.reactionJSON(re))
}

// listCommentReactions serves
// GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions.
func listCommentReactions(e *Emulator, c *call) reply {
	cm, rep, ok := e.commentForCallLocked(c, false)
	if !ok {
		return rep
	}
	all := cm.reactions
	if content := c.query("content"); content != "" {
		all = slices.DeleteFunc(slices.Clone(all), func(re reaction) bool { return re.content != content })
	}
	out, link := pageOf(e, c, all, e.reactionJSON)
	return reply{status: http.StatusOK, body: out, header: link}
}

// deleteCommentReaction serves
// DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}.
func deleteCommentReaction(e *Emulator, c *call) reply {
	cm, rep, ok := e.commentForCallLocked(c, true)
	if !ok {
		return rep
	}
	id, _ := strconv.ParseInt(c.param("reaction_id"), 10, 64)
	i := slices.IndexFunc(cm.reactions, func(re reaction) bool { return re.id == id })
	if i < 0 {
		return notFound()
	}
	if cm.reactions[i].user != AppLogin {
		return errorReply(http.StatusForbidden, "Resource not accessible by integration")
	}
	cm.reactions = slices.Delete(cm.reactions, i, i+1)
	e.changedLocked()
	return reply{status: http.StatusNoContent}
}
