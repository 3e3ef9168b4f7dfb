package exec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fivesafes/fivesafes/internal/logging"
)

// jobs is what every executor shares: a state directory of supervised jobs.
type jobs struct {
	stateDir      string
	supervisor    []string // argv prefix that runs SupervisorMain
	supervisorEnv []string // added to the supervisor's environment
	killGrace     time.Duration
	poll          time.Duration
	ackTimeout    time.Duration

	mu     sync.Mutex
	starts map[string]*sync.Mutex     // serialises Start per job ID
	reaped map[string]<-chan struct{} // closed when a supervisor we started ends
}

// Option configures an executor.
type Option func(*jobs)

// WithSupervisor sets the command that runs SupervisorMain (default: this
// binary with the agent-supervise subcommand) and variables to add to its
// environment.
func WithSupervisor(argv []string, env ...string) Option {
	return func(j *jobs) {
		j.supervisor = append([]string(nil), argv...)
		j.supervisorEnv = append([]string(nil), env...)
	}
}

// WithKillGrace sets how long a stopped job has between SIGTERM and SIGKILL
// (default 10s).
func WithKillGrace(d time.Duration) Option { return func(j *jobs) { j.killGrace = d } }

// WithPollInterval sets how often Wait looks at a job it did not start
// itself, e.g. after a restart (default 200ms).
func WithPollInterval(d time.Duration) Option { return func(j *jobs) { j.poll = d } }

func newJobs(stateDir string, opts []Option) (*jobs, error) {
	if stateDir == "" {
		return nil, errors.New("executor: state directory is required")
	}
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("executor state directory: %w", err)
	}
	j := &jobs{
		stateDir:   abs,
		killGrace:  10 * time.Second,
		poll:       200 * time.Millisecond,
		ackTimeout: 30 * time.Second,
		starts:     map[string]*sync.Mutex{},
		reaped:     map[string]<-chan struct{}{},
	}
	for _, o := range opts {
		o(j)
	}
	if len(j.supervisor) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("executor: find own binary for the supervisor: %w", err)
		}
		j.supervisor = []string{exe, SupervisorCommand}
	}
	return j, nil
}

func (j *jobs) dir(jobID string) string { return filepath.Join(j.stateDir, jobID) }

func (j *jobs) startLock(jobID string) *sync.Mutex {
	j.mu.Lock()
	defer j.mu.Unlock()
	m, ok := j.starts[jobID]
	if !ok {
		m = &sync.Mutex{}
		j.starts[jobID] = m
	}
	return m
}

// builtinArgv is how a job's process runs a built-in: the supervisor's own
// binary, as a child in the job's process group.
func (j *jobs) builtinArgv(name string) ([]string, error) {
	exe, err := osexec.LookPath(j.supervisor[0])
	if err != nil {
		return nil, fmt.Errorf("find the supervisor binary for built-in %s: %w", name, err)
	}
	argv := append([]string{exe}, j.supervisor[1:]...)
	return append(argv, "builtin", name), nil
}

// launch starts a supervisor for the plan, unless this job was started
// before. It returns once the supervisor is recorded in the pid file and
// handles SIGTERM, so Status, Cancel and a restarted agent can find it.
func (j *jobs) launch(ctx context.Context, p plan, files map[string][]byte) error {
	lock := j.startLock(p.JobID)
	lock.Lock()
	defer lock.Unlock()

	dir := j.dir(p.JobID)
	if exists(dir) {
		if exists(filepath.Join(dir, pidFile)) || exists(filepath.Join(dir, exitFile)) {
			return nil // already started
		}
		// A Start that died before its supervisor was recorded: that
		// supervisor never runs the job (see supervise), start afresh.
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("job %s: remove unfinished start: %w", p.JobID, err)
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("job %s: %w", p.JobID, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	if p.LogFile == "" {
		p.LogFile = filepath.Join(dir, jobLogFile)
	}
	var err error
	if p.LogFile, err = filepath.Abs(p.LogFile); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.LogFile), 0o700); err != nil {
		return fmt.Errorf("job %s: log directory: %w", p.JobID, err)
	}
	for name, data := range files {
		if err := writeFileAtomic(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("job %s: %w", p.JobID, err)
		}
	}
	if err := writePlan(dir, p); err != nil {
		return fmt.Errorf("job %s: write plan: %w", p.JobID, err)
	}
	done, err := j.spawn(dir)
	if err != nil {
		return fmt.Errorf("job %s: %w", p.JobID, err)
	}
	ok = true
	j.mu.Lock()
	j.reaped[p.JobID] = done
	j.mu.Unlock()
	logging.From(ctx).Info("job started", logging.KeyJob, p.JobID, "argv0", p.Argv[0])
	return nil
}

