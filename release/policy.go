package release

import (
	"slices"
	"strings"
)

// Verdict is what the policy makes of a release pull request's reviews.
type Verdict struct {
	// Approved: at least ApprovalsRequired distinct checkers counted, and
	// no checker's latest review requests changes.
	Approved bool
	// ChangesRequested are the checkers whose latest review of the manifest
	// commit requests changes: any one returns the request.
	ChangesRequested []string
	// Counted are the checkers whose approval counts, in review order.
	Counted []string
	// Ignored says, for every other reviewer's login, why their review does
	// not count, in words a checker reads.
	Ignored map[string]string
}

// Why a review does not count, as Verdict.Ignored says.
const (
	whyNotChecker       = "not an output checker"
	whyRequester        = "is the requester"
	whyDismissed        = "review dismissed"
	whyChangesRequested = "requested changes"
	whyCommented        = "commented only"
)

// Review states, as GitHub names them.
const (
	stateApproved         = "APPROVED"
	stateChangesRequested = "CHANGES_REQUESTED"
	stateDismissed        = "DISMISSED"
)

// Evaluate applies the policy to a release pull request's reviews. checkers
// says, for each reviewer's login, whether they are an output checker (a
// configured user, or a member of a configured team — the caller resolves
// teams, which needs GitHub); a login in p.Users is a checker whatever the
// map says.
//
// reviews are oldest first, as GitHub lists them. Only each reviewer's
// latest APPROVED, CHANGES_REQUESTED or DISMISSED review decides what they
// said: a comment (or a review still pending) does not take back an
// approval or a request for changes, and a dismissed review counts for
// nothing. An approval counts when it is of manifestCommit, by a checker
// who is not the requester. A checker's request for changes on
// manifestCommit returns the request; one on an earlier commit does not.
// The requester's own reviews never count, either way: they can revise or
// withdraw their request instead. Logins compare case-insensitively.
func Evaluate(p Policy, requester, manifestCommit string, reviews []Review, checkers map[string]bool) Verdict {
	isChecker := make(map[string]bool, len(checkers)+len(p.Users))
	for login, ok := range checkers {
		isChecker[strings.ToLower(login)] = isChecker[strings.ToLower(login)] || ok
	}
	for _, u := range p.Users {
		isChecker[strings.ToLower(u)] = true
	}

	// Each reviewer's deciding review (the latest that is not a comment),
	// or -1 when they only commented; and the order they are listed in:
	// that of the review that decides, else of their last comment.
	type reviewer struct {
		decides int
		last    int
	}
	byLogin := map[string]*reviewer{}
	var order []string
	for i, rv := range reviews {
		login := strings.ToLower(rv.User)
		if login == "" {
			continue // a deleted account: no one to count
		}
		r := byLogin[login]
		if r == nil {
			r = &reviewer{decides: -1}
			byLogin[login] = r
			order = append(order, login)
		}
		r.last = i
		switch strings.ToUpper(rv.State) {
		case stateApproved, stateChangesRequested, stateDismissed:
			r.decides = i
		}
	}
	at := func(login string) int {
		r := byLogin[login]
		if r.decides >= 0 {
			return r.decides
		}
		return r.last
	}
	slices.SortStableFunc(order, func(a, b string) int { return at(a) - at(b) })

	v := Verdict{Ignored: map[string]string{}}
	for _, login := range order {
		r := byLogin[login]
		if r.decides < 0 {
			v.Ignored[reviews[r.last].User] = whyCommented
			continue
		}
		rv := reviews[r.decides]
		onManifest := manifestCommit != "" && strings.EqualFold(rv.CommitID, manifestCommit)
		why := ""
		switch state := strings.ToUpper(rv.State); {
		case state == stateDismissed:
			why = whyDismissed
		case strings.EqualFold(rv.User, requester):
			why = whyRequester
		case !isChecker[login]:
			why = whyNotChecker
		case state == stateChangesRequested && onManifest:
			v.ChangesRequested = append(v.ChangesRequested, rv.User)
			why = whyChangesRequested
		case state == stateChangesRequested:
			why = "requested changes on an older manifest (commit " + commitWord(rv.CommitID) + ")"
		case !onManifest:
			why = "approved an older manifest (commit " + commitWord(rv.CommitID) + ")"
		default:
			v.Counted = append(v.Counted, rv.User)
		}
		if why != "" {
			v.Ignored[rv.User] = why
		}
	}
	v.Approved = len(v.Counted) >= max(p.ApprovalsRequired, 1) && len(v.ChangesRequested) == 0
	return v
}

// commitWord is a commit's short SHA in plain text, or "unknown" when what
// GitHub sent is not one.
func commitWord(sha string) string {
	if sha == "" || strings.Trim(strings.ToLower(sha), "0123456789abcdef") != "" {
		return "unknown"
	}
	return strings.ToLower(sha[:min(7, len(sha))])
}
