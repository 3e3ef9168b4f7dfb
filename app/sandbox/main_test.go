package sandbox

import (
	"os"
	"testing"

	"github.com/fivesafes/fivesafes/runner/exec"
)

// The test binary is also the jobs' supervisor (and the built-ins it
// runs), chosen by a variable, as `fivesafes agent-supervise` is for the
// real binary.
const roleVar = "FIVESAFES_SANDBOX_TEST_ROLE"

func TestMain(m *testing.M) {
	if os.Getenv(roleVar) == "supervisor" {
		os.Exit(exec.SupervisorMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// testSupervisor makes the agents' executors run this test binary as the
// supervisor.
func testSupervisor() exec.Option {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	// GORACE spares each child of a -race binary a second at exit.
	return exec.WithSupervisor([]string{exe}, roleVar+"=supervisor", "GORACE=atexit_sleep_ms=0")
}
