package ghemu_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"
)

func annotations(n, from int) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	for i := range n {
		line := from + i
		out = append(out, &github.CheckRunAnnotation{
			Path: github.Ptr("project.yaml"), StartLine: github.Ptr(line), EndLine: github.Ptr(line),
			StartColumn: github.Ptr(3), EndColumn: github.Ptr(9),
			AnnotationLevel: github.Ptr("failure"), Message: github.Ptr(fmt.Sprintf("error on line %d", line)),
		})
	}
	return out
}

func TestCheckRunLifecycle(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	ctx := context.Background()
	sha := repo.Commit("feature", map[string]string{"project.yaml": "actions: {}\n"}, "Add project")

	created, resp, err := gh.Checks.CreateCheckRun(ctx, "ana", "study", github.CreateCheckRunOptions{
		Name: "fivesafes / project.yaml", HeadSHA: sha, ExternalID: github.Ptr("validate:" + sha),
		DetailsURL: github.Ptr("https://fivesafes.example/runs/1"), Status: github.Ptr("in_progress"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || created.GetID() <= 1<<32 || created.GetStatus() != "in_progress" ||
		created.GetCheckSuite().GetID() == 0 || created.GetApp().GetID() != emu.AppID() || created.GetStartedAt().IsZero() {
		t.Fatalf("created %d: %+v", resp.StatusCode, created)
	}
	id := created.GetID()

	// 120 annotations in three updates of at most 50, then completed.
	for i, batch := range [][]*github.CheckRunAnnotation{annotations(50, 1), annotations(50, 51), annotations(20, 101)} {
		opts := github.UpdateCheckRunOptions{Name: "fivesafes / project.yaml", Output: &github.CheckRunOutput{
			Title: github.Ptr("3 errors"), Summary: github.Ptr(fmt.Sprintf("summary %d", i)), Annotations: batch,
		}}
		if i == 2 {
			opts.Conclusion = github.Ptr("failure")
			opts.Output.Text = github.Ptr("details")
		}
		if _, _, err := gh.Checks.UpdateCheckRun(ctx, "ana", "study", id, opts); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}

	got, _, err := gh.Checks.GetCheckRun(ctx, "ana", "study", id)
	if err != nil {
		t.Fatal(err)
	}
	out := got.GetOutput()
	if got.GetStatus() != "completed" || got.GetConclusion() != "failure" || got.GetCompletedAt().IsZero() ||
		out.GetAnnotationsCount() != 120 || out.GetSummary() != "summary 2" || out.GetText() != "details" {
		t.Errorf("after updates: status %s, conclusion %s, output %+v", got.GetStatus(), got.GetConclusion(), out)
	}

	var all []*github.CheckRunAnnotation
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := gh.Checks.ListCheckRunAnnotations(ctx, "ana", "study", id, opts)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(all) != 120 || all[0].GetMessage() != "error on line 1" || all[119].GetStartLine() != 120 ||
		all[119].GetStartColumn() != 3 || all[119].GetPath() != "project.yaml" {
		t.Errorf("%d annotations; first %+v", len(all), all[0])
	}

	snap := repo.CheckRuns(sha)
	if len(snap) != 1 || len(snap[0].Annotations) != 120 || snap[0].Updates != 3 || snap[0].ExternalID != "validate:"+sha {
		t.Errorf("snapshot %+v", snap)
	}
}

func TestListCheckRunsForRef(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	ctx := context.Background()
	sha := repo.Commit("feature", map[string]string{"a": "1"}, "a")
	for _, name := range []string{"lint", "test", "test"} {
		if _, _, err := gh.Checks.CreateCheckRun(ctx, "ana", "study", github.CreateCheckRunOptions{Name: name, HeadSHA: sha}); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]struct {
		opts      github.ListCheckRunsOptions
		ref       string
		wantTotal int
	}{
		"latest run of each name, by branch":  {ref: "feature", wantTotal: 2},
		"every run, by sha":                   {ref: sha, opts: github.ListCheckRunsOptions{Filter: github.Ptr("all")}, wantTotal: 3},
		"by name":                             {ref: sha, opts: github.ListCheckRunsOptions{CheckName: github.Ptr("test"), Filter: github.Ptr("all")}, wantTotal: 2},
		"by status":                           {ref: sha, opts: github.ListCheckRunsOptions{Status: github.Ptr("completed")}, wantTotal: 0},
		"by app":                              {ref: sha, opts: github.ListCheckRunsOptions{AppID: github.Ptr(emu.AppID())}, wantTotal: 2},
		"second page of one run per page":     {ref: sha, opts: github.ListCheckRunsOptions{ListOptions: github.ListOptions{Page: 2, PerPage: 1}}, wantTotal: 2},
		"the default branch has no check run": {ref: "main", wantTotal: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, resp, err := gh.Checks.ListCheckRunsForRef(ctx, "ana", "study", tc.ref, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.GetTotal() != tc.wantTotal {
				t.Errorf("total %d, want %d", res.GetTotal(), tc.wantTotal)
			}
			if tc.opts.PerPage == 1 && (len(res.CheckRuns) != 1 || resp.PrevPage != 1 || resp.NextPage != 0) {
				t.Errorf("page 2: %d runs, prev %d, next %d", len(res.CheckRuns), resp.PrevPage, resp.NextPage)
			}
		})
	}
}

func TestCheckRunRulesAreEnforced(t *testing.T) {
	emu, repo, failures := startRecording(t)
	gh := client(t, emu)
	ctx := context.Background()
	sha := repo.Head("main")
	run, _, err := gh.Checks.CreateCheckRun(ctx, "ana", "study", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha})
	if err != nil {
		t.Fatal(err)
	}
	output := func(a []*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: github.Ptr("t"), Summary: github.Ptr("s"), Annotations: a}
	}
	long := strings.Repeat("é", 65536)
	cases := map[string]struct {
		update  github.UpdateCheckRunOptions
		want    int
		message string
	}{
		"51 annotations in one request":   {update: github.UpdateCheckRunOptions{Output: output(annotations(51, 1))}, want: 422, message: "50"},
		"status completed, no conclusion": {update: github.UpdateCheckRunOptions{Status: github.Ptr("completed")}, want: 422, message: "conclusion"},
		"a summary over 65535 characters": {update: github.UpdateCheckRunOptions{Output: &github.CheckRunOutput{Title: github.Ptr("t"), Summary: &long}}, want: 422, message: "summary"},
		"a title over 65535 characters":   {update: github.UpdateCheckRunOptions{Output: &github.CheckRunOutput{Title: &long, Summary: github.Ptr("s")}}, want: 422, message: "title"},
		"output without title":            {update: github.UpdateCheckRunOptions{Output: &github.CheckRunOutput{Summary: github.Ptr("s")}}, want: 422, message: "title"},
		"columns across lines": {update: github.UpdateCheckRunOptions{Output: output([]*github.CheckRunAnnotation{{
			Path: github.Ptr("p"), StartLine: github.Ptr(1), EndLine: github.Ptr(2), StartColumn: github.Ptr(1),
			AnnotationLevel: github.Ptr("notice"), Message: github.Ptr("m"),
		}})}, want: 422, message: "start_column"},
		"line 0": {update: github.UpdateCheckRunOptions{Output: output([]*github.CheckRunAnnotation{{
			Path: github.Ptr("p"), StartLine: github.Ptr(0), EndLine: github.Ptr(0),
			AnnotationLevel: github.Ptr("notice"), Message: github.Ptr("m"),
		}})}, want: 422, message: "start_line"},
		"a bogus status":           {update: github.UpdateCheckRunOptions{Status: github.Ptr("bogus")}, want: 422, message: "status"},
		"a blank name":             {update: github.UpdateCheckRunOptions{}, want: 422, message: "name"},
		"a bogus annotation level": {update: github.UpdateCheckRunOptions{Output: output([]*github.CheckRunAnnotation{{Path: github.Ptr("p"), StartLine: github.Ptr(1), EndLine: github.Ptr(1), AnnotationLevel: github.Ptr("error"), Message: github.Ptr("m")}})}, want: 422, message: "annotation_level"},
		"50 annotations are fine":  {update: github.UpdateCheckRunOptions{Output: output(annotations(50, 1))}, want: 200},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(failures.list())
			if name != "a blank name" {
				tc.update.Name = "c" // go-github always sends a name
			}
			_, resp, err := gh.Checks.UpdateCheckRun(ctx, "ana", "study", run.GetID(), tc.update)
			if resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("got %v, want %d", err, tc.want)
			}
			reported := failures.list()[before:]
			switch {
			case tc.want == 200 && len(reported) > 0:
				t.Errorf("spec failures for a valid request: %v", reported)
			case tc.want != 200 && (len(reported) != 1 || !strings.Contains(reported[0].Error(), tc.message)):
				t.Errorf("spec failures %v, want one mentioning %q", reported, tc.message)
			}
		})
	}
	if got, _ := emu.CheckRun(run.GetID()); got.Status != "queued" || len(got.Annotations) != 50 {
		t.Errorf("refused updates changed the run: status %s, %d annotations", got.Status, len(got.Annotations))
	}
}

