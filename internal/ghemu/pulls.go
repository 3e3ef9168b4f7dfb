package ghemu

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OpenPR opens a pull request from head into base by user and sends
// pull_request opened. head is a branch of this repository, or
// "owner:branch" for a branch of owner's fork (see Fork). It returns the
// pull request's number and head SHA.
func (r *Repo) OpenPR(head, base, title, user string) (number int, headSHA string) {
	e := r.e
	e.act(func() []outgoing {
		rp := r.repoLocked()
		headRepo, headRef, ok := e.headLocked(rp, head)
		if !ok {
			panic(fmt.Sprintf("ghemu: OpenPR: no fork %s/%s (make it with Fork)", strings.Split(head, ":")[0], rp.name))
		}
		if headRepo.branches[headRef] == "" || rp.branches[base] == "" {
			panic(fmt.Sprintf("ghemu: OpenPR %s: head %q or base %q is not a branch (Commit to it first)", rp.fullName(), head, base))
		}
		p := e.openPullLocked(rp, headRepo, headRef, base, title, "", user, false)
		number, headSHA = p.number, p.headSHA()
		return []outgoing{e.pullRequestEventLocked(rp, p, "opened", user, nil)}
	})
	return number, headSHA
}

// headLocked reads a pull request's head: "branch" of base itself, or
// "owner:branch" of owner's repository of the same name (base's owner or
// a fork).
func (e *Emulator) headLocked(base *repo, head string) (*repo, string, bool) {
	owner, branch, ok := strings.Cut(head, ":")
	if !ok {
		return base, head, true
	}
	r, ok := e.st.repos[repoKey(owner+"/"+base.name)]
	return r, branch, ok
}

func (e *Emulator) openPullLocked(base, headRepo *repo, headRef, baseRef, title, body, user string, draft bool) *pull {
	e.knowLocked(user)
	e.st.nextPullID++
	mergeable := true
	p := &pull{
		issue: e.newIssueLocked(base, title, user), id: e.st.nextPullID,
		headRepo: headRepo, headRef: headRef, baseRef: baseRef, draft: draft, mergeable: &mergeable,
	}
	p.body = body
	base.pulls[p.number] = p
	return p
}

// ClosePR closes a pull request and sends pull_request closed.
func (r *Repo) ClosePR(number int, user string) { r.setPullState(number, "closed", user) }

// ReopenPR reopens a pull request and sends pull_request reopened.
func (r *Repo) ReopenPR(number int, user string) { r.setPullState(number, "open", user) }

func (r *Repo) setPullState(number int, state, user string) {
	e := r.e
	e.act(func() []outgoing {
		rp, p := r.pullLocked(number)
		return []outgoing{e.setPullStateLocked(rp, p, state, user)}
	})
}

// setPullStateLocked closes or reopens a pull request of base and returns
// the pull_request closed or reopened that GitHub sends for it.
func (e *Emulator) setPullStateLocked(base *repo, p *pull, state, user string) outgoing {
	p.state, p.updatedAt = state, e.timestamp()
	action := "reopened"
	p.closedAt = time.Time{} // a reopened pull request shows closed_at null
	if state == "closed" {
		action, p.closedAt = "closed", p.updatedAt
	}
	return e.pullRequestEventLocked(base, p, action, user, nil)
}

func (r *Repo) pullLocked(number int) (*repo, *pull) {
	rp := r.repoLocked()
	p, ok := rp.pulls[number]
	if !ok {
		panic(fmt.Sprintf("ghemu: no pull request %s#%d", rp.fullName(), number))
	}
	return rp, p
}

// PullRequest returns a snapshot of pull request number.
func (r *Repo) PullRequest(number int) (PullRequest, bool) {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := r.repoLocked()
	p, ok := rp.pulls[number]
	if !ok {
		return PullRequest{}, false
	}
	return e.pullSnapshot(rp, p), true
}

func sortedPulls(r *repo) []*pull {
	out := slices.Collect(maps.Values(r.pulls))
	slices.SortFunc(out, func(a, b *pull) int { return cmp.Compare(a.number, b.number) })
	return out
}

// SetMergeable sets what GitHub computed about merging pull request
// number into its base: true ("clean") or false ("dirty", a conflict).
// Pull requests start mergeable.
func (r *Repo) SetMergeable(number int, mergeable bool) {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	_, p := r.pullLocked(number)
	p.mergeable, p.mergeablePending = &mergeable, 0
	e.changedLocked()
}

// MergeableUnknown makes the next answers requests for pull request number
// report mergeable null, as GitHub does while it computes mergeability in
// the background; later ones report what SetMergeable set.
func (r *Repo) MergeableUnknown(number, answers int) {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	_, p := r.pullLocked(number)
	p.mergeablePending = answers
	e.changedLocked()
}

// pullForCallLocked finds {pull_number} of the request's repository.
func (e *Emulator) pullForCallLocked(c *call, write bool) (*repo, *pull, reply, bool) {
	r, rep, ok := e.repoForCallLocked(c, write)
	if !ok {
		return nil, nil, rep, false
	}
	n, _ := strconv.Atoi(c.param("pull_number"))
	p, ok := r.pulls[n]
	if !ok {
		return nil, nil, notFound(), false
	}
	return r, p, reply{}, true
}