// spawn runs the supervisor in a new session and performs the handshake.
// The returned channel is closed when the supervisor has ended and been
// reaped.
func (j *jobs) spawn(dir string) (<-chan struct{}, error) {
	goR, goW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer goW.Close()
	ackR, ackW, err := os.Pipe()
	if err != nil {
		goR.Close()
		return nil, err
	}
	defer ackR.Close()
	logf, err := os.OpenFile(filepath.Join(dir, superLogFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		goR.Close()
		ackW.Close()
		return nil, err
	}
	argv := append(append([]string(nil), j.supervisor...), "job", dir)
	cmd := osexec.Command(argv[0], argv[1:]...)
	cmd.Env = append(baseEnv(), j.supervisorEnv...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{goR, ackW} // fds 3 and 4
	// A session of its own: the agent's death, or a signal to the agent's
	// process group, does not reach the job.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	goR.Close()
	ackW.Close()
	logf.Close()
	if err != nil {
		return nil, fmt.Errorf("start supervisor %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	fail := func(err error) (<-chan struct{}, error) {
		_ = cmd.Process.Kill()
		<-done
		return nil, err
	}
	rec, err := recordProcess(cmd.Process.Pid)
	if err != nil {
		return fail(fmt.Errorf("record supervisor: %w", err))
	}
	if err := writeRecord(filepath.Join(dir, pidFile), rec); err != nil {
		return fail(fmt.Errorf("record supervisor: %w", err))
	}
	if _, err := goW.Write([]byte{1}); err != nil {
		return fail(fmt.Errorf("start supervisor: %w", err))
	}
	if err := ackR.SetReadDeadline(time.Now().Add(j.ackTimeout)); err != nil {
		return fail(err)
	}
	if n, _ := ackR.Read(make([]byte, 1)); n != 1 {
		return fail(fmt.Errorf("the supervisor did not start (see %s)", filepath.Join(dir, superLogFile)))
	}
	return done, nil
}

func (j *jobs) status(jobID string) (Status, error) {
	if err := checkJobID(jobID); err != nil {
		return Status{}, err
	}
	return readStatus(j.dir(jobID))
}

func (j *jobs) wait(ctx context.Context, jobID string) (Status, error) {
	if err := checkJobID(jobID); err != nil {
		return Status{}, err
	}
	j.mu.Lock()
	done := j.reaped[jobID]
	j.mu.Unlock()
	if done != nil {
		// Our own child: its end is an event, no need to poll.
		select {
		case <-done:
			return j.status(jobID)
		case <-ctx.Done():
			return Status{}, ctx.Err()
		}
	}
	tick := time.NewTicker(j.poll)
	defer tick.Stop()
	for {
		st, err := j.status(jobID)
		if err != nil || st.State != StateRunning {
			return st, err
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return Status{}, ctx.Err()
		}
	}
}

// cancel asks the supervisor to stop the job. A job whose supervisor is lost
// has its process group killed directly.
func (j *jobs) cancel(ctx context.Context, jobID string) (Status, error) {
	st, err := j.status(jobID)
	if err != nil {
		return st, err
	}
	dir := j.dir(jobID)
	switch st.State {
	case StateRunning:
		sup, err := readRecord(filepath.Join(dir, pidFile))
		if err != nil {
			return st, err
		}
		err = sup.signal(syscall.SIGTERM)
		if errors.Is(err, os.ErrProcessDone) {
			return j.status(jobID)
		}
		if err != nil {
			return st, fmt.Errorf("cancel job %s: %w", jobID, err)
		}
		logging.From(ctx).Info("job cancel requested", logging.KeyJob, jobID)
	case StateLost:
		child, err := readRecord(filepath.Join(dir, childFile))
		if err == nil && child.alive() {
			_ = mark(dir, cancelledFile)
			_ = syscall.Kill(-child.PID, syscall.SIGKILL)
			logging.From(ctx).Warn("killed the process group of a job whose supervisor is lost", logging.KeyJob, jobID)
		}
	}
	return st, nil
}

func (j *jobs) cleanup(jobID string) error {
	st, err := j.status(jobID)
	if err != nil {
		return err
	}
	if st.State == StateRunning {
		return fmt.Errorf("clean up job %s: %w; cancel it and wait first", jobID, ErrStillRunning)
	}
	j.mu.Lock()
	delete(j.reaped, jobID)
	delete(j.starts, jobID)
	j.mu.Unlock()
	if err := os.RemoveAll(j.dir(jobID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// inheritedEnv are the agent's variables a job (or the docker CLI) may see.
// Everything else, the agent's token first, stays in the agent.
var inheritedEnv = []string{"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"}

func baseEnv(extra ...string) []string {
	var env []string
	for _, k := range append(inheritedEnv, extra...) {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// mergeEnv returns base with vars added, vars winning, in a stable order.
func mergeEnv(base []string, vars map[string]string) []string {
	out := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, override := vars[k]; !override {
			out = append(out, kv)
		}
	}
	for _, k := range sortedKeys(vars) {
		out = append(out, k+"="+vars[k])
	}
	return out
}
