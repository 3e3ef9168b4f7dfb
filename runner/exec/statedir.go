package exec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Files in a job's state directory, <stateDir>/<jobID>/.
const (
	planFile      = "plan.json"      // what the supervisor runs (written before it starts)
	pidFile       = "pid"            // "PID STARTTIME" of the supervisor
	childFile     = "child"          // "PID STARTTIME" of the job's process (its group leader)
	exitFile      = "exit"           // the exit code, written last, atomically
	timedOutFile  = "timed_out"      // marker: stopped at its timeout
	cancelledFile = "cancelled"      // marker: stopped by Cancel
	envFile       = "env"            // docker: the container's environment
	superLogFile  = "supervisor.log" // the supervisor's own complaints
	jobLogFile    = "log"            // the job's output when Spec.LogFile is empty
)

// plan is what the supervisor needs to run a job, resolved by the executor.
type plan struct {
	JobID     string        `json:"job_id"`
	Argv      []string      `json:"argv"` // Argv[0] is an absolute path
	Dir       string        `json:"dir"`
	Env       []string      `json:"env"`
	Timeout   time.Duration `json:"timeout"`
	KillGrace time.Duration `json:"kill_grace"`
	LogFile   string        `json:"log_file"`
	// StopArgv runs before the process group is signalled, for jobs whose
	// work is not in the group (a container).
	StopArgv []string `json:"stop_argv,omitempty"`
	StopEnv  []string `json:"stop_env,omitempty"`
}

// writeFileAtomic writes a file that readers see whole or not at all.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func writePlan(dir string, p plan) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, planFile), data, 0o600)
}

func readPlan(dir string) (plan, error) {
	var p plan
	data, err := os.ReadFile(filepath.Join(dir, planFile))
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("%s: %w", filepath.Join(dir, planFile), err)
	}
	if len(p.Argv) == 0 {
		return p, fmt.Errorf("%s: empty argv", filepath.Join(dir, planFile))
	}
	return p, nil
}

// procRecord identifies a process beyond its PID, which the kernel reuses.
type procRecord struct {
	PID   int
	Start string // start time in clock ticks since boot, from /proc/PID/stat
}

func (r procRecord) String() string { return fmt.Sprintf("%d %s\n", r.PID, r.Start) }

func recordProcess(pid int) (procRecord, error) {
	start, alive, err := procStart(pid)
	if err != nil {
		return procRecord{}, err
	}
	if !alive {
		return procRecord{}, fmt.Errorf("process %d exited at once", pid)
	}
	return procRecord{PID: pid, Start: start}, nil
}

func writeRecord(path string, r procRecord) error {
	return writeFileAtomic(path, []byte(r.String()), 0o600)
}

func readRecord(path string) (procRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return procRecord{}, err
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return procRecord{}, fmt.Errorf("%s: want \"PID STARTTIME\", got %q", path, data)
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return procRecord{}, fmt.Errorf("%s: bad PID %q", path, f[0])
	}
	return procRecord{PID: pid, Start: f[1]}, nil
}

// alive reports whether the recorded process is still the one running.
func (r procRecord) alive() bool {
	start, alive, err := procStart(r.PID)
	return err == nil && alive && start == r.Start
}

// signal sends sig to the recorded process, never to a stranger that reused
// its PID: os.FindProcess holds a pidfd, so the check and the signal concern
// the same process.
func (r procRecord) signal(sig os.Signal) error {
	p, err := os.FindProcess(r.PID)
	if err != nil {
		return err
	}
	defer p.Release()
	if !r.alive() {
		return os.ErrProcessDone
	}
	return p.Signal(sig)
}

func writeExit(dir string, code int) error {
	return writeFileAtomic(filepath.Join(dir, exitFile), []byte(strconv.Itoa(code)+"\n"), 0o600)
}

func mark(dir, name string) error {
	return writeFileAtomic(filepath.Join(dir, name), nil, 0o600)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// readExit returns the recorded end of a job, if there is one. Markers are
// written before the exit file, so they are final once it exists.
func readExit(dir string) (Status, bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, exitFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, false, nil
	}
	if err != nil {
		return Status{}, false, err
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return Status{}, false, fmt.Errorf("%s: bad exit code %q", filepath.Join(dir, exitFile), data)
	}
	return Status{
		State:     StateExited,
		ExitCode:  code,
		TimedOut:  exists(filepath.Join(dir, timedOutFile)),
		Cancelled: exists(filepath.Join(dir, cancelledFile)),
	}, true, nil
}

// readStatus derives a job's state from its directory alone; it is all an
// executor needs after a restart.
func readStatus(dir string) (Status, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return Status{State: StateUnknown}, nil
	}
	if st, ok, err := readExit(dir); ok || err != nil {
		return st, err
	}
	sup, err := readRecord(filepath.Join(dir, pidFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Status{State: StateLost, Detail: "the job's supervisor was never recorded as started"}, nil
	}
	if err != nil {
		return Status{}, err
	}
	if sup.alive() {
		return Status{State: StateRunning}, nil
	}
	// The supervisor may have written the exit code and ended between the
	// two reads.
	if st, ok, err := readExit(dir); ok || err != nil {
		return st, err
	}
	return Status{State: StateLost, Detail: fmt.Sprintf("the job's supervisor (pid %d) is gone and recorded no exit code", sup.PID)}, nil
}
