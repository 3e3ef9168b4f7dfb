// Package protocol is the wire format between the bot and the backend agent
// (JSON over HTTP under /agent/v1). Both sides use these types, so that the
// two cannot drift apart.
package protocol

import (
	"encoding/json"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/outputs"
)

// APIPrefix is where the bot serves the agent protocol.
const APIPrefix = "/agent/v1"

// Task kinds.
const (
	KindRunJob    = "run_job"
	KindCancelJob = "cancel_job"
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
}

// Answer is the bot's answer to an update.
type Answer struct {
	Cancel bool `json:"cancel"`
}
