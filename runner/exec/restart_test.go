package exec

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The agent dies (SIGKILL) while its job runs; a new executor on the same
// state directory finds the job running and gets its exit code.
func TestJobSurvivesTheAgent(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	stateDir, work, fifo := t.TempDir(), t.TempDir(), mkfifo(t)

	agent := exec.Command(testExe(), stateDir, work, fifo)
	agent.Env = append(os.Environ(), roleVar+"=agent", noRaceExitSleep)
	out, err := agent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "started" {
		agent.Process.Kill()
		agent.Wait()
		t.Fatalf("agent said %q (%v)", line, err)
	}
	if err := agent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	agent.Wait()

	l, err := NewLocal(stateDir, testImages(), testSupervisor())
	if err != nil {
		t.Fatal(err)
	}
	cancelJobsAtCleanup(t, l, stateDir)
	if st, err := l.Status(ctx, "survivor"); err != nil || st.State != StateRunning {
		t.Fatalf("after the agent died: %+v, %v; want running", st, err)
	}
	writeFIFO(t, fifo, "7")
	st, err := l.Wait(ctx, "survivor")
	if err != nil {
		t.Fatal(err)
	}
	if st != (Status{State: StateExited, ExitCode: 7}) {
		t.Errorf("status = %+v, want exit 7", st)
	}
}

// Cancel works on a job another agent process started.
func TestCancelAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	stateDir, work := t.TempDir(), t.TempDir()
	first, err := NewLocal(stateDir, testImages(), testSupervisor())
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(ctx, Spec{JobID: "long", Image: "sleep:v1", Args: []string{"60"}, Workdir: work}); err != nil {
		t.Fatal(err)
	}
	second, err := NewLocal(stateDir, testImages(), testSupervisor(), WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cancelJobsAtCleanup(t, second, stateDir)
	if err := second.Cancel(ctx, "long"); err != nil {
		t.Fatal(err)
	}
	st, err := second.Wait(ctx, "long")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateExited || !st.Cancelled {
		t.Errorf("status = %+v, want a cancelled exit", st)
	}
}
