package sandbox

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/exec"
)

func TestScenarioRunsTheDemoStudy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Dir: t.TempDir(), SpecFailure: func(err error) { t.Errorf("GitHub would reject: %v", err) },
		ExecOptions: []exec.Option{testSupervisor()}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out bytes.Buffer
	if err := Scenario(ctx, s, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"✓ fivesafes / project.yaml — success",
		"✗ fivesafes / project.yaml — failure",
		"output/report.pdf is not an allowed file type for moderately_sensitive outputs",
		"✓ fivesafes / run #1 (tpp): queued",
		"→ completed (success)",
		"reactions on the comment: eyes",
		"reactions on the comment: confused",
		"column,non_empty",
		"did not start this run",
		"fivesafes / release — action_required: Waiting for 2 more output checker approvals",
		"fivesafes / release — success: Released 1 file",
		"byte-identical to the agent's medium privacy copy",
		"/events        the permanent log",
		"/runs/",
		"/releases/",
		"Every step did what it should.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, out.String())
		}
	}
	t.Log("\n" + out.String())
}
