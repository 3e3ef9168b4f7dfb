package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/app"
	"github.com/fivesafes/fivesafes/app/sandbox"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/ghemu"
)

// End-to-end: the real bot (HTTP intake, SQLite inbox, dispatcher, GitHub
// client chain) against the GitHub emulator, which sends signed webhooks and
// checks every request against GitHub's OpenAPI description.

func startStack(t *testing.T, opts ...app.ServerOption) *sandbox.Stack {
	t.Helper()
	ctx := context.Background()
	s, err := sandbox.Start(ctx, sandbox.Options{
		Dir:         t.TempDir(),
		SpecFailure: func(err error) { t.Errorf("request GitHub would reject: %v", err) },
		ServerOpts: append([]app.ServerOption{app.WithDispatcherOptions(
			app.WithBackoff(func(int) time.Duration { return 5 * time.Millisecond }))}, opts...),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

var branchSeq atomic.Int64

// openPR commits files on a new branch and opens a pull request for it.
func openPR(t *testing.T, s *sandbox.Stack, files map[string]string) (number int, sha string) {
	t.Helper()
	branch := fmt.Sprintf("study-%d", branchSeq.Add(1))
	if len(files) > 0 {
		s.Repo.Commit(branch, files, "study files")
	} else {
		s.Repo.Commit(branch, map[string]string{"README.md": "no pipeline yet\n"}, "readme")
	}
	return s.Repo.OpenPR(branch, "main", "Study", "ana")
}

// waitCheck waits until the project.yaml check run on sha has completed.
func waitCheck(t *testing.T, s *sandbox.Stack, sha string) ghemu.CheckRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var run ghemu.CheckRun
	err := s.Emulator.WaitFor(ctx, func() bool {
		for _, r := range s.Repo.CheckRuns(sha) {
			if r.Name == checks.CheckName && r.Status == "completed" {
				run = r
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no completed check run on %s: %v (runs: %+v)", sha, err, s.Repo.CheckRuns(sha))
	}
	return run
}

const validPipeline = `version: '5.0'
actions:
  generate_dataset:
    run: ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz
    outputs:
      highly_sensitive:
        dataset: output/dataset.csv.gz
  describe:
    run: python:v2 analysis/describe.py
    needs: [generate_dataset]
    outputs:
      moderately_sensitive:
        table: output/table1.csv
`

func TestE2EValidProjectYAML(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	_, sha := openPR(t, s, map[string]string{"project.yaml": validPipeline})
	run := waitCheck(t, s, sha)
	if run.Conclusion != "success" {
		t.Fatalf("conclusion = %s (%s), want success", run.Conclusion, run.Output.Title)
	}
	if len(run.Annotations) != 0 {
		t.Fatalf("annotations on a valid file: %+v", run.Annotations)
	}
	for _, want := range []string{"generate_dataset", "describe", "output/table1.csv"} {
		if !strings.Contains(run.Output.Summary+run.Output.Text, want) {
			t.Errorf("summary does not mention %q:\n%s", want, run.Output.Summary)
		}
	}
}

func TestE2EInvalidProjectYAML(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	cases := map[string]struct {
		file     string
		line     int    // 0: any line
		contains string // in the first annotation's message, or the title/summary
	}{
		"moderately sensitive pdf": {
			file: strings.Replace(validPipeline, "output/table1.csv", "output/report.pdf", 1), line: 13,
			contains: "Output path output/report.pdf is invalid: output/report.pdf is not an allowed file type for moderately_sensitive outputs",
		},
		"unknown needs": {
			file: strings.Replace(validPipeline, "needs: [generate_dataset]", "needs: [generate_datset]", 1), line: 10,
			contains: "Action `describe` references an unknown action in its `needs` list: generate_datset",
		},
		"image without version": {
			file: strings.Replace(validPipeline, "python:v2", "python", 1), line: 9,
			contains: "Action command python must have a version specified in the form :vN (e.g. python:v2)",
		},
		"yaml syntax":           {file: "version: '4.0'\nactions:\n  a:\n    run: python:v2 x.py --flag: y\n", line: 4},
		"duplicate key":         {file: validPipeline + "  describe:\n    run: python:v2 b.py\n", line: 14, contains: "describe"},
		"empty file":            {file: "", contains: "empty"},
		"top-level list":        {file: "- a\n- b\n"},
		"alias bomb":            {file: aliasBomb()},
		"binary junk":           {file: "\x00\x01\x02\xff\xfe binary \x00"},
		"ten megabyte file":     {file: strings.Repeat("# padding\n", 1<<20), contains: "larger than"},
		"unclosed quote":        {file: strings.Replace(validPipeline, "analysis/describe.py", "'analysis/describe.py", 1)},
		"version in the future": {file: strings.Replace(validPipeline, "'5.0'", "'6.0'", 1)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, sha := openPR(t, s, map[string]string{"project.yaml": tc.file})
			run := waitCheck(t, s, sha)
			if run.Conclusion != "failure" {
				t.Fatalf("conclusion = %s (%s), want failure", run.Conclusion, run.Output.Title)
			}
			all := run.Output.Title + "\n" + run.Output.Summary
			for _, a := range run.Annotations {
				all += "\n" + a.Message
			}
			if tc.contains != "" && !strings.Contains(all, tc.contains) {
				t.Errorf("check run does not say %q:\n%s", tc.contains, all)
			}
			if tc.line > 0 {
				if len(run.Annotations) == 0 {
					t.Fatalf("no annotations; want one on line %d", tc.line)
				}
				a := run.Annotations[0]
				if a.Path != "project.yaml" || a.StartLine != tc.line || a.Level != "failure" {
					t.Errorf("first annotation %s:%d [%s] %q, want project.yaml:%d [failure]",
						a.Path, a.StartLine, a.Level, a.Message, tc.line)
				}
			}
			if n := len(s.Repo.CheckRuns(sha)); n != 1 {
				t.Errorf("%d check runs on %s, want 1", n, sha)
			}
		})
	}
}

func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("version: '4.0'\nactions: *a11\n")
	return b.String()
}

func TestE2EMissingProjectYAML(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	_, sha := openPR(t, s, nil)
	run := waitCheck(t, s, sha)
	if run.Conclusion != "failure" || !strings.Contains(run.Output.Title+run.Output.Summary, "no project.yaml") {
		t.Fatalf("got %s %q / %q, want a failure saying there is no project.yaml", run.Conclusion, run.Output.Title, run.Output.Summary)
	}
}

func TestE2EDuplicateDeliveryMakesOneCheckRun(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	_, sha := openPR(t, s, map[string]string{"project.yaml": validPipeline})
	waitCheck(t, s, sha)
	var opened ghemu.Delivery
	for _, d := range s.Emulator.Deliveries() {
		if d.Event == "pull_request" && d.Action == "opened" {
			opened = d
		}
	}
	status, err := s.Emulator.Redeliver(opened.GUID)
	if err != nil || status != http.StatusOK {
		t.Fatalf("redelivery answered %d, %v; want 200 for a GUID already stored", status, err)
	}
	// 200 means the inbox already had it: nothing new was stored or handled.
	if n := len(s.Repo.CheckRuns(sha)); n != 1 {
		t.Fatalf("%d check runs after a redelivery, want 1", n)
	}
}

func TestE2EBadSignatureIsRefusedAndNothingRuns(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	s.Repo.Commit("unsigned", map[string]string{"project.yaml": validPipeline}, "x")
	body := []byte(`{"action":"requested","check_suite":{"head_sha":"` + s.Repo.Head("unsigned") +
		`"},"repository":{"name":"` + sandbox.RepoName + `","owner":{"login":"` + sandbox.Owner + `"}},"installation":{"id":4242}}`)
	for name, sig := range map[string]string{
		"wrong secret": "sha256=" + strings.Repeat("ab", 32),
		"missing":      "",
	} {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("X-GitHub-Event", "check_suite")
		h.Set("X-GitHub-Delivery", "11111111-2222-3333-4444-"+fmt.Sprintf("%012d", len(name)))
		if sig != "" {
			h.Set("X-Hub-Signature-256", sig)
		}
		status, err := s.Emulator.SendRaw(h, body)
		if err != nil || status != http.StatusUnauthorized {
			t.Errorf("%s signature: answered %d, %v; want 401", name, status, err)
		}
	}
	if got := testutilGauge(t, s, "fivesafes_deliveries_received_total"); got != 0 {
		t.Fatalf("%v deliveries stored after bad signatures, want 0", got)
	}
	if runs := s.Repo.CheckRuns(s.Repo.Head("unsigned")); len(runs) != 0 {
		t.Fatalf("check runs after an unsigned delivery: %+v", runs)
	}
}

func TestE2EGitHub502ThenSuccessMakesOneCheckRun(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	// The create takes effect but the bot sees a 502: the retry must find
	// the run instead of making a second one.
	s.Emulator.Fail("POST", "/repos/{owner}/{repo}/check-runs", 1, http.StatusBadGateway, ghemu.AfterApplying())
	// A read that fails once is retried by the client itself.
	s.Emulator.Fail("GET", "/repos/{owner}/{repo}/contents/{path}", 1, http.StatusBadGateway)
	_, sha := openPR(t, s, map[string]string{"project.yaml": validPipeline})
	run := waitCheck(t, s, sha)
	if n := len(s.Repo.CheckRuns(sha)); n != 1 || run.Conclusion != "success" {
		t.Fatalf("%d check runs (%s), want one successful run", n, run.Conclusion)
	}
	if n := s.Emulator.Requests("POST", "/repos/{owner}/{repo}/check-runs"); n != 1 {
		t.Fatalf("%d creates sent, want exactly 1 (a create is never retried blindly)", n)
	}
}

func TestE2ESecondaryRateLimitIsWaitedOut(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	s.Emulator.Fail("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", 1, http.StatusForbidden,
		ghemu.SecondaryRateLimit(time.Second))
	_, sha := openPR(t, s, map[string]string{"project.yaml": validPipeline})
	run := waitCheck(t, s, sha)
	if run.Conclusion != "success" || len(s.Repo.CheckRuns(sha)) != 1 {
		t.Fatalf("got %s with %d runs, want one successful run", run.Conclusion, len(s.Repo.CheckRuns(sha)))
	}
}

func TestE2ERestartHandlesWhatTheInboxHeld(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := context.Background()
	// Stop the normal bot; start one that stores deliveries but does not handle them.
	if err := s.StopBot(); err != nil {
		t.Fatal(err)
	}
	if err := s.StartBot(ctx, app.WithIntakeOnly()); err != nil {
		t.Fatal(err)
	}
	_, sha := openPR(t, s, map[string]string{"project.yaml": validPipeline})
	if d := s.Emulator.Deliveries(); d[len(d)-1].StatusCode != http.StatusAccepted {
		t.Fatalf("delivery answered %d, want 202", d[len(d)-1].StatusCode)
	}
	if runs := s.Repo.CheckRuns(sha); len(runs) != 0 {
		t.Fatalf("intake-only bot made check runs: %+v", runs)
	}
	if err := s.StopBot(); err != nil {
		t.Fatal(err)
	}
	if err := s.StartBot(ctx); err != nil {
		t.Fatal(err)
	}
	if run := waitCheck(t, s, sha); run.Conclusion != "success" {
		t.Fatalf("after the restart: %s, want success", run.Conclusion)
	}
}

func TestE2ERerunMakesANewCheckRun(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	_, sha := openPR(t, s, map[string]string{"project.yaml": validPipeline})
	first := waitCheck(t, s, sha)
	s.Repo.RerequestCheckRun(first.ID, "ana")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.Emulator.WaitFor(ctx, func() bool {
		n := 0
		for _, r := range s.Repo.CheckRuns(sha) {
			if r.Status == "completed" {
				n++
			}
		}
		return n == 2
	})
	if err != nil {
		t.Fatalf("no second completed check run after a re-run: %v", err)
	}
}

func TestE2EHealthAndMetrics(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": "fivesafes_inbox_depth",
	} {
		resp, err := http.Get(s.BotURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), want) {
			t.Errorf("GET %s = %d %q, want 200 containing %q", path, resp.StatusCode, b.String(), want)
		}
	}
}
