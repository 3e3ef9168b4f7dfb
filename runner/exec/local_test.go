package exec

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLocalRecordsExitCodeAndLog(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t)
	logFile := filepath.Join(t.TempDir(), "logs", "job.log")
	err := l.Start(ctx, Spec{JobID: "fails", Image: "fail:v1", Args: []string{"3"}, Workdir: t.TempDir(), LogFile: logFile})
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.Wait(ctx, "fails")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{State: StateExited, ExitCode: 3}); st != want {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	if got := readLog(t, logFile); !strings.Contains(got, "failing with exit code 3") {
		t.Errorf("log = %q, want the job's output", got)
	}
}

func TestLocalTimeoutStopsTheJob(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t)
	spec := Spec{JobID: "slow", Image: "sleep:v1", Args: []string{"60"}, Workdir: t.TempDir(), Timeout: 300 * time.Millisecond}
	if err := l.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	st, err := l.Wait(ctx, "slow")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{State: StateExited, ExitCode: 128 + 15, TimedOut: true}); st != want {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	if got := readLog(t, filepath.Join(l.dir("slow"), jobLogFile)); !strings.Contains(got, "longer than its timeout of 300ms") {
		t.Errorf("log = %q, want the timeout explained", got)
	}
}

func TestLocalCancelKillsTheProcessGroup(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t)
	fifo := mkfifo(t)
	spec := Spec{JobID: "family", Image: "testjob:v1", Args: []string{"grandchild", fifo}, Workdir: t.TempDir(),
		Env: jobEnv()}
	if err := l.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	grandchild, err := strconv.Atoi(readFIFO(t, fifo))
	if err != nil {
		t.Fatal(err)
	}
	if _, alive, _ := procStart(grandchild); !alive {
		t.Fatalf("grandchild %d is not running before the cancel", grandchild)
	}
	if err := l.Cancel(ctx, "family"); err != nil {
		t.Fatal(err)
	}
	st, err := l.Wait(ctx, "family")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{State: StateExited, ExitCode: 128 + 15, Cancelled: true}); st != want {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	// The supervisor reaps the group before it records the exit.
	if _, alive, _ := procStart(grandchild); alive {
		t.Errorf("grandchild %d outlived the cancelled job", grandchild)
	}
}

func TestLocalCancelBuiltinSleep(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t)
	start := time.Now()
	if err := l.Start(ctx, Spec{JobID: "nap", Image: "sleep:v1", Args: []string{"60"}, Workdir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if err := l.Cancel(ctx, "nap"); err != nil {
		t.Fatal(err)
	}
	st, err := l.Wait(ctx, "nap")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateExited || !st.Cancelled || st.TimedOut || st.ExitCode == 0 {
		t.Errorf("status = %+v, want a cancelled exit", st)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("cancel took %s", took)
	}
}

func TestLocalKillsAJobThatIgnoresSIGTERM(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t, WithKillGrace(100*time.Millisecond))
	fifo := mkfifo(t)
	spec := Spec{JobID: "stubborn", Image: "testjob:v1", Args: []string{"ignore-term", fifo}, Workdir: t.TempDir(),
		Env: jobEnv()}
	if err := l.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got := readFIFO(t, fifo); got != "ready" {
		t.Fatalf("job said %q", got)
	}
	if err := l.Cancel(ctx, "stubborn"); err != nil {
		t.Fatal(err)
	}
	st, err := l.Wait(ctx, "stubborn")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{State: StateExited, ExitCode: 128 + 9, Cancelled: true}); st != want {
		t.Errorf("status = %+v, want %+v", st, want)
	}
}

func TestLocalStartIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t)
	fifo := mkfifo(t)
	spec := Spec{JobID: "once", Image: "testjob:v1", Args: []string{"fifo", fifo}, Workdir: t.TempDir(),
		Env: jobEnv()}
	if err := l.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	pid1 := readLog(t, filepath.Join(l.dir("once"), pidFile))
	if err := l.Start(ctx, spec); err != nil {
		t.Fatalf("second start: %v", err)
	}
	if pid2 := readLog(t, filepath.Join(l.dir("once"), pidFile)); pid2 != pid1 {
		t.Errorf("second start replaced the supervisor: %q, then %q", pid1, pid2)
	}
	if st, _ := l.Status(ctx, "once"); st.State != StateRunning {
		t.Errorf("status = %+v, want running", st)
	}
	writeFIFO(t, fifo, "0")
	st, err := l.Wait(ctx, "once")
	if err != nil {
		t.Fatal(err)
	}
	if st != (Status{State: StateExited}) {
		t.Errorf("status = %+v, want exit 0", st)
	}
	if err := l.Start(ctx, spec); err != nil {
		t.Fatalf("start after the end: %v", err)
	}
	if st, _ := l.Status(ctx, "once"); st != (Status{State: StateExited}) {
		t.Errorf("a start after the end ran the job again: %+v", st)
	}
}

func TestLocalStartErrors(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l, err := NewLocal(t.TempDir(), Images{
		"python":  {"python3-not-installed-here"},
		"r:v2":    {"Rscript-not-installed-here"},
		"ehrql":   {"builtin:ehrql"},
		"testjob": {testExe()},
	}, testSupervisor())
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cases := map[string]struct {
		spec Spec
		want string
	}{
		"program missing from PATH": {
			Spec{JobID: "a", Image: "python:v2", Workdir: work},
			"image python:v2 maps to python3-not-installed-here, which is not installed on this agent (set local.images.python)",
		},
		"exact image:tag key": {
			Spec{JobID: "a", Image: "r:v2", Workdir: work},
			`image r:v2 maps to Rscript-not-installed-here, which is not installed on this agent (set local.images."r:v2")`,
		},
		"image not configured": {
			Spec{JobID: "a", Image: "stata-mp:latest", Workdir: work},
			"image stata-mp:latest is not configured for the local executor (configured: ehrql, python, r:v2, testjob); set local.images.stata-mp",
		},
		"image without tag": {
			Spec{JobID: "a", Image: "python", Workdir: work},
			`image "python" has no tag (want NAME:TAG, e.g. python:v2)`,
		},
		"job ID that is a path": {
			Spec{JobID: "../a", Image: "ehrql:v1", Workdir: work},
			`job ID "../a" is not usable as a file or container name (want letters, digits, '_', '.', '-', at most 128)`,
		},
		"missing workspace": {
			Spec{JobID: "a", Image: "ehrql:v1", Workdir: filepath.Join(work, "nope")},
			"workspace: stat " + filepath.Join(work, "nope") + ": no such file or directory",
		},
		"bad environment": {
			Spec{JobID: "a", Image: "ehrql:v1", Workdir: work, Env: map[string]string{"A=B": "c"}},
			`environment variable name "A=B" is not valid`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := l.Start(ctx, tc.spec)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Start: %v\nwant:  %s", err, tc.want)
			}
		})
	}
	if st, _ := l.Status(ctx, "a"); st.State != StateUnknown {
		t.Errorf("a refused start left a job behind: %+v", st)
	}
}

func TestNewLocalRefusesUnknownBuiltin(t *testing.T) {
	t.Parallel()
	_, err := NewLocal(t.TempDir(), Images{"python": {"builtin:python"}})
	want := `local.images.python: unknown built-in "builtin:python" (built-ins: builtin:copy, builtin:csv-summary, builtin:ehrql, builtin:fail, builtin:sleep, builtin:write)`
	if err == nil || err.Error() != want {
		t.Errorf("NewLocal: %v\nwant: %s", err, want)
	}
}

