package ghemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// review is a submitted pull request review.
type review struct {
	id          int64
	user        string
	state       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	body        string
	commitID    string
	submittedAt time.Time
}

// Review is a snapshot of a pull request review.
type Review struct {
	ID          int64
	User        string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED
	Body        string
	CommitID    string // the head SHA the review was submitted on
	SubmittedAt time.Time
}

// Review is user submitting a review of pull request number on its current
// head: state is APPROVED, CHANGES_REQUESTED or COMMENTED. GitHub sends
// pull_request_review submitted, and the user's review request, if any,
// is fulfilled. It returns the review's ID. Like GitHub, it refuses
// (panics) an author approving or requesting changes on their own pull
// request, and a CHANGES_REQUESTED or COMMENTED review without a body.
func (r *Repo) Review(number int, user, state, body string) (reviewID int64) {
	switch state {
	case "APPROVED", "CHANGES_REQUESTED", "COMMENTED":
	default:
		panic(fmt.Sprintf("ghemu: Review: state %q is not APPROVED, CHANGES_REQUESTED or COMMENTED", state))
	}
	if state != "APPROVED" && body == "" {
		panic(fmt.Sprintf("ghemu: Review: GitHub requires a body for a %s review", state))
	}
	e := r.e
	e.act(func() []outgoing {
		rp, p := r.pullLocked(number)
		if state != "COMMENTED" && strings.EqualFold(user, p.user) {
			panic(fmt.Sprintf("ghemu: Review: %s cannot approve or request changes on their own pull request %s#%d", user, rp.fullName(), number))
		}
		e.knowLocked(user)
		e.st.nextReviewID++
		rv := &review{id: e.st.nextReviewID, user: user, state: state, body: body, commitID: p.headSHA(), submittedAt: e.timestamp()}
		p.reviews = append(p.reviews, rv)
		p.requestedReviewers = slices.DeleteFunc(p.requestedReviewers, func(u string) bool { return strings.EqualFold(u, user) })
		p.updatedAt = rv.submittedAt
		reviewID = rv.id
		return []outgoing{e.reviewEventLocked(rp, p, rv, "submitted", user)}
	})
	return reviewID
}

// DismissReview is user dismissing review id of pull request number: it
// becomes DISMISSED and GitHub sends pull_request_review dismissed. Only an
// approval or a request for changes can be dismissed.
func (r *Repo) DismissReview(number int, id int64, user string) {
	e := r.e
	e.act(func() []outgoing {
		rp, p := r.pullLocked(number)
		i := slices.IndexFunc(p.reviews, func(rv *review) bool { return rv.id == id })
		if i < 0 {
			panic(fmt.Sprintf("ghemu: DismissReview: no review %d on %s#%d", id, rp.fullName(), number))
		}
		rv := p.reviews[i]
		if rv.state != "APPROVED" && rv.state != "CHANGES_REQUESTED" {
			panic(fmt.Sprintf("ghemu: DismissReview: a %s review cannot be dismissed", rv.state))
		}
		e.knowLocked(user)
		rv.state = "DISMISSED"
		return []outgoing{e.reviewEventLocked(rp, p, rv, "dismissed", user)}
	})
}

// Reviews returns the reviews of pull request number, oldest first.
func (r *Repo) Reviews(number int) []Review {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	_, p := r.pullLocked(number)
	var out []Review
	for _, rv := range p.reviews {
		out = append(out, Review{ID: rv.id, User: rv.user, State: rv.state, Body: rv.body, CommitID: rv.commitID, SubmittedAt: rv.submittedAt})
	}
	return out
}

func (e *Emulator) reviewEventLocked(r *repo, p *pull, rv *review, action, sender string) outgoing {
	return e.eventLocked(r, "pull_request_review", action, sender, obj{
		"review": e.reviewJSON(r, p, rv, true), "pull_request": e.pullJSON(r, p),
	})
}

