package ghemu

import (
	"slices"
	"strings"
	"time"
)

// state is everything the emulator knows. It is guarded by Emulator.mu.
type state struct {
	installations map[int64]*Installation
	repos         map[string]*repo // by lower-case full name
	commits       map[string]*commit
	trees         map[string]map[string][]byte // tree ID -> the files below it
	blobs         map[string][]byte
	checkRuns     map[int64]*CheckRun
	suites        map[suiteKey]*checkSuite
	tokens        map[string]token
	comments      map[int64]*comment
	users         map[string]string // lower-case login -> login
	teams         map[string]*team  // by lower-case "org/slug"

	hook       webhook
	deliveries []Delivery

	requests map[string]int // "METHOD /template" -> count
	faults   []*fault

	nextRepoID, nextPullID, nextCheckRunID, nextSuiteID, nextHookID      int64
	nextIssueID, nextCommentID, nextReactionID, nextReviewID, nextTeamID int64
}

func newState() state {
	return state{
		installations: map[int64]*Installation{},
		repos:         map[string]*repo{},
		commits:       map[string]*commit{},
		trees:         map[string]map[string][]byte{},
		blobs:         map[string][]byte{},
		checkRuns:     map[int64]*CheckRun{},
		suites:        map[suiteKey]*checkSuite{},
		tokens:        map[string]token{},
		comments:      map[int64]*comment{},
		users:         map[string]string{},
		teams:         map[string]*team{},
		requests:      map[string]int{},
		// IDs start above 2^32 where GitHub's do, so that code storing one
		// in an int32 fails here and not in production.
		nextRepoID:     700_000_000,
		nextPullID:     2_100_000_000,
		nextCheckRunID: 5_000_000_000,
		nextSuiteID:    6_000_000_000,
		nextHookID:     400_000_000,
		nextIssueID:    3_500_000_000,
		nextCommentID:  3_000_000_000,
		nextReactionID: 300_000_000,
		nextReviewID:   2_500_000_000,
		nextTeamID:     9_000_000,
	}
}

// Installation is an installation of the app on an account.
type Installation struct {
	ID      int64
	Account string
}

// repo is a repository. Its pull requests live with it.
type repo struct {
	id            int64
	owner, name   string
	defaultBranch string
	private       bool
	parent        *repo // the repository this one is a fork of
	branches      map[string]string
	pulls         map[int]*pull
	issues        map[int]*issue    // plain issues; pull requests are in pulls
	roles         map[string]string // lower-case login -> admin, maintain, write, triage, read
	nextNumber    int
	createdAt     time.Time
	pushedAt      time.Time
}

func (r *repo) fullName() string { return r.owner + "/" + r.name }

func repoKey(fullName string) string { return strings.ToLower(fullName) }

// issue is an issue, or what a pull request shares with issues: its number,
// labels and comments.
type issue struct {
	issueID   int64
	number    int
	title     string
	body      string
	user      string
	state     string // open, closed
	labels    []string
	createdAt time.Time
	updatedAt time.Time
	closedAt  time.Time
}

// pull is a pull request. Its head SHA is wherever its head branch points.
type pull struct {
	issue
	id                 int64
	headRepo           *repo
	headRef            string
	baseRef            string
	draft              bool
	mergeable          *bool // nil: GitHub has not computed it
	mergeablePending   int   // answers that still say mergeable null
	requestedReviewers []string
	requestedTeams     []string
	reviews            []*review
}

func (p *pull) headSHA() string { return p.headRepo.branches[p.headRef] }

// PullRequest is a snapshot of a pull request.
type PullRequest struct {
	Number   int
	ID       int64
	Title    string
	User     string
	State    string // open or closed
	HeadRepo string // owner/name; differs from the base repository for a fork
	HeadRef  string
	HeadSHA  string
	BaseRef  string
	BaseSHA  string
	Labels   []string
	Body     string
	Draft    bool
	// Mergeable is what GET reports once computed (see SetMergeable); nil
	// means unknown.
	Mergeable          *bool
	RequestedReviewers []string // logins whose review is requested and not yet given
	RequestedTeams     []string // team slugs
}

func (e *Emulator) pullSnapshot(r *repo, p *pull) PullRequest {
	return PullRequest{
		Number: p.number, ID: p.id, Title: p.title, User: p.user, State: p.state,
		HeadRepo: p.headRepo.fullName(), HeadRef: p.headRef, HeadSHA: p.headSHA(),
		BaseRef: p.baseRef, BaseSHA: r.branches[p.baseRef], Labels: slices.Clone(p.labels),
		Body: p.body, Draft: p.draft, Mergeable: clonePtr(p.mergeable),
		RequestedReviewers: slices.Clone(p.requestedReviewers), RequestedTeams: slices.Clone(p.requestedTeams),
	}
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// CheckRun is a snapshot of a check run.
type CheckRun struct {
	ID           int64
	Repo         string // owner/name
	Name         string
	HeadSHA      string
	ExternalID   string
	DetailsURL   string
	Status       string // queued, in_progress, completed
	Conclusion   string // set once completed
	StartedAt    time.Time
	CompletedAt  time.Time
	Output       CheckRunOutput
	Annotations  []Annotation // every annotation sent, across the create and all updates
	Actions      []CheckRunAction
	AppID        int64
	CheckSuiteID int64
	Updates      int // PATCH requests applied
}

// CheckRunOutput is what a check run shows. Fields never set are "".
type CheckRunOutput struct {
	Title, Summary, Text string
}

// Annotation is one annotation of a check run. Columns are 0 when not given.
type Annotation struct {
	Path                   string
	StartLine, EndLine     int
	StartColumn, EndColumn int
	Level                  string // notice, warning, failure
	Message                string
	Title                  string
	RawDetails             string
}

// CheckRunAction is a button a check run offers.
type CheckRunAction struct {
	Label, Description, Identifier string
}

func (c *CheckRun) clone() CheckRun {
	out := *c
	out.Annotations = slices.Clone(c.Annotations)
	out.Actions = slices.Clone(c.Actions)
	return out
}

// checkSuite groups the app's check runs on one commit of one repository.
type checkSuite struct {
	id        int64
	repo      *repo
	headSHA   string
	headRef   string // the branch it was pushed to, if known
	before    string
	createdAt time.Time
}

type suiteKey struct {
	repo string
	sha  string
}
