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
	e.act(func() []outgoing {
		rp := r.repoLocked()
		headRepo, headRef := rp, head
		if owner, branch, ok := strings.Cut(head, ":"); ok {
			headRef = branch
			if headRepo, ok = e.st.repos[repoKey(owner+"/"+rp.name)]; !ok {
				panic(fmt.Sprintf("ghemu: OpenPR: no fork %s/%s (make it with Fork)", owner, rp.name))
			}
		}
		if headRepo.branches[headRef] == "" || rp.branches[base] == "" {
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
		number, headSHA = p.number, p.headSHA()
		return []outgoing{e.pullRequestEventLocked(rp, p, "opened", user, nil)}
	})
	return number, headSHA
}

// ClosePR closes a pull request and sends pull_request closed.
func (r *Repo) ClosePR(number int, user string) { r.setPullState(number, "closed", user) }

// ReopenPR reopens a pull request and sends pull_request reopened.
func (r *Repo) ReopenPR(number int, user string) { r.setPullState(number, "open", user) }

func (r *Repo) setPullState(number int, state, user string) {
	e := r.e
	e.act(func() []outgoing {
		rp, p := r.pullLocked(number)
		p.state, p.updatedAt = state, e.timestamp()
		action := "reopened"
		if state == "closed" {
			action, p.closedAt = "closed", p.updatedAt
		}
		return []outgoing{e.pullRequestEventLocked(rp, p, action, user, nil)}
	})
}

// LabelPR is user adding label to pull request number: GitHub sends
// pull_request labeled.
func (r *Repo) LabelPR(number int, label, user string) {
	e := r.e
	e.act(func() []outgoing {
		rp, p := r.pullLocked(number)
		if !slices.Contains(p.labels, label) {
			p.labels = append(p.labels, label)
		}
		p.updatedAt = e.timestamp()
		return []outgoing{e.pullRequestEventLocked(rp, p, "labeled", user, obj{"label": e.labelJSON(rp, label)})}
	})
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
