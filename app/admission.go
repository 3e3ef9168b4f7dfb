package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/internal/markdown"
)

// Roles on a repository, least first, as the REST permission API names them.
var roles = []string{"none", "read", "triage", "write", "maintain", "admin"}

// roleAtLeast reports whether role is want or more. An unknown role is none.
func roleAtLeast(role, want string) bool {
	return slices.Index(roles, role) >= slices.Index(roles, want) && slices.Contains(roles, want)
}

// Run requirements an operator may add (policy.require).
const (
	RequireApproved  = "approved"
	RequireMergeable = "mergeable"
)

// RunPolicy is who may start runs, and on what.
type RunPolicy struct {
	Permission string   // least role to run: read ... admin
	Require    []string // RequireApproved, RequireMergeable
}

// RunFacts is what admission decides on, gathered from GitHub.
type RunFacts struct {
	Requester string
	Role      string // the requester's role
	PR        PullRequest
	// ApprovedOnHead: someone with write permission other than the author
	// approved the head commit in a review. Read only when required.
	ApprovedOnHead bool
	// Mergeable and MergeableKnown: GitHub's verdict, when required.
	Mergeable, MergeableKnown bool
	// ApprovedBy is the maintainer who clicked "Approve run", if any.
	ApprovedBy string
}

// Verdict is what happens to a run.
type Verdict int

const (
	// Admitted: plan it and relay its jobs.
	Admitted Verdict = iota
	// Held: only a maintainer's approval is missing.
	Held
	// Refused: something no approval can fix.
	Refused
)

// Admission is a verdict and, unless Admitted, every reason for it, as
// sentences in Markdown.
type Admission struct {
	Verdict Verdict
	Reasons []string
}

// Admit decides whether a run may go to the secure zone. Everything no
// approval can fix refuses it, with every such reason, so that the
// researcher fixes all at once; a requester without the permission is held
// for a maintainer's approval, which is for the head commit only. Whether
// project.yaml is valid and names the actions is the planner's to say.
func Admit(p RunPolicy, f RunFacts) Admission {
	var refuse []string
	if !f.PR.Open {
		refuse = append(refuse, fmt.Sprintf("Pull request #%d is closed.", f.PR.Number))
	}
	if f.PR.Fork() {
		from := "a repository that no longer exists"
		if f.PR.HeadRepo != "" {
			from = markdown.Code(f.PR.HeadRepo, valueShown)
		}
		refuse = append(refuse, fmt.Sprintf("This pull request comes from %s, a fork: only commits on a branch of %s may reach the secure zone, "+
			"so that no code reaches patient data without passing through this repository (OpenSAFELY refuses pull request refs for the same reason). "+
			"Push the branch to %s and open the pull request from there.", from, markdown.Code(f.PR.BaseRepo, valueShown), markdown.Code(f.PR.BaseRepo, valueShown)))
	}
	if slices.Contains(p.Require, RequireApproved) && !f.ApprovedOnHead {
		refuse = append(refuse, fmt.Sprintf("Runs on this repository need an approving review of the head commit %s "+
			"by someone with write permission other than the author, @%s.", markdown.Code(shortSHA(f.PR.HeadSHA), valueShown), f.PR.Author))
	}
	if slices.Contains(p.Require, RequireMergeable) {
		switch {
		case !f.MergeableKnown:
			refuse = append(refuse, "Runs on this repository need a pull request that can be merged, and GitHub has not worked that out yet. Try again in a minute.")
		case !f.Mergeable:
			refuse = append(refuse, "Runs on this repository need a pull request that can be merged, and this one cannot (resolve its conflicts with the base branch first).")
		}
	}
	if len(refuse) > 0 {
		return Admission{Verdict: Refused, Reasons: refuse}
	}
	if !roleAtLeast(f.Role, p.Permission) && f.ApprovedBy == "" {
		return Admission{Verdict: Held, Reasons: []string{heldReason(f.Requester, f.Role, p.Permission)}}
	}
	return Admission{Verdict: Admitted}
}

// heldReason says why a run waits for a maintainer.
func heldReason(user, role, want string) string {
	return fmt.Sprintf("@%s has %s on this repository, and runs need %s: a maintainer must approve this run.", user, roleName(role), want)
}

// roleName is a role as a reply says it: "read permission", "no permission".
func roleName(role string) string {
	if role == "" || role == "none" {
		return "no permission"
	}
	return role + " permission"
}

// ApprovedOnHead reports whether someone other than author, with a role of
// at least write (roles, by login), approved head: each reviewer's latest
// approving or change-requesting review counts, and only on head.
func ApprovedOnHead(reviews []Review, head, author string, roleOf map[string]string) bool {
	latest := map[string]Review{}
	for _, r := range reviews {
		switch r.State {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			latest[strings.ToLower(r.User)] = r
		}
	}
	for user, r := range latest {
		if r.State == "APPROVED" && r.CommitID == head && !strings.EqualFold(user, author) && roleAtLeast(roleOf[r.User], "write") {
			return true
		}
	}
	return false
}

// Approvers are the reviewers whose roles ApprovedOnHead needs to know:
// those who approved head, other than the author.
func Approvers(reviews []Review, head, author string) []string {
	var out []string
	for _, r := range reviews {
		if r.State == "APPROVED" && r.CommitID == head && !strings.EqualFold(r.User, author) && !slices.Contains(out, r.User) {
			out = append(out, r.User)
		}
	}
	return out
}
