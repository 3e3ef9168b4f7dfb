package ghemu

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
)

// putContents serves PUT /repos/{owner}/{repo}/contents/{path}: a commit
// of one file onto a branch, which is a push (see movedLocked). Replacing
// a file needs its blob SHA, as on GitHub.
func putContents(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		Message   string    `json:"message"`
		Content   string    `json:"content"`
		SHA       string    `json:"sha"`
		Branch    string    `json:"branch"`
		Author    *identity `json:"author"`
		Committer *identity `json:"committer"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	p := strings.Trim(c.param("path"), "/")
	if p == "" {
		return c.ruleBroken("path cannot be blank")
	}
	content, err := decodeBase64(in.Content)
	if err != nil {
		return c.ruleBroken("content is not valid Base64")
	}
	branch := cmp.Or(in.Branch, r.defaultBranch)
	before, ok := r.branches[branch]
	if !ok {
		return errorReply(http.StatusNotFound, "Branch "+branch+" not found")
	}
	head := e.st.commits[before]
	old, exists := head.tree[p]
	switch {
	case exists && in.SHA == "":
		return errorReply(http.StatusUnprocessableEntity, `Invalid request.`+"\n\n"+`"sha" wasn't supplied.`)
	case exists && !strings.EqualFold(in.SHA, blobSHA(old)):
		return errorReply(http.StatusConflict, p+" does not match "+in.SHA)
	}
	tree := maps.Clone(head.tree)
	tree[p] = content
	author := e.signatureOf(in.Author, e.appSignature())
	committer := e.signatureOf(in.Committer, author)
	cm := e.storeAPICommitLocked(tree, []string{before}, in.Message, author, committer)
	events := e.movedLocked(r, branch, before, cm.sha, AppLogin)
	e.changedLocked()
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	file := e.fileJSON(r, cm, p, content)
	delete(file, "content")
	delete(file, "encoding")
	return reply{status: status, body: obj{"content": file, "commit": e.gitCommitJSON(r, cm)}, events: events}
}
