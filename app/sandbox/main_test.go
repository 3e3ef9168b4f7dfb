package sandbox

import (
	"testing"

	"github.com/fivesafes/fivesafes/runner/exec"
	"github.com/fivesafes/fivesafes/runner/exec/exectest"
)

// The test binary is also the agents' job supervisor.
const roleVar = "FIVESAFES_SANDBOX_TEST_ROLE"

func TestMain(m *testing.M) { exectest.Main(m, roleVar) }

func testSupervisor() exec.Option { return exectest.Supervisor(roleVar) }