func TestCreatingACheckRunWithABogusStatusIsASpecFailure(t *testing.T) {
	emu, repo, failures := startRecording(t)
	gh := client(t, emu)
	_, resp, err := gh.Checks.CreateCheckRun(context.Background(), "ana", "study", github.CreateCheckRunOptions{
		Name: "c", HeadSHA: repo.Head("main"), Status: github.Ptr("bogus"),
	})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("got %v, want 422", err)
	}
	if f := failures.list(); len(f) != 1 || !strings.Contains(f[0].Error(), `"bogus"`) && !strings.Contains(f[0].Error(), "status") {
		t.Errorf("spec failures %v", f)
	}
	if runs := repo.CheckRuns(repo.Head("main")); len(runs) != 0 {
		t.Errorf("a refused request created %d check runs", len(runs))
	}
}

func TestUnknownEndpointsAreSpecFailures(t *testing.T) {
	emu, _, failures := startRecording(t)
	gh := client(t, emu)
	ctx := context.Background()
	for _, tc := range []struct{ method, path string }{
		{"GET", "repos/ana/study/issues/1/events"}, // real, but not implemented yet
		{"DELETE", "repos/ana/study/check-runs/1"}, // no such method
		{"GET", "repos/ana/study/nonsense"},        // no such path
	} {
		req, err := gh.NewRequest(ctx, tc.method, tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, _ := gh.Do(req, nil); resp == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %v, want 404", tc.method, tc.path, resp)
		}
	}
	if f := failures.list(); len(f) != 3 {
		t.Errorf("%d spec failures, want 3: %v", len(f), f)
	}
	if n := emu.Requests("GET", "/repos/ana/study/nonsense"); n != 1 {
		t.Errorf("counted %d requests to an unknown path", n)
	}
}

