package app

import (
	"strings"
	"testing"
)

func TestAdmit(t *testing.T) {
	t.Parallel()
	pr := PullRequest{Number: 7, Open: true, Author: "ana", HeadSHA: "abc123", HeadRef: "study", HeadRepo: "org/study", BaseRepo: "org/study"}
	fork := pr
	fork.HeadRepo = "eve/study"
	deletedFork := pr
	deletedFork.HeadRepo = ""
	closed := pr
	closed.Open = false
	writer := func(f RunFacts) RunFacts { f.Requester, f.Role, f.PR = "ana", "write", pr; return f }
	base := RunPolicy{Permission: "write"}
	strict := RunPolicy{Permission: "write", Require: []string{RequireApproved, RequireMergeable}}

	cases := map[string]struct {
		policy RunPolicy
		facts  RunFacts
		want   Verdict
		says   []string
	}{
		"a writer on a branch of the repository":    {base, writer(RunFacts{}), Admitted, nil},
		"an admin is more than a writer":            {base, RunFacts{Requester: "ana", Role: "admin", PR: pr}, Admitted, nil},
		"a reader is held for a maintainer":         {base, RunFacts{Requester: "eve", Role: "read", PR: pr}, Held, []string{"@eve has read permission", "runs need write"}},
		"no role at all is held":                    {base, RunFacts{Requester: "eve", Role: "none", PR: pr}, Held, []string{"@eve has no permission"}},
		"an unknown role counts for nothing":        {base, RunFacts{Requester: "eve", Role: "custom-auditor", PR: pr}, Held, nil},
		"a maintainer's approval lets a reader in":  {base, RunFacts{Requester: "eve", Role: "read", PR: pr, ApprovedBy: "mia"}, Admitted, nil},
		"a fork is refused even for an admin":       {base, RunFacts{Requester: "ana", Role: "admin", PR: fork}, Refused, []string{"`eve/study`, a fork", "Push the branch to `org/study`"}},
		"a fork is refused even when approved":      {base, RunFacts{Requester: "eve", Role: "read", PR: fork, ApprovedBy: "mia"}, Refused, nil},
		"a deleted fork is refused":                 {base, RunFacts{Requester: "ana", Role: "write", PR: deletedFork}, Refused, []string{"no longer exists"}},
		"a closed pull request is refused":          {base, RunFacts{Requester: "ana", Role: "write", PR: closed}, Refused, []string{"#7 is closed"}},
		"read is enough where the operator says so": {RunPolicy{Permission: "read"}, RunFacts{Requester: "eve", Role: "read", PR: pr}, Admitted, nil},
		"required approval missing": {strict, writer(RunFacts{Mergeable: true, MergeableKnown: true}), Refused,
			[]string{"approving review of the head commit `abc123`", "other than the author, @ana"}},
		"required merge state unknown": {strict, writer(RunFacts{ApprovedOnHead: true}), Refused, []string{"has not worked that out yet"}},
		"required merge impossible":    {strict, writer(RunFacts{ApprovedOnHead: true, MergeableKnown: true}), Refused, []string{"cannot (resolve its conflicts"}},
		"every requirement met":        {strict, writer(RunFacts{ApprovedOnHead: true, Mergeable: true, MergeableKnown: true}), Admitted, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Admit(tc.policy, tc.facts)
			if got.Verdict != tc.want {
				t.Fatalf("verdict %d, want %d (reasons %q)", got.Verdict, tc.want, got.Reasons)
			}
			all := strings.Join(got.Reasons, "\n")
			for _, s := range tc.says {
				if !strings.Contains(all, s) {
					t.Errorf("reasons do not say %q:\n%s", s, all)
				}
			}
			if tc.want != Admitted && len(got.Reasons) == 0 {
				t.Error("no reason given")
			}
		})
	}
}

func TestEveryRefusalIsListed(t *testing.T) {
	t.Parallel()
	pr := PullRequest{Number: 7, Author: "ana", HeadRepo: "eve/study", BaseRepo: "org/study"}
	got := Admit(RunPolicy{Permission: "write", Require: []string{RequireApproved, RequireMergeable}}, RunFacts{Requester: "eve", Role: "read", PR: pr})
	if got.Verdict != Refused || len(got.Reasons) != 4 {
		t.Fatalf("verdict %d with %d reasons, want a refusal with 4 (closed, fork, approval, mergeable): %q", got.Verdict, len(got.Reasons), got.Reasons)
	}
}

func TestApprovedOnHead(t *testing.T) {
	t.Parallel()
	roles := map[string]string{"mia": "maintain", "bob": "write", "rex": "read", "ana": "admin"}
	r := func(user, state, commit string) Review { return Review{User: user, State: state, CommitID: commit} }
	cases := map[string]struct {
		reviews []Review
		want    bool
	}{
		"a maintainer approved the head":        {[]Review{r("mia", "APPROVED", "head")}, true},
		"an approval of an older commit":        {[]Review{r("mia", "APPROVED", "old")}, false},
		"the author's own approval":             {[]Review{r("ana", "APPROVED", "head")}, false},
		"a reader's approval":                   {[]Review{r("rex", "APPROVED", "head")}, false},
		"approved, then changes requested":      {[]Review{r("bob", "APPROVED", "head"), r("bob", "CHANGES_REQUESTED", "head")}, false},
		"changes requested, then approved":      {[]Review{r("bob", "CHANGES_REQUESTED", "head"), r("bob", "APPROVED", "head")}, true},
		"a comment after an approval leaves it": {[]Review{r("bob", "APPROVED", "head"), r("bob", "COMMENTED", "head")}, true},
		"a dismissed approval":                  {[]Review{r("bob", "APPROVED", "head"), r("bob", "DISMISSED", "head")}, false},
		"one good approval among bad ones":      {[]Review{r("rex", "APPROVED", "head"), r("bob", "APPROVED", "head")}, true},
		"nobody reviewed":                       {nil, false},
	}
	for name, tc := range cases {
		if got := ApprovedOnHead(tc.reviews, "head", "ana", roles); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	if got := Approvers([]Review{r("bob", "APPROVED", "head"), r("bob", "APPROVED", "head"), r("ana", "APPROVED", "head"), r("mia", "APPROVED", "old")}, "head", "ana"); len(got) != 1 || got[0] != "bob" {
		t.Errorf("approvers %v, want [bob]", got)
	}
}
