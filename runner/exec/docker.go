package exec

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/internal/logging"
)

// DockerConfig is executors.docker of the agent's configuration.
type DockerConfig struct {
	// Binary is the docker CLI; default "docker" on PATH.
	Binary string
	// Registry prefixes images that Images does not name:
	// "ghcr.io/opensafely-core" runs python:v2 as
	// ghcr.io/opensafely-core/python:v2.
	Registry string
	// Images maps "name:tag" (used as is, e.g. pinned by digest) or "name"
	// (the job's tag is appended, unless the reference has a digest) to an
	// image reference.
	Images map[string]string
	CPUs   string // --cpus, e.g. "2"; empty: no limit
	Memory string // --memory, e.g. "4g"; empty: no limit
	// User is --user UID[:GID]; empty: the agent's own, so that outputs in
	// the workspace belong to the agent.
	User string
}

// Docker runs jobs as containers with no network and no capabilities. The
// docker CLI runs under the same supervisor as a local job, which stops the
// container by name at the timeout or on Cancel.
type Docker struct {
	*jobs
	cfg DockerConfig
}

var _ Executor = (*Docker)(nil)

var (
	cpusPattern   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	memoryPattern = regexp.MustCompile(`^[0-9]+[bkmgBKMG]?$`)
	userPattern   = regexp.MustCompile(`^[0-9]+(:[0-9]+)?$`)
	refPattern    = regexp.MustCompile(`^[a-z0-9][A-Za-z0-9._/:@-]*$`)
)

// dockerCLIEnv are the agent's variables the docker CLI needs.
var dockerCLIEnv = []string{"DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_CONTEXT", "XDG_RUNTIME_DIR"}

// NewDocker opens a docker executor on a state directory.
func NewDocker(stateDir string, cfg DockerConfig, opts ...Option) (*Docker, error) {
	switch {
	case cfg.CPUs != "" && !cpusPattern.MatchString(cfg.CPUs):
		return nil, fmt.Errorf("executors.docker.cpus: %q is not a number of CPUs", cfg.CPUs)
	case cfg.Memory != "" && !memoryPattern.MatchString(cfg.Memory):
		return nil, fmt.Errorf("executors.docker.memory: %q is not a size such as 4g", cfg.Memory)
	case cfg.User != "" && !userPattern.MatchString(cfg.User):
		return nil, fmt.Errorf("executors.docker.user: %q is not UID or UID:GID", cfg.User)
	}
	for k, ref := range cfg.Images {
		if !refPattern.MatchString(ref) {
			return nil, fmt.Errorf("executors.docker.images.%s: %q is not an image reference", configKey(k), ref)
		}
	}
	if cfg.Registry != "" && !refPattern.MatchString(cfg.Registry) {
		return nil, fmt.Errorf("executors.docker.registry: %q is not a registry path", cfg.Registry)
	}
	if cfg.Binary == "" {
		cfg.Binary = "docker"
	}
	if cfg.User == "" {
		cfg.User = fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
	}
	j, err := newJobs(stateDir, opts)
	if err != nil {
		return nil, err
	}
	return &Docker{jobs: j, cfg: cfg}, nil
}

// ContainerName is the name of a job's container.
func ContainerName(jobID string) string { return "fivesafes-job-" + jobID }

// Start runs the job's container.
func (d *Docker) Start(ctx context.Context, s Spec) error {
	if err := s.check(); err != nil {
		return err
	}
	ref, err := d.imageRef(s.Image)
	if err != nil {
		return err
	}
	dir, err := workdir(s.Workdir)
	if err != nil {
		return err
	}
	if strings.ContainsAny(dir, ":,") {
		return fmt.Errorf("workspace %s: the docker executor cannot mount a path with ':' or ','", dir)
	}
	cli, err := d.cli()
	if err != nil {
		return err
	}
	var files map[string][]byte
	envPath := ""
	if len(s.Env) > 0 {
		// In a file, not on the command line, where ps would show it.
		var b bytes.Buffer
		for _, k := range sortedKeys(s.Env) {
			fmt.Fprintf(&b, "%s=%s\n", k, s.Env[k])
		}
		files = map[string][]byte{envFile: b.Bytes()}
		envPath = filepath.Join(d.dir(s.JobID), envFile)
	}
	name := ContainerName(s.JobID)
	env := baseEnv(dockerCLIEnv...)
	p := plan{
		JobID:     s.JobID,
		Argv:      append([]string{cli}, d.runArgs(s, dir, envPath, ref)...),
		Dir:       dir,
		Env:       env,
		Timeout:   s.Timeout,
		KillGrace: d.killGrace,
		LogFile:   s.LogFile,
		// docker stop sends SIGTERM, then SIGKILL after the grace period.
		StopArgv: []string{cli, "stop", "-t", strconv.Itoa(int(math.Ceil(d.killGrace.Seconds()))), name},
		StopEnv:  env,
	}
	return d.launch(ctx, p, files)
}

