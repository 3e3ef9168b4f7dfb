package ghemu_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-github/v88/github"
)

// Fields of the examples the emulator does not send, and why.
var notSent = []string{
	"organization",                // only for repositories of organisations
	"enterprise",                  // only for GitHub Enterprise accounts
	"check_suite.app.permissions", // the app's own, not the example app's
	"check_run.app.permissions",
	"check_run.check_suite.app.permissions",
}

// TestPayloadsHaveTheExamplesFields compares each webhook the emulator
// sends with GitHub's example for the same event and action: every field of
// the example must be there (where the example has an object and the
// emulator null, as for a milestone, only the field itself counts).
func TestPayloadsHaveTheExamplesFields(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	n, sha := repo.OpenPR("feature", "main", "t", "ben")
	repo.LabelPR(n, "bug", "ben")
	repo.ClosePR(n, "ben")
	repo.ReopenPR(n, "ben")
	repo.Push("feature", map[string]string{"a": "2"})
	repo.RerequestCheckSuite(sha, "ben")
	run, _, err := gh.Checks.CreateCheckRun(t.Context(), "ana", "study", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha})
	if err != nil {
		t.Fatal(err)
	}
	repo.RerequestCheckRun(run.GetID(), "ben")
	if len(rc.all()) != 8 {
		t.Fatalf("%d events", len(rc.all()))
	}

	for _, d := range emu.Deliveries() {
		file := filepath.Join("testdata", "webhook-examples", d.Event, d.Action+".json")
		t.Run(d.Event+" "+d.Action, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var example, ours any
			if err := json.Unmarshal(raw, &example); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(d.Body, &ours); err != nil {
				t.Fatal(err)
			}
			if missing := missingFields("", example, ours); len(missing) > 0 {
				t.Errorf("fields of %s the emulator does not send:\n%s", file, strings.Join(missing, "\n"))
			}
		})
	}
}

func missingFields(path string, example, ours any) []string {
	if slices.Contains(notSent, path) {
		return nil
	}
	switch ex := example.(type) {
	case map[string]any:
		o, ok := ours.(map[string]any)
		if !ok {
			return nil // ours is null here
		}
		var out []string
		for k, v := range ex {
			p := strings.TrimPrefix(path+"."+k, ".")
			if slices.Contains(notSent, p) {
				continue
			}
			ov, ok := o[k]
			if !ok {
				out = append(out, p)
				continue
			}
			out = append(out, missingFields(p, v, ov)...)
		}
		slices.Sort(out)
		return out
	case []any:
		o, ok := ours.([]any)
		if !ok || len(ex) == 0 || len(o) == 0 {
			return nil
		}
		return missingFields(path+"[]", ex[0], o[0])
	}
	return nil
}
