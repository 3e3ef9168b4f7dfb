// Package exectest lets a test binary be the supervisor of the jobs its
// executors start, as `fivesafes agent-supervise` is for the real binary.
package exectest

import (
	"os"
	"testing"

	"github.com/fivesafes/fivesafes/runner/exec"
)

// Main runs the tests, or, in a child started by Supervisor(roleVar), the
// supervisor. Call it from TestMain with a variable name of the package's own.
func Main(m *testing.M, roleVar string) {
	if os.Getenv(roleVar) == "supervisor" {
		os.Exit(exec.SupervisorMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// Supervisor makes an executor run this test binary as its jobs' supervisor.
func Supervisor(roleVar string) exec.Option {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	// GORACE spares each child of a -race binary a second at exit.
	return exec.WithSupervisor([]string{exe}, roleVar+"=supervisor", "GORACE=atexit_sleep_ms=0")
}
