// Package exec runs one job of a project pipeline inside the secure zone and
// keeps track of it across restarts of the agent.
//
// A job runs under a small supervisor process (the agent's own binary,
// re-executed with SupervisorMain) in a session of its own, so that the job
// survives the agent dying. The supervisor enforces the wall-clock timeout and
// records what happened in a per-job state directory; any executor opened on
// the same directory later reads the job's state from there.
package exec

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Spec is one job to run.
type Spec struct {
	JobID   string
	Image   string        // "python:v2": RunParts[0] of the action
	Args    []string      // RunParts[1:]
	Workdir string        // the workspace: code plus earlier outputs; /workspace in a container
	Timeout time.Duration // wall clock, enforced by the supervisor; 0: none
	// Env is set by the agent (OPENSAFELY_BACKEND, ...), never from user
	// text; the action's config reaches the job as --config in Args.
	Env map[string]string
	// LogFile receives stdout and stderr; it stays in the secure zone.
	// Empty means "log" in the job's state directory.
	LogFile string
}

// State is where a job is in its life.
type State string

const (
	// StateUnknown: no job with this ID was ever started on this state
	// directory (or it was cleaned up).
	StateUnknown State = "unknown"
	// StateRunning: the supervisor is alive.
	StateRunning State = "running"
	// StateExited: the job ended and its exit code is recorded.
	StateExited State = "exited"
	// StateLost: the supervisor is gone without recording an exit code
	// (the machine rebooted, someone killed it). The agent reports
	// internal_error.
	StateLost State = "lost"
)

// Status is what an executor knows about a job.
type Status struct {
	State State
	// ExitCode is the job's exit code when State is StateExited; a job
	// killed by a signal has 128+signal, as a shell reports it.
	ExitCode  int
	TimedOut  bool // the supervisor stopped the job at its timeout
	Cancelled bool // the job was stopped by Cancel
	// Detail says why a job is lost, for the agent's own log.
	Detail string
}

// Executor runs jobs. Every method works after the agent restarts, on a new
// executor opened on the same state directory.
type Executor interface {
	// Start runs a job. It is idempotent: starting a job ID that was already
	// started does nothing and returns nil.
	Start(ctx context.Context, s Spec) error
	// Status reports the job's state without blocking.
	Status(ctx context.Context, jobID string) (Status, error)
	// Wait blocks until the job is no longer running, or ctx is done.
	Wait(ctx context.Context, jobID string) (Status, error)
	// Cancel stops the job: its whole process group, or its container.
	// It returns once the stop is requested; Wait reports the end.
	Cancel(ctx context.Context, jobID string) error
	// Cleanup forgets a job that is no longer running.
	Cleanup(ctx context.Context, jobID string) error
}

// ErrStillRunning is returned by Cleanup for a job that is running.
var ErrStillRunning = errors.New("job is still running")

var (
	jobIDPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	imageNamePattern = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	imageTagPattern  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	envKeyPattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// checkJobID refuses IDs that cannot be a directory or container name.
func checkJobID(id string) error {
	if !jobIDPattern.MatchString(id) {
		return fmt.Errorf("job ID %q is not usable as a file or container name (want letters, digits, '_', '.', '-', at most 128)", id)
	}
	return nil
}

// splitImage splits "python:v2" into its name and tag. The image comes from
// the researcher's run line, so both parts are held to Docker's grammar.
func splitImage(image string) (name, tag string, err error) {
	name, tag, ok := strings.Cut(image, ":")
	if !ok {
		return "", "", fmt.Errorf("image %q has no tag (want NAME:TAG, e.g. python:v2)", image)
	}
	if !imageNamePattern.MatchString(name) {
		return "", "", fmt.Errorf("image %q: %q is not a valid image name", image, name)
	}
	if !imageTagPattern.MatchString(tag) {
		return "", "", fmt.Errorf("image %q: %q is not a valid tag", image, tag)
	}
	return name, tag, nil
}

// checkEnv refuses variables that would break the environment block or a
// docker env file.
func checkEnv(env map[string]string) error {
	for k, v := range env {
		if !envKeyPattern.MatchString(k) {
			return fmt.Errorf("environment variable name %q is not valid", k)
		}
		if strings.ContainsAny(v, "\x00\n\r") {
			return fmt.Errorf("environment variable %s: value contains a NUL or line break", k)
		}
	}
	return nil
}

func (s Spec) check() error {
	if err := checkJobID(s.JobID); err != nil {
		return err
	}
	if s.Timeout < 0 {
		return fmt.Errorf("job %s: negative timeout %s", s.JobID, s.Timeout)
	}
	return checkEnv(s.Env)
}
