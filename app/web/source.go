// Package web serves the bot's public pages: the recent runs and releases,
// the permanent log of every decision, and a page for each run and
// release, which check runs link to. Pages are rendered on the server from
// html/template, need no JavaScript and no build step, and show nothing
// private: no file contents, no logs, no highly sensitive file names, no
// tokens.
//
// The handlers read through Source, plain data in the package's own
// types; app adapts the bot's stores to it.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) by a Source for a run or release that
// does not exist.
var ErrNotFound = errors.New("not found")

// Source is what the pages show.
type Source interface {
	// RecentRuns are the newest job requests, newest first.
	RecentRuns(ctx context.Context, limit int) ([]Run, error)
	// RecentReleases are the newest release requests, newest first.
	RecentReleases(ctx context.Context, limit int) ([]Release, error)
	// Events is a page of the permanent log, newest first.
	Events(ctx context.Context, q EventQuery) (EventPage, error)
	// Run is one job request with its jobs; ErrNotFound if there is none.
	Run(ctx context.Context, id string) (RunDetail, error)
	// Release is one release request; ErrNotFound if there is none.
	Release(ctx context.Context, id string) (ReleaseDetail, error)
}

// Run is a job request as a list shows it.
type Run struct {
	ID        string
	Number    int // "run #N" in its repository
	Repo      string
	PR        int
	HeadSHA   string
	Backend   string
	Requester string
	Status    string // held, stale, withdrawn, running, succeeded, failed
	CreatedAt time.Time
	// FinishedAt is zero while the run goes on.
	FinishedAt time.Time
	Jobs       int // jobs it created
	JobsFailed int
}

// RunDetail is a job request's page.
type RunDetail struct {
	Run
	Actions    []string // as requested ("run_all" for all)
	Force      bool     // --force-run-dependencies
	ApprovedBy string   // the maintainer who approved a held run
	Plan       []PlanStep
	Jobs       []Job
	Releases   []Release // release requests of the same pull request
}

// PlanStep is one action's decision in the plan of a run.
type PlanStep struct {
	Action   string
	Decision string // run, reuse, wait
	Reason   string
	JobID    string // the job it ran or reused, if known
}

// Job is one job of a run.
type Job struct {
	ID          string
	Action      string
	State       string // pending, running, succeeded, failed
	Status      string // job-runner's status code: waiting_on_dependencies ... timed_out
	Message     string
	CreatedAt   time.Time
	StartedAt   time.Time // zero until claimed
	CompletedAt time.Time // zero until finished
	ExitCode    *int
	// Outputs are the moderately sensitive files it wrote, by name and size
	// only; highly sensitive files are counted, never named.
	Outputs         []OutputFile
	HighlySensitive int
}

// OutputFile is a moderately sensitive output: its name, size, and why
// the level-4 gates refused it, if they did.
type OutputFile struct {
	Path    string
	Size    int64
	Refused string
}

// Release is a release request as a list shows it.
type Release struct {
	ID        string
	Number    int // "release #N" in its repository
	Repo      string
	PR        int // the research pull request
	ReleasePR int // 0 until opened
	Requester string
	Backend   string
	State     string // pending_manifest, in_review, returned, approved, uploading, released, rejected, withdrawn
	Revision  int
	Files     int
	CreatedAt time.Time
	// FinishedAt is zero until released, rejected or withdrawn.
	FinishedAt time.Time
}

// ReleaseDetail is a release request's page.
type ReleaseDetail struct {
	Release
	Reason         string // why rejected or withdrawn
	ManifestCommit string
	ReleasedCommit string
	Files          []ReleaseFile     // the current revision's manifest
	Counted        []string          // checkers whose approval counts
	Ignored        map[string]string // reviewer -> why their review does not count
	Runs           []Run             // job requests of the same pull request
	History        []Event           // the log's entries about this release, oldest first
}

// ReleaseFile is a file of a release's manifest: its shape, hash and
// automated findings, never its contents.
type ReleaseFile struct {
	Path     string
	Size     int64
	SHA256   string
	Type     string
	Rows     *int
	Columns  *int
	Findings []Finding
	Received bool // uploaded and matching the approved manifest
}

// Finding is an automated disclosure finding: advice for checkers.
type Finding struct {
	Check   string
	Message string
}

// Event is one entry of the permanent log.
type Event struct {
	Seq      int64
	At       time.Time
	Kind     string // run.requested, job.state, release.approved ...
	Actor    string // a GitHub login, a backend, or "fivesafes"
	Repo     string
	Subject  string // what it is about: a run, job or release ID
	Data     json.RawMessage
	PrevHash string
	Hash     string
	// Link is the page of what the entry is about ("/runs/ID",
	// "/releases/ID"), or "".
	Link string
}

// EventQuery asks for a page of the log, newest first.
type EventQuery struct {
	Repo    string // "" for every repository
	Subject string // "" for every subject
	Before  int64  // entries with seq below this; 0 for the newest
	Limit   int
}

// EventPage is a page of the log; Next is the cursor (Before) of the
// page of older entries, 0 when there is none.
type EventPage struct {
	Events []Event
	Next   int64
}
