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
// sends with GitHub's examples for the same event and action
// (testdata/webhook-examples/EVENT/ACTION.json, ACTION.2.json, ...): every
// field of an example must be there (where the example has an object and
// the emulator null, as for a milestone, only the field itself counts).
// Every example must be compared with some delivery.
func TestPayloadsHaveTheExamplesFields(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := t.Context()
	emu.AddTeamMember("ana", "checkers", "cat")
	repo.SetPermission("dan", "write")
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	n, sha := repo.OpenPR("feature", "main", "t", "ben")
	repo.LabelPR(n, "bug", "ben")
	repo.UnlabelPR(n, "bug", "ben")
	repo.ClosePR(n, "ben")
	repo.ReopenPR(n, "ben")
	repo.Push("feature", map[string]string{"a": "2"})
	repo.RerequestCheckSuite(sha, "ben")
	run, _, err := gh.Checks.CreateCheckRun(ctx, "ana", "study", github.CreateCheckRunOptions{
		Name: "c", HeadSHA: sha, DetailsURL: github.Ptr("https://fivesafes.example/runs/1"), Conclusion: github.Ptr("action_required"),
		Actions: []*github.CheckRunAction{{Label: "Approve run", Description: "Run it for ben", Identifier: "approve"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	repo.RerequestCheckRun(run.GetID(), "ben")
	repo.ClickCheckRunAction(run.GetID(), "approve", "ana")
	id := repo.Comment(n, "ben", "/run all")
	repo.EditComment(id, "ben", "/run all --force")
	repo.DeleteComment(id, "ben")
	if _, _, err := gh.PullRequests.RequestReviewers(ctx, "ana", "study", n, github.ReviewersRequest{
		Reviewers: []string{"dan"}, TeamReviewers: []string{"checkers"},
	}); err != nil {
		t.Fatal(err)
	}
	repo.Review(n, "dan", "COMMENTED", "Looks fine")
	rid := repo.Review(n, "cat", "APPROVED", "")
	repo.DismissReview(n, rid, "ana")
	if got := len(rc.all()); got != len(emu.Deliveries()) || got < 18 {
		t.Fatalf("%d events received, %d deliveries", got, len(emu.Deliveries()))
	}

	compared := map[string]bool{}
	for _, d := range emu.Deliveries() {
		files, _ := filepath.Glob(filepath.Join("testdata", "webhook-examples", d.Event, d.Action+".*json"))
		if len(files) == 0 {
			t.Errorf("no example for %s %s in testdata/webhook-examples", d.Event, d.Action)
		}
		for _, file := range files {
			compared[file] = true
			t.Run(filepath.Base(filepath.Dir(file))+" "+filepath.Base(file), func(t *testing.T) {
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
				missing := missingFields("", example, ours)
				if _, team := ours.(map[string]any)["requested_team"]; team {
					// A team's review request names the team instead.
					missing = slices.DeleteFunc(missing, func(f string) bool { return f == "requested_reviewer" })
				}
				if len(missing) > 0 {
					t.Errorf("fields of %s the emulator does not send:\n%s", file, strings.Join(missing, "\n"))
				}
			})
		}
	}
	all, _ := filepath.Glob(filepath.Join("testdata", "webhook-examples", "*", "*.json"))
	for _, file := range all {
		if !compared[file] {
			t.Errorf("%s was compared with no delivery: send that event in this test", file)
		}
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
