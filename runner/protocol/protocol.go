// Package protocol is the wire format between the bot and the backend agent
// (JSON over HTTP under /agent/v1). Both sides use these types, so that the
// two cannot drift apart.
package protocol

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/outputs"
)

// APIPrefix is where the bot serves the agent protocol.
const APIPrefix = "/agent/v1"

// Task kinds.
const (
	KindRunJob         = "run_job"
	KindCancelJob      = "cancel_job"
	KindPrepareRelease = "prepare_release"
	KindUploadRelease  = "upload_release"
)

// Stages of a task, in order.
const (
	StagePreparing  = "preparing"
	StageExecuting  = "executing"
	StageFinalizing = "finalizing"
	StageDone       = "done"
)

// Status codes the agent reports, job-runner's names.
const (
	CodePreparing         = "preparing"
	CodeExecuting         = "executing"
	CodeFinalizing        = "finalizing"
	CodeSucceeded         = "succeeded"
	CodeNonzeroExit       = "nonzero_exit"
	CodeUnmatchedPatterns = "unmatched_patterns"
	CodeCancelledByUser   = "cancelled_by_user"
	CodeInternalError     = "internal_error"
	CodeTimedOut          = "timed_out"
)

// Task is the answer to POST /tasks/claim.
type Task struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Attempt      int    `json:"attempt"`
	LeaseSeconds int64  `json:"lease_seconds"`
	Job          Job    `json:"job,omitzero"` // absent for a task that runs no job
	// Release is what a prepare_release or upload_release task is about.
	Release *ReleaseTask `json:"release,omitempty"`
}

// ReleaseTask names files of a workspace's medium privacy store that a
// release request is about.
//
// prepare_release: the agent inspects each file (ReleaseFile.Path only is
// set) and reports a ManifestFile for each, in Update.Manifest, with the
// update that ends the task.
//
// upload_release: the agent uploads each file, whose approved size and
// SHA-256 are given, with PUT {APIPrefix}/releases/{ID}/files/{path}
// (UploadPath), then ends the task. The bot refuses a file whose bytes are
// not the approved ones; the agent must not send it again.
type ReleaseTask struct {
	ID        string        `json:"id"`       // the release request
	Revision  int           `json:"revision"` // of its manifest
	Workspace string        `json:"workspace"`
	Files     []ReleaseFile `json:"files"`
}

// ReleaseFile is one file of a release task, by its path in the workspace.
type ReleaseFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size,omitempty"`   // upload_release: the approved size
	SHA256 string `json:"sha256,omitempty"` // upload_release: the approved hash (hex)
}

// ManifestFile is one file of a release as the agent found it in the
// medium privacy store: its shape and the automated disclosure findings,
// never its contents.
type ManifestFile struct {
	Path     string    `json:"path"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256"`
	Type     string    `json:"type"`              // the extension without its dot, lower case: csv, png
	Rows     *int      `json:"rows,omitempty"`    // CSV: data rows, the header not counted
	Columns  *int      `json:"columns,omitempty"` // CSV
	Findings []Finding `json:"findings"`
	// Problem says why the file could not be inspected (it is not in the
	// medium privacy store, not a regular file ...); "" when it was.
	Problem string `json:"problem,omitempty"`
}

// Finding is one automated disclosure-control finding: advice for output
// checkers, not a block.
type Finding struct {
	Check   string `json:"check"`   // small_count, unrounded_count, too_many_rows, patient_id_column, file_type
	Message string `json:"message"` // one line, about the file's shape: column names, row numbers, counts of cells
}

// Disclosure checks, as Finding.Check names them.
const (
	CheckSmallCount      = "small_count"       // a count of 1 to 7
	CheckUnroundedCount  = "unrounded_count"   // a count not a multiple of 5
	CheckTooManyRows     = "too_many_rows"     // more than 5,000 rows
	CheckPatientIDColumn = "patient_id_column" // a column called patient_id
	CheckFileType        = "file_type"         // a type output checkers do not release
)

// Errors a release's upload receiver returns (wrapped), which the bot's API
// answers with 404, 409 and 422 (see UploadPath).
var (
	ErrNoSuchRelease  = errors.New("no such release for this backend")
	ErrUploadRefused  = errors.New("upload refused")
	ErrUploadMismatch = errors.New("the bytes are not the approved ones")
)

// UploadPath is where an upload_release task's file goes, under APIPrefix:
// /releases/{id}/files/{path}, each path segment escaped. The body is the
// file's bytes, with its Content-Length. The bot answers:
//
//   - 200: received and matching the approved size and SHA-256 (again, for
//     a file received before: an upload is idempotent);
//   - 404: no such release for this backend;
//   - 409: the release is not waiting for uploads, or the file is not in
//     its approved manifest;
//   - 422: the bytes are not the approved ones (size or SHA-256): recorded
//     as an alarm; sending the same bytes again cannot help;
//   - 5xx: try again.
func UploadPath(releaseID, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/releases/" + url.PathEscape(releaseID) + "/files/" + strings.Join(segs, "/")
}

// Job is what a run_job task runs.
type Job struct {
	ID             string          `json:"id"`
	Action         string          `json:"action"`
	Workspace      string          `json:"workspace"`
	Repo           string          `json:"repo"`
	SHA            string          `json:"sha"`
	Image          string          `json:"image"`
	Args           []string        `json:"args"`
	Outputs        []OutputGroup   `json:"outputs"`
	Config         json.RawMessage `json:"config,omitempty"` // null or absent: no --config
	TimeoutSeconds int64           `json:"timeout_seconds"`
	Needs          []string        `json:"needs"`
}

// HasConfig reports whether the job carries an action config.
func (j Job) HasConfig() bool {
	c := string(j.Config)
	return c != "" && c != "null"
}

// OutputGroups converts the wire outputs to the pipeline model.
func (j Job) OutputGroups() []checks.OutputGroup {
	groups := make([]checks.OutputGroup, 0, len(j.Outputs))
	for _, g := range j.Outputs {
		cg := checks.OutputGroup{Level: g.Level}
		for _, o := range g.Outputs {
			cg.Outputs = append(cg.Outputs, checks.Output{Name: o.Name, Path: o.Path})
		}
		groups = append(groups, cg)
	}
	return groups
}

// OutputGroup is the outputs of one privacy level.
type OutputGroup struct {
	Level   checks.PrivacyLevel `json:"level"`
	Outputs []Output            `json:"outputs"`
}

// Output is one declared output: its name and path pattern.
type Output struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// Update is the body of POST /tasks/{id}/update. The bot applies each seq
// once, so a retried update is harmless; a lower seq than one already seen
// is ignored.
type Update struct {
	Attempt    int             `json:"attempt"`
	Seq        int64           `json:"seq"`
	Stage      string          `json:"stage"`
	StatusCode string          `json:"status_code"`
	Message    string          `json:"message"`
	ExitCode   *int            `json:"exit_code"`
	Results    *outputs.Report `json:"results"`
	// Manifest ends a prepare_release task: one entry per file asked for.
	Manifest []ManifestFile `json:"manifest,omitempty"`
}

// Answer is the bot's answer to an update.
type Answer struct {
	Cancel bool `json:"cancel"`
}
