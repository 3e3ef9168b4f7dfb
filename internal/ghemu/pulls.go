package ghemu

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// OpenPR opens a pull request from head into base by user and sends
// pull_request opened. head is a branch of this repository, or
// "owner:branch" for a branch of owner's fork (see Fork). It returns the
// pull request's number and head SHA.
func (r *Repo) OpenPR(head, base, title, user string) (number int, headSHA string) {
	e := r.e
	e.mu.Lock()
	rp := r.repoLocked()
	headRepo, headRef := rp, head
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		headRef = branch
		headRepo, ok = e.st.repos[repoKey(owner+"/"+rp.name)]
		if !ok {
			e.mu.Unlock()
			panic(fmt.Sprintf("ghemu: OpenPR: no fork %s/%s (make it with Fork)", owner, rp.name))
		}
	}
	if headRepo.branches[headRef] == "" || rp.branches[base] == "" {
		e.mu.Unlock()
		panic(fmt.Sprintf("ghemu: OpenPR %s: head %q or base %q is not a branch (Commit to it first)", rp.fullName(), head, base))
	}
	rp.nextNumber++
	e.st.nextPullID++
	now := e.timestamp()
	p := &pull{
		id: e.st.nextPullID, number: rp.nextNumber, title: title, user: user, state: "open",
		headRepo: headRepo, headRef: headRef, baseRef: base, createdAt: now, updatedAt: now,
	}
	rp.pulls[p.number] = p
	out := e.pullRequestEventLocked(rp, p, "opened", user, nil)
	e.changedLocked()
	e.mu.Unlock()
	e.deliverAll([]outgoing{out})
	return p.number, p.headSHA()
}

// ClosePR closes a pull request and sends pull_request closed.
func (r *Repo) ClosePR(number int, user string) { r.setPullState(number, "closed", user) }

// ReopenPR reopens a pull request and sends pull_request reopened.
func (r *Repo) ReopenPR(number int, user string) { r.setPullState(number, "open", user) }

func (r *Repo) setPullState(number int, st, user string) {
	e := r.e
	e.mu.Lock()
	rp := r.repoLocked()
	p, ok := rp.pulls[number]
	if !ok {
		e.mu.Unlock()
		panic(fmt.Sprintf("ghemu: no pull request %s#%d", rp.fullName(), number))
	}
	p.state, p.updatedAt = st, e.timestamp()
	action := "reopened"
	if st == "closed" {
		action, p.closedAt = "closed", p.updatedAt
	}
	out := e.pullRequestEventLocked(rp, p, action, user, nil)
	e.changedLocked()
	e.mu.Unlock()
	e.deliverAll([]outgoing{out})
}

// LabelPR is user adding label to pull request number: GitHub sends
// pull_request labeled.
func (r *Repo) LabelPR(number int, label, user string) {
	e := r.e
	e.mu.Lock()
	rp := r.repoLocked()
	p, ok := rp.pulls[number]
	if !ok {
		e.mu.Unlock()
		panic(fmt.Sprintf("ghemu: no pull request %s#%d", rp.fullName(), number))
	}
	if !slices.Contains(p.labels, label) {
		p.labels = append(p.labels, label)
	}
	p.updatedAt = e.timestamp()
	out := e.pullRequestEventLocked(rp, p, "labeled", user, obj{"label": e.labelJSON(rp, label)})
	e.changedLocked()
	e.mu.Unlock()
	e.deliverAll([]outgoing{out})
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

// getPull serves GET /repos/{owner}/{repo}/pulls/{pull_number}.
func getPull(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	n, _ := strconv.Atoi(c.param("pull_number"))
	p, ok := r.pulls[n]
	if !ok {
		return notFound()
	}
	return jsonReply(http.StatusOK, e.pullJSON(r, p))
}
