package exec

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/logging"
)

// The test binary plays every process of the system, chosen by a variable
// (or, for the fake docker CLI, by the name it is run under).
const roleVar = "FIVESAFES_EXEC_TEST_ROLE"

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "docker" {
		// syscall.Exit skips the race detector's sleep at exit: the docker
		// CLI's environment is not ours to set.
		syscall.Exit(fakeDocker(os.Args[1:]))
	}
	switch os.Getenv(roleVar) {
	case "supervisor":
		os.Exit(SupervisorMain(os.Args[1:]))
	case "job":
		os.Exit(testJob(os.Args[1:]))
	case "agent":
		os.Exit(testAgent(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// testJob is a job's program with behaviours the built-ins do not have.
func testJob(args []string) int {
	if len(args) == 0 {
		return 2
	}
	switch args[0] {
	case "exit": // exit CODE
		code, _ := strconv.Atoi(args[1])
		return code
	case "fifo": // fifo PATH: exit with the code written into PATH
		data, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Println(err)
			return 100
		}
		code, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		fmt.Printf("released with %d\n", code)
		return code
	case "grandchild": // grandchild FIFO: start a process in our group, report its PID, hang
		exe, _ := os.Executable()
		p, err := os.StartProcess(exe, []string{exe, "hang"}, &os.ProcAttr{Env: os.Environ()})
		if err != nil {
			fmt.Println(err)
			return 100
		}
		_ = os.WriteFile(args[1], []byte(strconv.Itoa(p.Pid)), 0)
		time.Sleep(time.Hour)
	case "ignore-term": // ignore-term FIFO: ignore SIGTERM, then say so and hang
		signal.Ignore(syscall.SIGTERM)
		_ = os.WriteFile(args[1], []byte("ready"), 0)
		time.Sleep(time.Hour)
	case "hang":
		time.Sleep(time.Hour)
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
		wd, _ := os.Getwd()
		fmt.Println("WORKDIR=" + wd)
		return 0
	}
	return 2
}

// testAgent starts a job on a state directory, says so on stdout and waits
// to be killed: the agent dying with a job in flight.
func testAgent(args []string) int {
	stateDir, workdir, fifo := args[0], args[1], args[2]
	l, err := NewLocal(stateDir, testImages(), testSupervisor())
	if err != nil {
		fmt.Println(err)
		return 1
	}
	err = l.Start(context.Background(), Spec{
		JobID: "survivor", Image: "testjob:v1", Args: []string{"fifo", fifo},
		Workdir: workdir, Env: jobEnv(),
	})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("started")
	time.Sleep(time.Hour)
	return 0
}

func testExe() string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return exe
}

func testSupervisor() Option {
	return WithSupervisor([]string{testExe()}, roleVar+"=supervisor", noRaceExitSleep)
}

// noRaceExitSleep spares each child of a -race test binary the race
// detector's one-second sleep at exit.
const noRaceExitSleep = "GORACE=atexit_sleep_ms=0"

// jobEnv makes a job of the test binary play testJob.
func jobEnv(kv ...string) map[string]string {
	env := map[string]string{roleVar: "job", "GORACE": "atexit_sleep_ms=0"}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func testImages() Images {
	return Images{
		"testjob": {testExe()},
		"ehrql":   {"builtin:ehrql"},
		"copy":    {"builtin:copy"},
		"summary": {"builtin:csv-summary"},
		"fail":    {"builtin:fail"},
		"sleep":   {"builtin:sleep"},
		"write":   {"builtin:write"},
	}
}

// fakeDocker records its arguments in calls.jsonl beside itself and behaves
// as files there say: run.exit (exit code of run), run.block (run hangs
// until killed), inspect.out (what inspect prints).
func fakeDocker(args []string) int {
	dir := filepath.Dir(os.Args[0])
	line, _ := json.Marshal(args)
	f, err := os.OpenFile(filepath.Join(dir, "calls.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 125
	}
	_, _ = f.Write(append(line, '\n'))
	f.Close()
	if len(args) == 0 {
		return 125
	}
	switch args[0] {
	case "run":
		fmt.Println("output of the container")
		if exists(filepath.Join(dir, "run.block")) {
			time.Sleep(time.Hour)
		}
		data, _ := os.ReadFile(filepath.Join(dir, "run.exit"))
		code, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		return code
	case "inspect":
		data, _ := os.ReadFile(filepath.Join(dir, "inspect.out"))
		os.Stdout.Write(data)
	}
	return 0
}

// mkfifo makes a named pipe: a job and the test meet there without polling.
func mkfifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeFIFO hands text to the job blocked on the pipe.
func writeFIFO(t *testing.T, path, text string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- os.WriteFile(path, []byte(text), 0) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no job opened %s for reading", path)
	}
}

// readFIFO waits for the job to write into the pipe.
func readFIFO(t *testing.T, path string) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		data, _ := os.ReadFile(path)
		done <- string(data)
	}()
	select {
	case s := <-done:
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("the job wrote nothing into %s", path)
		return ""
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return logging.With(ctx, slog.New(slog.DiscardHandler))
}

func newTestLocal(t *testing.T, opts ...Option) *Local {
	t.Helper()
	dir := t.TempDir()
	l, err := NewLocal(dir, testImages(), append([]Option{testSupervisor()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cancelJobsAtCleanup(t, l, dir)
	return l
}

// cancelJobsAtCleanup stops whatever a failed test left running.
func cancelJobsAtCleanup(t *testing.T, e Executor, stateDir string) {
	t.Cleanup(func() {
		entries, _ := os.ReadDir(stateDir)
		for _, entry := range entries {
			_ = e.Cancel(context.Background(), entry.Name())
		}
	})
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
