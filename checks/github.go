package checks

import (
	"context"
	"errors"
	"time"
)

// Repo names a repository and the app installation that may act on it.
type Repo struct {
	InstallationID int64
	Owner          string
	Name           string
}

// FullName is "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Errors a GitHub implementation returns (wrapped) for the cases the check
// run reports to the user instead of retrying.
var (
	ErrNotFound = errors.New("not found")
	ErrTooLarge = errors.New("file too large")
)

// GitHub is the part of GitHub the project.yaml check needs. The go-github
// adapter lives in app/; tests use a struct fake or the emulator.
type GitHub interface {
	// FileAt returns the file's bytes at sha. A missing file is ErrNotFound;
	// one over maxBytes is ErrTooLarge, found without reading it whole.
	FileAt(ctx context.Context, repo Repo, sha, path string, maxBytes int64) ([]byte, error)
	// FindCheckRun returns the check run on sha with this name and external ID.
	FindCheckRun(ctx context.Context, repo Repo, sha, name, externalID string) (CheckRunRef, bool, error)
	CreateCheckRun(ctx context.Context, repo Repo, run NewCheckRun) (int64, error)
	UpdateCheckRun(ctx context.Context, repo Repo, id int64, upd CheckRunUpdate) error
}

// CheckRunRef is what the bot needs to know about an existing check run.
type CheckRunRef struct {
	ID         int64
	Status     string // queued, in_progress, completed
	Conclusion string
}

// NewCheckRun creates a check run. The project.yaml check sends no output
// here: its annotations follow in updates, so that a retried create can
// never duplicate them. A run's check run is created showing its state
// (Status to Actions), which saves an update.
type NewCheckRun struct {
	Name        string
	HeadSHA     string
	ExternalID  string
	DetailsURL  string
	Status      string // queued, in_progress or completed
	Conclusion  string // with completed
	StartedAt   time.Time
	CompletedAt time.Time
	Output      *CheckRunOutput // without annotations
	Actions     []CheckRunAction
}

// CheckRunUpdate changes a check run. GitHub appends the annotations of each
// update to those already on the run, at most 50 per request.
type CheckRunUpdate struct {
	Status      string // in_progress or completed
	Conclusion  string // set with Status completed
	CompletedAt time.Time
	Output      *CheckRunOutput
	// Actions are the run's buttons (at most 3): nil leaves them as they
	// are, an empty slice removes them.
	Actions []CheckRunAction
}

// CheckRunAction is a button on a check run; a click sends a check_run
// requested_action event with its Identifier.
type CheckRunAction struct {
	Label       string // at most 20 characters
	Description string // at most 40 characters
	Identifier  string // at most 20 characters
}

// CheckRunOutput is the title, summary, text and a batch of annotations.
type CheckRunOutput struct {
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}
