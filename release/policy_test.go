package release

import (
	"slices"
	"testing"
	"time"
)

// The manifest commit the checkers are to review, and the one before it.
const (
	manifestSHA = "4f2a9c1e0b7d3a5f6e8c9b0a1d2e3f4a5b6c7d8e"
	oldSHA      = "abc1234def5678abc1234def5678abc1234def56"
)

// Reviews as GitHub lists them, oldest first; each helper is one review.
func approves(user, commit string) Review {
	return Review{User: user, State: "APPROVED", CommitID: commit}
}
func requestsChanges(user, commit string) Review {
	return Review{User: user, State: "CHANGES_REQUESTED", CommitID: commit}
}
func comments(user string) Review {
	return Review{User: user, State: "COMMENTED", CommitID: manifestSHA}
}
func pending(user string) Review { return Review{User: user, State: "PENDING", CommitID: manifestSHA} }
func dismissed(user string) Review {
	return Review{User: user, State: "DISMISSED", CommitID: manifestSHA}
}

// ana, ben, cat and dan are output checkers; rea asked for the release and
// is a checker too; eve is not a checker.
var checkerLogins = map[string]bool{"ana": true, "ben": true, "cat": true, "dan": true, "rea": true, "eve": false}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	two := Policy{ApprovalsRequired: 2}
	cases := map[string]struct {
		policy   Policy
		reviews  []Review
		approved bool
		counted  []string
		changes  []string
		ignored  map[string]string
	}{
		"two checkers approve the manifest commit": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ben", manifestSHA)},
			approved: true, counted: []string{"ana", "ben"},
		},
		"one checker is not enough": {
			policy: two, reviews: []Review{approves("ana", manifestSHA)},
			counted: []string{"ana"},
		},
		"the requester's own approval never counts, checker or not": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("rea", manifestSHA)},
			counted: []string{"ana"}, ignored: map[string]string{"rea": "is the requester"},
		},
		"an approval of an older manifest does not count": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ben", oldSHA)},
			counted: []string{"ana"}, ignored: map[string]string{"ben": "approved an older manifest (commit abc1234)"},
		},
		"a dismissed approval counts for nothing": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), dismissed("ben")},
			counted: []string{"ana"}, ignored: map[string]string{"ben": "review dismissed"},
		},
		"a dismissal takes back an earlier approval": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ben", manifestSHA), dismissed("ben")},
			counted: []string{"ana"}, ignored: map[string]string{"ben": "review dismissed"},
		},
		"an approval after a dismissed review counts": {
			policy: two, reviews: []Review{dismissed("ben"), approves("ana", manifestSHA), approves("ben", manifestSHA)},
			approved: true, counted: []string{"ana", "ben"},
		},
		"changes requested, then approved by the same checker: the approval counts": {
			policy: two, reviews: []Review{requestsChanges("ana", manifestSHA), approves("ben", manifestSHA), approves("ana", manifestSHA)},
			approved: true, counted: []string{"ben", "ana"},
		},
		"approved, then changes requested: the request returns the release": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ben", manifestSHA), requestsChanges("ana", manifestSHA)},
			counted: []string{"ben"}, changes: []string{"ana"}, ignored: map[string]string{"ana": "requested changes"},
		},
		"a request for changes returns the release however many approved": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ben", manifestSHA), approves("cat", manifestSHA), requestsChanges("dan", manifestSHA)},
			counted: []string{"ana", "ben", "cat"}, changes: []string{"dan"}, ignored: map[string]string{"dan": "requested changes"},
		},
		"changes requested on an older manifest do not return this one": {
			policy: two, reviews: []Review{requestsChanges("cat", oldSHA), approves("ana", manifestSHA), approves("ben", manifestSHA)},
			approved: true, counted: []string{"ana", "ben"},
			ignored: map[string]string{"cat": "requested changes on an older manifest (commit abc1234)"},
		},
		"a non-checker's approval does not count": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("eve", manifestSHA)},
			counted: []string{"ana"}, ignored: map[string]string{"eve": "not an output checker"},
		},
		"a reviewer missing from the checkers map is not a checker": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("zed", manifestSHA)},
			counted: []string{"ana"}, ignored: map[string]string{"zed": "not an output checker"},
		},
		"a non-checker's request for changes does not return the release": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ben", manifestSHA), requestsChanges("eve", manifestSHA)},
			approved: true, counted: []string{"ana", "ben"}, ignored: map[string]string{"eve": "not an output checker"},
		},
		"the requester's request for changes does not return the release": {
			policy: two, reviews: []Review{requestsChanges("rea", manifestSHA), approves("ana", manifestSHA), approves("ben", manifestSHA)},
			approved: true, counted: []string{"ana", "ben"}, ignored: map[string]string{"rea": "is the requester"},
		},
		"duplicate approvals by one checker count once": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ana", manifestSHA), approves("ANA", manifestSHA)},
			counted: []string{"ANA"},
		},
		"logins compare case-insensitively, with the requester and the checkers": {
			policy: two, reviews: []Review{approves("Ana", manifestSHA), approves("BEN", manifestSHA), approves("Rea", manifestSHA)},
			approved: true, counted: []string{"Ana", "BEN"}, ignored: map[string]string{"Rea": "is the requester"},
		},
		"a comment does not take back an approval": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ben", manifestSHA), comments("ana"), pending("ben")},
			approved: true, counted: []string{"ana", "ben"},
		},
		"a comment does not take back a request for changes": {
			policy: two, reviews: []Review{requestsChanges("ana", manifestSHA), comments("ana")},
			changes: []string{"ana"}, ignored: map[string]string{"ana": "requested changes"},
		},
		"a checker who only commented is not counted": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), comments("ben"), pending("cat")},
			counted: []string{"ana"}, ignored: map[string]string{"ben": "commented only", "cat": "commented only"},
		},
		"approvals_required 3 needs three checkers": {
			policy: Policy{ApprovalsRequired: 3}, reviews: []Review{approves("ana", manifestSHA), approves("ben", manifestSHA)},
			counted: []string{"ana", "ben"},
		},
		"approvals_required 3 met": {
			policy: Policy{ApprovalsRequired: 3}, reviews: []Review{approves("ana", manifestSHA), approves("ben", manifestSHA), approves("cat", manifestSHA)},
			approved: true, counted: []string{"ana", "ben", "cat"},
		},
		"approvals_required 0 is treated as 1": {
			policy: Policy{}, reviews: []Review{approves("ana", manifestSHA)},
			approved: true, counted: []string{"ana"},
		},
		"no approvals_required and no reviews is not approved": {
			policy: Policy{},
		},
		"a configured user is a checker even if the map leaves them out": {
			policy: Policy{ApprovalsRequired: 2, Users: []string{"Zed"}}, reviews: []Review{approves("ana", manifestSHA), approves("zed", manifestSHA)},
			approved: true, counted: []string{"ana", "zed"},
		},
		"review states compare case-insensitively, as webhooks send them": {
			policy: two, reviews: []Review{{User: "ana", State: "approved", CommitID: manifestSHA}, {User: "ben", State: "changes_requested", CommitID: manifestSHA}},
			counted: []string{"ana"}, changes: []string{"ben"}, ignored: map[string]string{"ben": "requested changes"},
		},
		"counted in the order of the reviews that count": {
			policy: two, reviews: []Review{approves("ben", oldSHA), approves("ana", manifestSHA), approves("ben", manifestSHA)},
			approved: true, counted: []string{"ana", "ben"},
		},
		"an approval of an unknown commit does not count": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("ben", "")},
			counted: []string{"ana"}, ignored: map[string]string{"ben": "approved an older manifest (commit unknown)"},
		},
		"a review by a deleted account is skipped": {
			policy: two, reviews: []Review{approves("ana", manifestSHA), approves("", manifestSHA)},
			counted: []string{"ana"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for i := range tc.reviews {
				tc.reviews[i].SubmittedAt = time.Date(2025, 3, 1, 9, i, 0, 0, time.UTC)
			}
			v := Evaluate(tc.policy, "rea", manifestSHA, tc.reviews, checkerLogins)
			if v.Approved != tc.approved {
				t.Errorf("Approved = %v, want %v (verdict %+v)", v.Approved, tc.approved, v)
			}
			if !slices.Equal(v.Counted, tc.counted) {
				t.Errorf("Counted = %q, want %q", v.Counted, tc.counted)
			}
			if !slices.Equal(v.ChangesRequested, tc.changes) {
				t.Errorf("ChangesRequested = %q, want %q", v.ChangesRequested, tc.changes)
			}
			if v.Ignored == nil {
				t.Fatal("Ignored is nil; want a map")
			}
			if len(v.Ignored) != len(tc.ignored) {
				t.Errorf("Ignored = %q, want %q", v.Ignored, tc.ignored)
			}
			for login, why := range tc.ignored {
				if v.Ignored[login] != why {
					t.Errorf("Ignored[%q] = %q, want %q", login, v.Ignored[login], why)
				}
			}
		})
	}
}

// Without a manifest commit (none published yet) no approval can count,
// not even one of a review with no commit.
func TestEvaluateWithoutManifestCommit(t *testing.T) {
	t.Parallel()
	v := Evaluate(Policy{ApprovalsRequired: 1}, "rea", "", []Review{{User: "ana", State: "APPROVED"}}, checkerLogins)
	if v.Approved || len(v.Counted) != 0 {
		t.Fatalf("verdict %+v: want nothing counted", v)
	}
	if v.Ignored["ana"] != "approved an older manifest (commit unknown)" {
		t.Errorf("Ignored[ana] = %q", v.Ignored["ana"])
	}
}

// Evaluate must not change the caller's reviews or checkers.
func TestEvaluateLeavesItsInputsAlone(t *testing.T) {
	t.Parallel()
	reviews := []Review{approves("Ben", manifestSHA), approves("ana", manifestSHA)}
	before := slices.Clone(reviews)
	checkers := map[string]bool{"ana": true, "ben": true}
	Evaluate(Policy{ApprovalsRequired: 2}, "rea", manifestSHA, reviews, checkers)
	if !slices.Equal(reviews, before) || len(checkers) != 2 {
		t.Errorf("inputs changed: %v %v", reviews, checkers)
	}
}