func TestHeadSHAMustExist(t *testing.T) {
	emu, _ := start(t)
	gh := client(t, emu)
	_, resp, _ := gh.Checks.CreateCheckRun(context.Background(), "ana", "study", github.CreateCheckRunOptions{
		Name: "c", HeadSHA: strings.Repeat("a", 40), StartedAt: &github.Timestamp{Time: time.Now()},
	})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("check run on an unknown commit: %v, want 422", resp)
	}
}

func TestConcurrentClients(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	sha := repo.Head("main")
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			run, _, err := gh.Checks.CreateCheckRun(context.Background(), "ana", "study", github.CreateCheckRunOptions{
				Name: fmt.Sprintf("c%d", i), HeadSHA: sha,
			})
			if err == nil {
				_, _, err = gh.Checks.UpdateCheckRun(context.Background(), "ana", "study", run.GetID(), github.UpdateCheckRunOptions{
					Name: run.GetName(), Conclusion: github.Ptr("success"),
					Output: &github.CheckRunOutput{Title: github.Ptr("ok"), Summary: github.Ptr("ok"), Annotations: annotations(2, 1)},
				})
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	res, _, err := gh.Checks.ListCheckRunsForRef(context.Background(), "ana", "study", sha, &github.ListCheckRunsOptions{Status: github.Ptr("completed")})
	if err != nil || res.GetTotal() != 8 {
		t.Errorf("%d completed runs, %v", res.GetTotal(), err)
	}
}

func TestCheckRunButtons(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := context.Background()
	sha := repo.Commit("feature", map[string]string{"a": "1"}, "a")
	buttons := []*github.CheckRunAction{
		{Label: "Approve run", Description: "Run the actions ben asked for", Identifier: "approve"},
		{Label: "Refuse", Description: "Do not run them", Identifier: "refuse"},
	}
	run, _, err := gh.Checks.CreateCheckRun(ctx, "ana", "study", github.CreateCheckRunOptions{
		Name: "fivesafes / run #1 (tpp)", HeadSHA: sha, DetailsURL: github.Ptr("https://fivesafes.example/runs/1"),
		Conclusion: github.Ptr("action_required"), Actions: buttons,
		Output: &github.CheckRunOutput{Title: github.Ptr("Needs approval"), Summary: github.Ptr("ben may not run actions")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := emu.CheckRun(run.GetID()); len(got.Actions) != 2 || got.Actions[0].Identifier != "approve" || got.Conclusion != "action_required" {
		t.Errorf("snapshot %+v", got)
	}
	repo.ClickCheckRunAction(run.GetID(), "approve", "ana")
	got := rc.all()
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	ev, ok := got[0].event.(*github.CheckRunEvent)
	if !ok || ev.GetAction() != "requested_action" || ev.GetRequestedAction().Identifier != "approve" ||
		ev.GetSender().GetLogin() != "ana" || ev.GetInstallation().GetID() != installationID ||
		ev.GetCheckRun().GetID() != run.GetID() || ev.GetCheckRun().GetHeadSHA() != sha {
		t.Errorf("requested_action %+v", got[0].event)
	}
	// The details URL given at creation still counts when an update
	// asks for action_required again.
	if _, _, err := gh.Checks.UpdateCheckRun(ctx, "ana", "study", run.GetID(), github.UpdateCheckRunOptions{
		Name: run.GetName(), Conclusion: github.Ptr("action_required"), Actions: buttons[:1],
	}); err != nil {
		t.Errorf("update: %v", err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "refuse") {
				t.Errorf("clicking a button the run no longer has: panic %v", r)
			}
		}()
		repo.ClickCheckRunAction(run.GetID(), "refuse", "ana")
	}()
}

func TestCheckRunButtonRulesAreEnforced(t *testing.T) {
	emu, repo, failures := startRecording(t)
	gh := client(t, emu)
	sha := repo.Head("main")
	button := func(label, description, identifier string) *github.CheckRunAction {
		return &github.CheckRunAction{Label: label, Description: description, Identifier: identifier}
	}
	ok := button("Approve run", "Run it", "approve")
	cases := map[string]struct {
		opts    github.CreateCheckRunOptions
		message string
	}{
		"action_required without a details URL": {github.CreateCheckRunOptions{Conclusion: github.Ptr("action_required")}, "details_url"},
		"a label of 21 characters":              {github.CreateCheckRunOptions{Actions: []*github.CheckRunAction{button(strings.Repeat("x", 21), "d", "i")}}, "label"},
		"a description of 41 characters":        {github.CreateCheckRunOptions{Actions: []*github.CheckRunAction{button("l", strings.Repeat("x", 41), "i")}}, "description"},
		"an identifier of 21 characters":        {github.CreateCheckRunOptions{Actions: []*github.CheckRunAction{button("l", "d", strings.Repeat("x", 21))}}, "identifier"},
		"four buttons":                          {github.CreateCheckRunOptions{Actions: []*github.CheckRunAction{ok, ok, ok, ok}}, "3"},
		"a button without a description":        {github.CreateCheckRunOptions{Actions: []*github.CheckRunAction{button("l", "", "i")}}, "description"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(failures.list())
			tc.opts.Name, tc.opts.HeadSHA = "c", sha
			_, resp, err := gh.Checks.CreateCheckRun(context.Background(), "ana", "study", tc.opts)
			if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %v, want 422", err)
			}
			if f := failures.list()[before:]; len(f) != 1 || !strings.Contains(f[0].Error(), tc.message) {
				t.Errorf("spec failures %v, want one mentioning %q", f, tc.message)
			}
		})
	}
	run, _, err := gh.Checks.CreateCheckRun(context.Background(), "ana", "study", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha})
	if err != nil {
		t.Fatal(err)
	}
	before := len(failures.list())
	_, resp, _ := gh.Checks.UpdateCheckRun(context.Background(), "ana", "study", run.GetID(), github.UpdateCheckRunOptions{Name: "c", Conclusion: github.Ptr("action_required")})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || len(failures.list()) != before+1 {
		t.Errorf("update to action_required without any details URL: %v", resp)
	}
	if got, _ := emu.CheckRun(run.GetID()); got.Status != "queued" || got.Updates != 0 {
		t.Errorf("the refused update changed the run: %+v", got)
	}
	if runs := repo.CheckRuns(sha); len(runs) != 1 {
		t.Errorf("%d check runs, want only the valid one", len(runs))
	}
}
