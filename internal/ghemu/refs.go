package ghemu

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"
)

// zeroSHA is the "before" of a branch that did not exist.
var zeroSHA = strings.Repeat("0", 40)

// movedLocked is what GitHub sends when branch of rp moved from before
// ("" for a new branch) to after: pull_request synchronize for every open
// pull request whose head is that branch, then, if after is new code in
// the repository, check_suite requested. sender "" means the author of
// each pull request (and then the first of them, or the owner, for the
// suite), as when a person pushes. Call it before moving the branch.
func (e *Emulator) movedLocked(rp *repo, branch, before, after, sender string) []outgoing {
	newCode := !e.reachableLocked(rp, after)
	rp.branches[branch] = after
	rp.pushedAt = e.timestamp()
	if before == "" {
		before = zeroSHA
	}
	var out []outgoing
	suiteSender := sender
	for _, base := range e.reposLocked() {
		for _, p := range sortedPulls(base) {
			if p.state != "open" || p.headRepo != rp || p.headRef != branch {
				continue
			}
			who := sender
			if who == "" {
				who = p.user
			}
			suiteSender = cmp.Or(suiteSender, who)
			p.updatedAt = rp.pushedAt
			out = append(out, e.pullRequestEventLocked(base, p, "synchronize", who, obj{"before": before, "after": after}))
		}
	}
	if !newCode {
		return out
	}
	suite := e.suiteLocked(rp, after)
	suite.headRef, suite.before = branch, before
	return append(out, e.checkSuiteEventLocked(suite, "requested", cmp.Or(suiteSender, rp.owner)))
}

// reachableLocked reports whether sha is on some branch of r.
func (e *Emulator) reachableLocked(r *repo, sha string) bool {
	for _, head := range r.branches {
		if e.isAncestorLocked(sha, head) {
			return true
		}
	}
	return false
}

// branchOfRef is the branch a ref names ("heads/x", "refs/heads/x"), or
// "" if it names something else.
func branchOfRef(ref string) string {
	b, ok := strings.CutPrefix(strings.TrimPrefix(ref, "refs/"), "heads/")
	if !ok {
		return ""
	}
	return b
}

func (e *Emulator) refJSON(r *repo, branch string) obj {
	sha := r.branches[branch]
	return obj{
		"ref": "refs/heads/" + branch, "node_id": gitNodeID("Ref", r, "refs/heads/"+branch),
		"url":    e.url + "/repos/" + r.fullName() + "/git/refs/heads/" + branch,
		"object": obj{"type": "commit", "sha": sha, "url": e.gitURL(r, "commits", sha)},
	}
}

// getRef serves GET /repos/{owner}/{repo}/git/ref/{ref} for branches
// ("heads/main").
func getRef(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	branch := branchOfRef(c.param("ref"))
	if _, ok := r.branches[branch]; !ok || branch == "" {
		return notFound()
	}
	return jsonReply(http.StatusOK, e.refJSON(r, branch))
}

// createRef serves POST /repos/{owner}/{repo}/git/refs for branches
// ("refs/heads/x"). A new branch is a push: see movedLocked.
func createRef(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	if !strings.HasPrefix(in.Ref, "refs/") || strings.Count(in.Ref, "/") < 2 {
		return c.ruleBroken("ref %q must start with 'refs' and have at least two slashes (refs/heads/NAME)", in.Ref)
	}
	branch := branchOfRef(in.Ref)
	if branch == "" {
		return c.unsupported("references other than branches (refs/heads/...)")
	}
	if _, exists := r.branches[branch]; exists {
		return errorReply(http.StatusUnprocessableEntity, "Reference already exists")
	}
	sha := strings.ToLower(in.SHA)
	if _, ok := e.st.commits[sha]; !ok {
		return errorReply(http.StatusUnprocessableEntity, "Object does not exist")
	}
	events := e.movedLocked(r, branch, "", sha, AppLogin)
	e.changedLocked()
	o := e.refJSON(r, branch)
	return reply{status: http.StatusCreated, body: o, header: http.Header{"Location": {o["url"].(string)}}, events: events}
}

// updateRef serves PATCH /repos/{owner}/{repo}/git/refs/{ref} for
// branches: a fast-forward, or with force anything. It is a push: see
// movedLocked.
func updateRef(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	branch := branchOfRef(c.param("ref"))
	before, exists := r.branches[branch]
	if branch == "" || !exists {
		return errorReply(http.StatusUnprocessableEntity, "Reference does not exist")
	}
	sha := strings.ToLower(in.SHA)
	if _, ok := e.st.commits[sha]; !ok {
		return errorReply(http.StatusUnprocessableEntity, "Object does not exist")
	}
	if !in.Force && !e.isAncestorLocked(before, sha) {
		return errorReply(http.StatusUnprocessableEntity, "Update is not a fast forward")
	}
	var events []outgoing
	if sha != before {
		events = e.movedLocked(r, branch, before, sha, AppLogin)
		e.changedLocked()
	}
	return reply{status: http.StatusOK, body: e.refJSON(r, branch), events: events}
}
