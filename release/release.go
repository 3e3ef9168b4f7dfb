// Package release is the GitHub form of OpenSAFELY's Airlock: a researcher
// asks for moderately sensitive output files, independent output checkers
// review a manifest of them in an ordinary pull request review, and only
// what they approved, byte for byte, is committed back to the repository.
//
// The decisions are pure functions over plain data: the approval policy
// (Evaluate), the manifest and what GitHub shows of it; the disclosure
// checks the agent runs in the secure zone are in release/disclosure.
package release

import (
	"time"

	"github.com/fivesafes/fivesafes/runner/protocol"
)

// State is where a release request is.
type State string

const (
	// PendingManifest: the agent is computing the manifest of the current
	// revision.
	PendingManifest State = "pending_manifest"
	// InReview: the release pull request shows the manifest; checkers review.
	InReview State = "in_review"
	// Returned: a checker requested changes; the researcher's next /release
	// makes a new revision.
	Returned State = "returned"
	// Approved: enough checkers approved the manifest commit; the files are
	// to be uploaded.
	Approved State = "approved"
	// Uploading: the agent is uploading the approved files.
	Uploading State = "uploading"
	// Released: the files are committed on the release pull request.
	Released State = "released"
	// Rejected: something did not match what was approved (an upload's
	// hash), or the request could not be carried out.
	Rejected State = "rejected"
	// Withdrawn: the researcher or a maintainer ended the request.
	Withdrawn State = "withdrawn"
)

// Finished reports whether nothing more will happen to a request.
func (s State) Finished() bool { return s == Released || s == Rejected || s == Withdrawn }

// File is one file of a manifest, as the agent found it; Finding one
// automated disclosure finding. They are the wire types.
type (
	File    = protocol.ManifestFile
	Finding = protocol.Finding
)

// Manifest is what output checkers review: one revision of a release
// request, committed to the release pull request as
// releases/<release>/manifest.json and manifest.md.
type Manifest struct {
	Release       string    `json:"release"`  // the request's ID
	Number        int       `json:"number"`   // "release #N", per repository
	Revision      int       `json:"revision"` // 1, 2 ... each /release on the research pull request
	Repo          string    `json:"repository"`
	ResearchPR    int       `json:"pull_request"`
	ResearchPRURL string    `json:"pull_request_url"`
	Workspace     string    `json:"workspace"` // owner/repo/branch
	Backend       string    `json:"backend"`
	Requester     string    `json:"requester"`
	RequestedAt   time.Time `json:"requested_at"`
	Context       string    `json:"context"`  // what the files are and how they were made
	Controls      string    `json:"controls"` // what disclosure controls were applied
	Files         []File    `json:"files"`
}

// Review is one pull request review of a release pull request.
type Review struct {
	User        string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	CommitID    string
	SubmittedAt time.Time
}

// Policy is who may approve a release, and how many must.
type Policy struct {
	ApprovalsRequired int
	Users             []string // output checkers by login
	Teams             []string // "org/team-slug": every member is a checker
}