// reviewJSON is a review as the REST API shows it, or as webhooks do (a
// lower-case state, a null body when there is none).
func (e *Emulator) reviewJSON(r *repo, p *pull, rv *review, forWebhook bool) obj {
	pullURL := fmt.Sprintf("%s/repos/%s/pulls/%d", e.url, r.fullName(), p.number)
	html := fmt.Sprintf("%s/%s/pull/%d#pullrequestreview-%d", htmlBase, r.fullName(), p.number, rv.id)
	var body any = rv.body
	state := rv.state
	if forWebhook {
		body, state = orNull(rv.body), strings.ToLower(rv.state)
	}
	return obj{
		"id": rv.id, "node_id": nodeID("PullRequestReview", rv.id), "user": e.userJSON(rv.user), "body": body,
		"state": state, "html_url": html, "pull_request_url": pullURL, "commit_id": rv.commitID,
		"submitted_at": ts(rv.submittedAt), "author_association": association(r, rv.user),
		"_links": obj{"html": obj{"href": html}, "pull_request": obj{"href": pullURL}},
	}
}

// listReviews serves GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews.
func listReviews(e *Emulator, c *call) reply {
	r, p, rep, ok := e.pullForCallLocked(c, false)
	if !ok {
		return rep
	}
	out, link := pageOf(e, c, p.reviews, func(rv *review) obj { return e.reviewJSON(r, p, rv, false) })
	return reply{status: http.StatusOK, body: out, header: link}
}

// requestReviewers serves
// POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers. Like
// GitHub, it takes collaborators (a role on the repository, or a member of
// one of the owner's teams) and teams of the owner, and never the author.
func requestReviewers(e *Emulator, c *call) reply {
	r, p, rep, ok := e.pullForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	notCollaborator := errorReply(http.StatusUnprocessableEntity, fmt.Sprintf(
		"Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the %s repository.", r.fullName()))
	var users []string
	for _, u := range in.Reviewers {
		login, known := e.st.users[strings.ToLower(u)]
		switch {
		case strings.EqualFold(u, p.user):
			return errorReply(http.StatusUnprocessableEntity, "Review cannot be requested from pull request author.")
		case !known || (roleOf(r, login) == "" && !e.inOwnersTeamLocked(r, login)):
			return notCollaborator
		}
		users = append(users, login)
	}
	for _, slug := range in.TeamReviewers {
		if e.teamLocked(r.owner, slug) == nil {
			return notCollaborator
		}
	}
	var events []outgoing
	for _, u := range users {
		if !slices.ContainsFunc(p.requestedReviewers, func(x string) bool { return strings.EqualFold(x, u) }) {
			p.requestedReviewers = append(p.requestedReviewers, u)
			events = append(events, e.pullRequestEventLocked(r, p, "review_requested", AppLogin, obj{"requested_reviewer": e.userJSON(u)}))
		}
	}
	for _, slug := range in.TeamReviewers {
		t := e.teamLocked(r.owner, slug)
		if !slices.Contains(p.requestedTeams, t.slug) {
			p.requestedTeams = append(p.requestedTeams, t.slug)
			events = append(events, e.pullRequestEventLocked(r, p, "review_requested", AppLogin, obj{"requested_team": e.teamJSON(t)}))
		}
	}
	p.updatedAt = e.timestamp()
	e.changedLocked()
	return reply{status: http.StatusCreated, body: e.pullJSON(r, p), events: events}
}

func (e *Emulator) inOwnersTeamLocked(r *repo, login string) bool {
	for _, t := range e.st.teams {
		if strings.EqualFold(t.org, r.owner) && t.members[strings.ToLower(login)] != "" {
			return true
		}
	}
	return false
}

// listRequestedReviewers serves
// GET /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers.
func listRequestedReviewers(e *Emulator, c *call) reply {
	r, p, rep, ok := e.pullForCallLocked(c, false)
	if !ok {
		return rep
	}
	pj := e.pullJSON(r, p)
	return jsonReply(http.StatusOK, obj{"users": pj["requested_reviewers"], "teams": pj["requested_teams"]})
}