// getPull serves GET /repos/{owner}/{repo}/pulls/{pull_number}.
func getPull(e *Emulator, c *call) reply {
	r, p, rep, ok := e.pullForCallLocked(c, false)
	if !ok {
		return rep
	}
	o := e.pullJSON(r, p)
	if p.mergeablePending > 0 {
		p.mergeablePending--
		o["mergeable"], o["rebaseable"], o["mergeable_state"] = nil, nil, "unknown"
		e.changedLocked()
	}
	return jsonReply(http.StatusOK, o)
}

// createPull serves POST /repos/{owner}/{repo}/pulls.
func createPull(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
		Draft bool   `json:"draft"`
		Issue *int64 `json:"issue"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	if in.Issue != nil {
		return c.unsupported("turning an issue into a pull request (issue)")
	}
	if strings.TrimSpace(in.Title) == "" {
		return validationFailed("Issue", "title", "missing_field", "")
	}
	headRepo, headRef, ok := e.headLocked(r, in.Head)
	if !ok || headRepo.branches[headRef] == "" {
		return validationFailed("PullRequest", "head", "invalid", "")
	}
	if r.branches[in.Base] == "" {
		return validationFailed("PullRequest", "base", "invalid", "")
	}
	for _, p := range sortedPulls(r) {
		if p.state == "open" && p.headRepo == headRepo && p.headRef == headRef && p.baseRef == in.Base {
			return validationFailed("PullRequest", "", "custom",
				fmt.Sprintf("A pull request already exists for %s:%s.", headRepo.owner, headRef))
		}
	}
	if e.isAncestorLocked(headRepo.branches[headRef], r.branches[in.Base]) {
		return validationFailed("PullRequest", "", "custom", fmt.Sprintf("No commits between %s and %s", in.Base, in.Head))
	}
	p := e.openPullLocked(r, headRepo, headRef, in.Base, in.Title, in.Body, AppLogin, in.Draft)
	e.changedLocked()
	o := e.pullJSON(r, p)
	return reply{
		status: http.StatusCreated, body: o, header: http.Header{"Location": {o["url"].(string)}},
		events: []outgoing{e.pullRequestEventLocked(r, p, "opened", AppLogin, nil)},
	}
}

// updatePull serves PATCH /repos/{owner}/{repo}/pulls/{pull_number}: a new
// title or body (pull_request edited, with what changed), closing (closed)
// or reopening (reopened). As on GitHub, what is already so changes
// nothing and sends nothing: closing a closed pull request is a 200.
func updatePull(e *Emulator, c *call) reply {
	r, p, rep, ok := e.pullForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		Title               *string `json:"title"`
		Body                *string `json:"body"`
		State               *string `json:"state"`
		Base                *string `json:"base"`
		MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	switch {
	case in.Base != nil && *in.Base != p.baseRef:
		return c.unsupported("changing the base of a pull request")
	case in.MaintainerCanModify != nil:
		return c.unsupported("maintainer_can_modify")
	case in.Title != nil && strings.TrimSpace(*in.Title) == "":
		return validationFailed("Issue", "title", "missing_field", "")
	}
	if in.State != nil && *in.State == "open" && p.state != "open" {
		for _, other := range sortedPulls(r) {
			if other != p && other.state == "open" && other.headRepo == p.headRepo && other.headRef == p.headRef && other.baseRef == p.baseRef {
				return validationFailed("PullRequest", "", "custom",
					fmt.Sprintf("A pull request already exists for %s:%s.", p.headRepo.owner, p.headRef))
			}
		}
	}
	changes := obj{}
	if in.Title != nil && *in.Title != p.title {
		changes["title"] = obj{"from": p.title}
		p.title = *in.Title
	}
	if in.Body != nil && *in.Body != p.body {
		changes["body"] = obj{"from": p.body}
		p.body = *in.Body
	}
	var events []outgoing
	if len(changes) > 0 {
		p.updatedAt = e.timestamp()
		events = append(events, e.pullRequestEventLocked(r, p, "edited", AppLogin, obj{"changes": changes}))
	}
	if in.State != nil && *in.State != p.state {
		events = append(events, e.setPullStateLocked(r, p, *in.State, AppLogin))
	}
	if len(events) > 0 {
		e.changedLocked()
	}
	return reply{status: http.StatusOK, body: e.pullJSON(r, p), events: events}
}

// listPulls serves GET /repos/{owner}/{repo}/pulls.
func listPulls(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	state := cmp.Or(c.query("state"), "open")
	var headRepo *repo
	var headRef string
	if head := c.query("head"); head != "" {
		owner, branch, ok := strings.Cut(head, ":")
		if !ok {
			return c.ruleBroken("head %q is not of the form user:ref-name", head)
		}
		headRepo, headRef = e.st.repos[repoKey(owner+"/"+r.name)], branch
		if headRepo == nil {
			return jsonReply(http.StatusOK, []obj{})
		}
	}
	base := c.query("base")
	var pulls []*pull
	for _, p := range sortedPulls(r) {
		if (state != "all" && p.state != state) || (headRepo != nil && (p.headRepo != headRepo || p.headRef != headRef)) ||
			(base != "" && p.baseRef != base) {
			continue
		}
		pulls = append(pulls, p)
	}
	sortBy := cmp.Or(c.query("sort"), "created")
	if sortBy == "updated" {
		slices.SortStableFunc(pulls, func(a, b *pull) int { return a.updatedAt.Compare(b.updatedAt) })
	}
	if dir := c.query("direction"); dir == "desc" || (dir == "" && sortBy == "created") {
		slices.Reverse(pulls)
	}
	out, link := pageOf(e, c, pulls, func(p *pull) obj { return e.pullJSON(r, p) })
	return reply{status: http.StatusOK, body: out, header: link}
}