func TestLocalJobEnvironment(t *testing.T) {
	t.Setenv("FIVESAFES_AGENT_TOKEN", "s3cret")
	ctx := testContext(t)
	l := newTestLocal(t)
	work := t.TempDir()
	spec := Spec{JobID: "env", Image: "testjob:v1", Args: []string{"env"}, Workdir: work,
		Env: jobEnv("OPENSAFELY_BACKEND", "test")}
	if err := l.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if st, err := l.Wait(ctx, "env"); err != nil || st.ExitCode != 0 {
		t.Fatalf("Wait: %+v, %v", st, err)
	}
	got := readLog(t, filepath.Join(l.dir("env"), jobLogFile))
	for _, want := range []string{"OPENSAFELY_BACKEND=test\n", "PATH=", "WORKDIR=" + work + "\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("job environment lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cret") {
		t.Errorf("the agent's token reached the job:\n%s", got)
	}
}

func TestStatusFromTheStateDirectory(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t)
	mkjob := func(id string, files map[string]string) {
		dir := l.dir(id)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	self, _, err := procStart(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	mkjob("alive", map[string]string{pidFile: procRecord{os.Getpid(), self}.String()})
	// Runs before the executor's cleanup: "alive" is this very process.
	t.Cleanup(func() { os.RemoveAll(l.dir("alive")) })
	mkjob("reused-pid", map[string]string{pidFile: procRecord{os.Getpid(), "1"}.String()})
	mkjob("never-started", nil)
	mkjob("timed-out", map[string]string{pidFile: "1 1\n", timedOutFile: "", exitFile: "143\n"})
	cases := map[string]Status{
		"alive":         {State: StateRunning},
		"reused-pid":    {State: StateLost, Detail: "the job's supervisor (pid " + strconv.Itoa(os.Getpid()) + ") is gone and recorded no exit code"},
		"never-started": {State: StateLost, Detail: "the job's supervisor was never recorded as started"},
		"timed-out":     {State: StateExited, ExitCode: 143, TimedOut: true},
		"no-such-job":   {State: StateUnknown},
	}
	for id, want := range cases {
		if got, err := l.Status(ctx, id); err != nil || got != want {
			t.Errorf("Status(%s) = %+v, %v; want %+v", id, got, err, want)
		}
	}
	// Wait does not block on a job nobody is running.
	if got, err := l.Wait(ctx, "reused-pid"); err != nil || got.State != StateLost {
		t.Errorf("Wait on a lost job = %+v, %v", got, err)
	}
	// A Start that died before its supervisor was recorded is started afresh.
	if err := l.Start(ctx, Spec{JobID: "never-started", Image: "fail:v1", Args: []string{"4"}, Workdir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Wait(ctx, "never-started"); err != nil || got != (Status{State: StateExited, ExitCode: 4}) {
		t.Errorf("restarted job: %+v, %v", got, err)
	}
}

func TestCleanup(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t)
	fifo := mkfifo(t)
	spec := Spec{JobID: "tidy", Image: "testjob:v1", Args: []string{"fifo", fifo}, Workdir: t.TempDir(),
		Env: jobEnv()}
	if err := l.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := l.Cleanup(ctx, "tidy"); !errors.Is(err, ErrStillRunning) {
		t.Errorf("Cleanup of a running job: %v, want ErrStillRunning", err)
	}
	writeFIFO(t, fifo, "5")
	if st, err := l.Wait(ctx, "tidy"); err != nil || st.ExitCode != 5 {
		t.Fatalf("Wait: %+v, %v", st, err)
	}
	if err := l.Cleanup(ctx, "tidy"); err != nil {
		t.Fatal(err)
	}
	if st, _ := l.Status(ctx, "tidy"); st.State != StateUnknown {
		t.Errorf("after cleanup: %+v", st)
	}
}

func TestSupervisorMainUsage(t *testing.T) {
	t.Parallel()
	if code := SupervisorMain(nil); code != 2 {
		t.Errorf("SupervisorMain() = %d, want 2", code)
	}
}
