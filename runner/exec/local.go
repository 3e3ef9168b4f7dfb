package exec

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// builtinPrefix marks a mapped command that is one of the Go stand-ins
// (builtin.go) rather than a program on PATH.
const builtinPrefix = "builtin:"

// Images maps an image to the local command that stands in for it, e.g.
// "python": {"python3"}, "r": {"Rscript"}, "ehrql": {"builtin:ehrql"}.
// A key "name:tag" takes precedence over "name".
type Images map[string][]string

// Local runs jobs as local processes, for development and the sandbox. It is
// not a security boundary: the docker executor is.
type Local struct {
	*jobs
	images Images
}

var _ Executor = (*Local)(nil)

// NewLocal opens a local executor on a state directory.
func NewLocal(stateDir string, images Images, opts ...Option) (*Local, error) {
	j, err := newJobs(stateDir, opts)
	if err != nil {
		return nil, err
	}
	for key, cmd := range images {
		if len(cmd) == 0 || cmd[0] == "" {
			return nil, fmt.Errorf("local.images.%s: empty command", key)
		}
		if name, ok := strings.CutPrefix(cmd[0], builtinPrefix); ok {
			if _, known := builtins[name]; !known {
				return nil, fmt.Errorf("local.images.%s: unknown built-in %q (built-ins: %s)", key, cmd[0], builtinNames())
			}
		}
	}
	return &Local{jobs: j, images: images}, nil
}

// Start runs the job's command: the image's mapped command followed by the
// job's arguments, as an argv (never through a shell).
func (l *Local) Start(ctx context.Context, s Spec) error {
	if err := s.check(); err != nil {
		return err
	}
	argv, isBuiltin, err := l.command(s.Image)
	if err != nil {
		return err
	}
	dir, err := workdir(s.Workdir)
	if err != nil {
		return err
	}
	p := plan{
		JobID:     s.JobID,
		Argv:      append(argv, s.Args...),
		Dir:       dir,
		Env:       mergeEnv(baseEnv(), s.Env),
		Timeout:   s.Timeout,
		KillGrace: l.killGrace,
		LogFile:   s.LogFile,
	}
	if isBuiltin {
		// A built-in is this binary again; it needs what the supervisor needs
		// to recognise itself (tests set a variable).
		p.Env = append(p.Env, l.supervisorEnv...)
	}
	return l.launch(ctx, p, nil)
}

// command resolves an image to the argv prefix that runs it here, and says
// whether that is a built-in.
func (l *Local) command(image string) (argv []string, isBuiltin bool, err error) {
	name, _, err := splitImage(image)
	if err != nil {
		return nil, false, err
	}
	key := image
	cmd, ok := l.images[image]
	if !ok {
		key = name
		cmd, ok = l.images[name]
	}
	if !ok {
		return nil, false, fmt.Errorf("image %s is not configured for the local executor (configured: %s); set local.images.%s",
			image, l.configured(), name)
	}
	if b, ok := strings.CutPrefix(cmd[0], builtinPrefix); ok {
		argv, err := l.builtinArgv(b)
		if err != nil {
			return nil, false, err
		}
		return append(argv, cmd[1:]...), true, nil
	}
	path, err := osexec.LookPath(cmd[0])
	if err != nil {
		return nil, false, fmt.Errorf("image %s maps to %s, which is not installed on this agent (set local.images.%s)",
			image, cmd[0], configKey(key))
	}
	if path, err = filepath.Abs(path); err != nil {
		return nil, false, err
	}
	return append([]string{path}, cmd[1:]...), false, nil
}

func (l *Local) configured() string {
	if len(l.images) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(l.images)), ", ")
}

// configKey writes a map key as it reads in fivesafes.yml's error messages.
func configKey(k string) string {
	if strings.Contains(k, ":") {
		return `"` + k + `"`
	}
	return k
}

// Status implements Executor.
func (l *Local) Status(_ context.Context, jobID string) (Status, error) { return l.status(jobID) }

// Wait implements Executor.
func (l *Local) Wait(ctx context.Context, jobID string) (Status, error) { return l.wait(ctx, jobID) }

// Cancel implements Executor.
func (l *Local) Cancel(ctx context.Context, jobID string) error {
	_, err := l.cancel(ctx, jobID)
	return err
}

// Cleanup implements Executor. The log file is kept when it lives outside
// the state directory.
func (l *Local) Cleanup(_ context.Context, jobID string) error { return l.cleanup(jobID) }

// workdir checks the workspace and makes its path absolute.
func workdir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("job has no workspace directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("workspace: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("workspace %s is not a directory", abs)
	}
	return abs, nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
