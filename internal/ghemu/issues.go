package ghemu

import (
	"fmt"
	"strconv"
)

// OpenIssue opens a plain issue (not a pull request) by user and returns
// its number. Issues and pull requests share numbers, labels and
// comments, as on GitHub. Nothing is sent: the app does not subscribe to
// issues events.
func (r *Repo) OpenIssue(title, user string) (number int) {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := r.repoLocked()
	e.knowLocked(user)
	is := e.newIssueLocked(rp, title, user)
	rp.issues[is.number] = &is
	e.changedLocked()
	return is.number
}

// newIssueLocked takes the next number of r.
func (e *Emulator) newIssueLocked(r *repo, title, user string) issue {
	r.nextNumber++
	e.st.nextIssueID++
	now := e.timestamp()
	return issue{
		issueID: e.st.nextIssueID, number: r.nextNumber, title: title, user: user, state: "open",
		createdAt: now, updatedAt: now,
	}
}

// threadLocked finds issue or pull request number of r; p is nil for a
// plain issue, and both are nil if there is neither.
func threadLocked(r *repo, number int) (*issue, *pull) {
	if p, ok := r.pulls[number]; ok {
		return &p.issue, p
	}
	if is, ok := r.issues[number]; ok {
		return is, nil
	}
	return nil, nil
}

// mustThreadLocked is threadLocked for helpers: a missing number is a bug
// of the test.
func (r *Repo) mustThreadLocked(number int) (*repo, *issue, *pull) {
	rp := r.repoLocked()
	is, p := threadLocked(rp, number)
	if is == nil {
		panic(fmt.Sprintf("ghemu: no issue or pull request %s#%d", rp.fullName(), number))
	}
	return rp, is, p
}

// issueJSON is the "issue" object of issue_comment webhooks; a pull
// request's has pull_request set.
func (e *Emulator) issueJSON(r *repo, is *issue, p *pull) obj {
	api := e.url + "/repos/" + r.fullName()
	n := strconv.Itoa(is.number)
	html := htmlBase + "/" + r.fullName() + "/issues/" + n
	labels := []obj{}
	for _, l := range is.labels {
		labels = append(labels, e.labelJSON(r, l))
	}
	comments := 0
	for _, c := range e.st.comments {
		if c.repo == r && c.number == is.number {
			comments++
		}
	}
	o := obj{
		"url": api + "/issues/" + n, "repository_url": api, "labels_url": api + "/issues/" + n + "/labels{/name}",
		"comments_url": api + "/issues/" + n + "/comments", "events_url": api + "/issues/" + n + "/events",
		"timeline_url": api + "/issues/" + n + "/timeline",
		"html_url":     html, "id": is.issueID, "node_id": nodeID("Issue", is.issueID), "number": is.number,
		"title": is.title, "user": e.userJSON(is.user), "labels": labels, "state": is.state, "locked": false,
		"assignee": nil, "assignees": []obj{}, "milestone": nil, "comments": comments,
		"created_at": ts(is.createdAt), "updated_at": ts(is.updatedAt), "closed_at": ts(is.closedAt),
		"author_association": association(r, is.user), "active_lock_reason": nil, "body": orNull(is.body),
		"reactions": reactionRollup(api+"/issues/"+n+"/reactions", nil), "performed_via_github_app": nil,
		"state_reason": nil,
	}
	if p != nil {
		pulls := htmlBase + "/" + r.fullName() + "/pull/" + n
		o["html_url"], o["draft"] = pulls, p.draft
		o["pull_request"] = obj{
			"url": api + "/pulls/" + n, "html_url": pulls, "diff_url": pulls + ".diff", "patch_url": pulls + ".patch",
			"merged_at": nil,
		}
	}
	return o
}