// runArgs is `docker run` for a job, without the CLI's own path.
func (d *Docker) runArgs(s Spec, workdir, envPath, ref string) []string {
	args := []string{
		"run", "--rm",
		"--name", ContainerName(s.JobID),
		"--network", "none",
		"--cap-drop", "ALL",
		"--security-opt", "no-new-privileges",
		"--pull=never",
	}
	if d.cfg.CPUs != "" {
		args = append(args, "--cpus", d.cfg.CPUs)
	}
	if d.cfg.Memory != "" {
		args = append(args, "--memory", d.cfg.Memory)
	}
	args = append(args,
		"--user", d.cfg.User,
		"-v", workdir+":/workspace",
		"-w", "/workspace",
		"--label", "fivesafes.job="+s.JobID,
	)
	if envPath != "" {
		args = append(args, "--env-file", envPath)
	}
	args = append(args, ref)
	return append(args, s.Args...)
}

// imageRef resolves a job's image to the reference docker runs.
func (d *Docker) imageRef(image string) (string, error) {
	name, tag, err := splitImage(image)
	if err != nil {
		return "", err
	}
	if ref, ok := d.cfg.Images[image]; ok {
		return ref, nil
	}
	if ref, ok := d.cfg.Images[name]; ok {
		if strings.Contains(ref, "@") {
			return ref, nil
		}
		return ref + ":" + tag, nil
	}
	if d.cfg.Registry != "" {
		return strings.TrimSuffix(d.cfg.Registry, "/") + "/" + name + ":" + tag, nil
	}
	configured := "none"
	if len(d.cfg.Images) > 0 {
		configured = strings.Join(sortedKeys(d.cfg.Images), ", ")
	}
	return "", fmt.Errorf("image %s is not configured for the docker executor (configured: %s); set executors.docker.images.%s or executors.docker.registry",
		image, configured, name)
}

func (d *Docker) cli() (string, error) {
	path, err := osexec.LookPath(d.cfg.Binary)
	if err != nil {
		return "", fmt.Errorf("the docker executor needs the docker CLI, and %s is not installed on this agent (set executors.docker.binary)", d.cfg.Binary)
	}
	return filepath.Abs(path)
}

// docker runs a short docker CLI command.
func (d *Docker) docker(ctx context.Context, args ...string) (string, error) {
	cli, err := d.cli()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := osexec.CommandContext(ctx, cli, args...)
	cmd.Env = baseEnv(dockerCLIEnv...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Status implements Executor. The supervisor's record is the truth; for a
// lost job it says whether the container is still running.
func (d *Docker) Status(ctx context.Context, jobID string) (Status, error) {
	st, err := d.status(jobID)
	if err != nil || st.State != StateLost {
		return st, err
	}
	name := ContainerName(jobID)
	if out, err := d.docker(ctx, "inspect", "--format", "{{.State.Status}}", name); err == nil && out == "running" {
		st.Detail += fmt.Sprintf("; container %s is still running (cancel the job to stop it)", name)
	}
	return st, nil
}

// Wait implements Executor.
func (d *Docker) Wait(ctx context.Context, jobID string) (Status, error) { return d.wait(ctx, jobID) }

// Cancel implements Executor. A running job's supervisor stops its
// container; a lost job's container is killed here.
func (d *Docker) Cancel(ctx context.Context, jobID string) error {
	st, err := d.cancel(ctx, jobID)
	if err != nil {
		return err
	}
	if st.State == StateLost {
		name := ContainerName(jobID)
		if out, err := d.docker(ctx, "kill", name); err != nil {
			logging.From(ctx).Info("docker kill of a lost job's container", logging.KeyJob, jobID, "error", err, "output", out)
		}
	}
	return nil
}

// Cleanup implements Executor, removing the container if --rm did not.
func (d *Docker) Cleanup(ctx context.Context, jobID string) error {
	if err := d.cleanup(jobID); err != nil {
		return err
	}
	if out, err := d.docker(ctx, "rm", "--force", ContainerName(jobID)); err != nil {
		logging.From(ctx).Debug("docker rm after a job", logging.KeyJob, jobID, "error", err, "output", out)
	}
	return nil
}
