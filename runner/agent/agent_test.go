package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/exec"
)

// workspace is named as the bot names it: repository and branch.
const workspace = "acme/study/feature/x"

func wsDir(t *testing.T) string {
	t.Helper()
	d, err := WorkspaceDir(workspace)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newZone(t *testing.T, bot *fakeBot) *Config { return zoneFor(t, bot.srv.URL) }

func zoneFor(t *testing.T, botURL string) *Config {
	base := t.TempDir()
	return &Config{
		BotURL:           botURL,
		Backend:          "test",
		Token:            testToken,
		Workers:          2,
		HighPrivacyDir:   filepath.Join(base, "high"),
		MediumPrivacyDir: filepath.Join(base, "medium"),
		StateDir:         filepath.Join(base, "state"),
		Executor:         ExecutorLocal,
		LocalImages:      testImages(),
		JobTimeout:       time.Minute,
	}
}

// startAgent runs an agent on the zone until stop is called or the test
// ends; jobs it leaves behind are cancelled at the end of the test.
func startAgent(t *testing.T, cfg *Config) (stop func()) {
	t.Helper()
	e, err := cfg.NewExecutor(testSupervisor(), exec.WithPollInterval(20*time.Millisecond), exec.WithKillGrace(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(cfg.ExecutorDir())
		for _, entry := range entries {
			_ = e.Cancel(context.Background(), entry.Name())
		}
	})
	a, err := New(cfg, e, WithClaimWait(500*time.Millisecond), WithRetryBackoff(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("the agent did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func runJob(id, jobID, image string, args []string, outs ...OutputGroup) Task {
	return Task{
		ID: id, Kind: KindRunJob, Attempt: 1, LeaseSeconds: 1,
		Job: Job{
			ID: jobID, Action: jobID, Workspace: workspace, Repo: "acme/study", SHA: "abc1234def",
			Image: image, Args: args, Outputs: outs,
		},
	}
}

func highly(name, path string) OutputGroup {
	return OutputGroup{Level: checks.HighlySensitive, Outputs: []Output{{Name: name, Path: path}}}
}

func moderately(pairs ...string) OutputGroup {
	g := OutputGroup{Level: checks.ModeratelySensitive}
	for i := 0; i+1 < len(pairs); i += 2 {
		g.Outputs = append(g.Outputs, Output{Name: pairs[i], Path: pairs[i+1]})
	}
	return g
}

func studyCode(t *testing.T) []byte {
	return repoTarball(t, map[string]string{
		"project.yaml":                   "version: '4.0'\n",
		"analysis/dataset_definition.py": "from ehrql import create_dataset\ndataset = create_dataset()\ndataset.age = patients.age\n",
	})
}

func wantStages(t *testing.T, bot *fakeBot, id string, want ...string) {
	t.Helper()
	if got := bot.stages(id); !slices.Equal(got, want) {
		t.Errorf("stages of %s = %v, want %v", id, got, want)
	}
}

func wantDone(t *testing.T, u Update, code string, exit int) {
	t.Helper()
	if u.StatusCode != code {
		t.Errorf("status_code = %s (%s), want %s", u.StatusCode, u.Message, code)
	}
	if u.ExitCode == nil || *u.ExitCode != exit {
		t.Errorf("exit_code = %v, want %d", u.ExitCode, exit)
	}
}

// ehrQL makes a dataset, then a summary of it is released to the medium
// privacy store: the two tasks of a small pipeline.
func TestRunsAPipelineEndToEnd(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	cfg := newZone(t, bot)
	cfg.Workers = 1
	startAgent(t, cfg)

	bot.offer(runJob("t1", "job-dataset", "ehrql:v1",
		[]string{"generate-dataset", "analysis/dataset_definition.py", "--output", "output/dataset.csv"},
		highly("dataset", "output/dataset.csv")), studyCode(t))
	done := bot.waitStage(t, "t1", StageDone)
	wantStages(t, bot, "t1", StagePreparing, StageExecuting, StageFinalizing, StageDone)
	wantDone(t, done, CodeSucceeded, 0)
	if r := done.Results; r == nil || r.HighlySensitiveCount != 1 || len(r.Files) != 0 {
		t.Errorf("results = %+v, want one highly sensitive file and no names", r)
	}

	bot.offer(runJob("t2", "job-summary", "summary:v1",
		[]string{"output/dataset.csv", "output/summary.csv"},
		moderately("summary", "output/summary.csv")), studyCode(t))
	done = bot.waitStage(t, "t2", StageDone)
	wantStages(t, bot, "t2", StagePreparing, StageExecuting, StageFinalizing, StageDone)
	wantDone(t, done, CodeSucceeded, 0)

	released, err := os.ReadFile(filepath.Join(cfg.MediumPrivacyDir, wsDir(t), "output", "summary.csv"))
	if err != nil {
		t.Fatalf("the summary is not in the medium privacy store: %v", err)
	}
	sum := sha256.Sum256(released)
	r := done.Results
	if r == nil || len(r.Files) != 1 {
		t.Fatalf("results = %+v, want one moderately sensitive file", r)
	}
	f := r.Files[0]
	if f.Path != "output/summary.csv" || f.Size != int64(len(released)) || f.SHA256 != hex.EncodeToString(sum[:]) || f.Refused != "" {
		t.Errorf("file report = %+v, want output/summary.csv, %d bytes, sha256 %x", f, len(released), sum)
	}
	if !strings.Contains(string(released), "age,") {
		t.Errorf("summary = %q, want a row for the age column", released)
	}
	// The dataset stays in the high privacy store.
	if _, err := os.Stat(filepath.Join(cfg.MediumPrivacyDir, wsDir(t), "output", "dataset.csv")); err == nil {
		t.Error("the highly sensitive dataset reached the medium privacy store")
	}
	if _, err := os.Stat(filepath.Join(cfg.HighPrivacyDir, wsDir(t), "output", "dataset.csv")); err != nil {
		t.Errorf("the dataset did not stay in the workspace across runs: %v", err)
	}
	// One worker: t2 was claimed only once t1 was over.
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "tasks", "job-dataset.json")); err == nil {
		t.Error("the task record of t1 is left after done")
	}
	if _, err := os.Stat(filepath.Join(cfg.ExecutorDir(), "job-dataset")); err == nil {
		t.Error("the executor's directory of t1 is left after done")
	}
}

func TestJobFailures(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		task    Task
		code    string
		exit    int
		results func(t *testing.T, u Update)
	}{
		"nonzero exit": {
			task: runJob("t", "job-fail", "fail:v1", []string{"3"}),
			code: CodeNonzeroExit, exit: 3,
		},
		"unmatched pattern": {
			task: runJob("t", "job-write", "write:v1", []string{"output/a.txt", "hi"},
				moderately("a", "output/a.txt", "b", "output/missing.csv")),
			code: CodeUnmatchedPatterns,
			results: func(t *testing.T, u Update) {
				r := u.Results
				if r == nil || !slices.Equal(r.Unmatched, []string{"output/missing.csv"}) || len(r.Files) != 1 || r.Files[0].Path != "output/a.txt" {
					t.Errorf("results = %+v, want output/a.txt and output/missing.csv unmatched", r)
				}
			},
		},
		"timeout": {
			task: func() Task {
				tk := runJob("t", "job-slow", "sleep:v1", []string{"60"})
				tk.Job.TimeoutSeconds = 1
				return tk
			}(),
			code: CodeTimedOut, exit: 143,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bot := newFakeBot(t)
			startAgent(t, newZone(t, bot))
			bot.offer(tc.task, studyCode(t))
			done := bot.waitStage(t, "t", StageDone)
			wantDone(t, done, tc.code, tc.exit)
			if tc.results != nil {
				tc.results(t, done)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	cases := map[string]func(bot *fakeBot){
		"the update answer says cancel": func(bot *fakeBot) { bot.requestCancel("t") },
		"a cancel_job task": func(bot *fakeBot) {
			bot.offer(Task{ID: "c", Kind: KindCancelJob, Attempt: 1, Job: Job{ID: "job-sleep"}}, nil)
		},
	}
	for name, cancel := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bot := newFakeBot(t)
			startAgent(t, newZone(t, bot))
			bot.offer(runJob("t", "job-sleep", "sleep:v1", []string{"60"}), studyCode(t))
			bot.waitStage(t, "t", StageExecuting)
			start := time.Now()
			cancel(bot)
			done := bot.waitStage(t, "t", StageDone)
			if done.StatusCode != CodeCancelledByUser {
				t.Errorf("status_code = %s (%s), want cancelled_by_user", done.StatusCode, done.Message)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("cancel took %s", d)
			}
		})
	}
}

func TestHostileCodeFailsTheJob(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	cfg := newZone(t, bot)
	startAgent(t, cfg)
	evil := tarball(t, tarEntry{Name: "r-abc/", Type: '5'}, tarEntry{Name: "r-abc/../../../escape", Body: "x"})
	bot.offer(runJob("t", "job-evil", "write:v1", []string{"a.txt", "x"}), evil)
	done := bot.waitStage(t, "t", StageDone)
	if done.StatusCode != CodeInternalError || !strings.Contains(done.Message, "refused code archive") {
		t.Errorf("done = %s (%s), want internal_error about the archive", done.StatusCode, done.Message)
	}
	wantStages(t, bot, "t", StagePreparing, StageDone)
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg.HighPrivacyDir), "escape")); err == nil {
		t.Error("the archive wrote outside the workspace")
	}
}

// The agent stops mid-job; a new agent on the same directories reports the
// job's end once.
func TestRestartMidJob(t *testing.T) {
	t.Parallel()
	for _, exitedWhileDown := range []bool{false, true} {
		name := "job still running"
		if exitedWhileDown {
			name = "job exited while the agent was down"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bot := newFakeBot(t)
			cfg := newZone(t, bot)
			stop := startAgent(t, cfg)
			task := runJob("t", "job-restart", "sleep:v1", []string{"1"})
			task.LeaseSeconds = 30
			bot.offer(task, studyCode(t))
			bot.waitStage(t, "t", StageExecuting)
			stop()
			if exitedWhileDown {
				e, err := cfg.NewExecutor(testSupervisor(), exec.WithPollInterval(20*time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				if st, err := e.Wait(testContext(t), "job-restart"); err != nil || st.State != exec.StateExited {
					t.Fatalf("job = %+v, %v; want exited", st, err)
				}
			}
			if n := bot.count("t", StageDone); n != 0 {
				t.Fatalf("done reported by the stopped agent (%d)", n)
			}
			startAgent(t, cfg)
			done := bot.waitStage(t, "t", StageDone)
			wantDone(t, done, CodeSucceeded, 0)
			if n := bot.count("t", StageDone); n != 1 {
				t.Errorf("done reported %d times, want once", n)
			}
			if bot.count("t", StagePreparing) != 1 {
				t.Errorf("the code was prepared again after the restart: %v", bot.stages("t"))
			}
		})
	}
}

// The bot hands the task to a new attempt; the old one is dropped on its
// 409, and the new attempt picks up the running job instead of starting it
// again.
func TestStaleAttemptIsDropped(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	startAgent(t, newZone(t, bot))
	bot.offer(runJob("t", "job-stale", "sleep:v1", []string{"2"}), studyCode(t))
	bot.waitStage(t, "t", StageExecuting)
	bot.expire("t")
	bot.waitFor(t, "a 409 answer", func() bool { return bot.stale > 0 })
	if n := bot.count("t", StageDone); n != 0 {
		t.Fatalf("the stale attempt reported done")
	}
	next := runJob("t", "job-stale", "sleep:v1", []string{"2"})
	next.Attempt = 2
	bot.offer(next, nil)
	done := bot.waitStage(t, "t", StageDone)
	wantDone(t, done, CodeSucceeded, 0)
	if done.Attempt != 2 {
		t.Errorf("done from attempt %d, want 2", done.Attempt)
	}
	if n := bot.count("t", StagePreparing); n != 1 {
		t.Errorf("prepared %d times; the second attempt should resume the running job", n)
	}
}

// The bot takes the result but the agent stops before the answer arrives:
// the next agent sends the same update again, which the bot applies once.
func TestResultResentAfterALostAnswer(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	bot.holdDone = true
	cfg := newZone(t, bot)
	stop := startAgent(t, cfg)
	bot.offer(runJob("t", "job-lost-answer", "fail:v1", []string{"4"}), studyCode(t))
	first := bot.waitStage(t, "t", StageDone)
	stop()
	rec, ok := (records{dir: filepath.Join(cfg.StateDir, "tasks")}).get("job-lost-answer")
	if !ok || rec.Done == nil || rec.Done.Seq != first.Seq {
		t.Fatalf("record = %+v, %v; want the unanswered done kept", rec, ok)
	}
	bot.mu.Lock()
	bot.holdDone = false
	bot.mu.Unlock()
	startAgent(t, cfg)
	bot.waitFor(t, "the result sent again", func() bool { return len(bot.tasks["t"].doneRequests) == 2 })
	bot.mu.Lock()
	again := bot.tasks["t"].doneRequests[1]
	bot.mu.Unlock()
	if again.Seq != first.Seq || again.StatusCode != first.StatusCode {
		t.Errorf("sent again: %+v, want the same update as %+v", again, first)
	}
	wantDone(t, first, CodeNonzeroExit, 4)
	if n := bot.count("t", StageDone); n != 1 {
		t.Errorf("done applied %d times, want once", n)
	}
}

// A slow download does not lose the lease: preparing is reported again
// every lease/3.
func TestLeaseRenewedWhilePreparing(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	gate := make(chan struct{})
	bot.codeGate = gate
	startAgent(t, newZone(t, bot))
	bot.offer(runJob("t", "job-slow-code", "write:v1", []string{"a.txt", "x"}), studyCode(t))
	bot.waitFor(t, "three preparing updates", func() bool {
		n := 0
		for _, u := range bot.tasks["t"].updates {
			if u.Stage == StagePreparing {
				n++
			}
		}
		return n >= 3
	})
	close(gate)
	wantDone(t, bot.waitStage(t, "t", StageDone), CodeSucceeded, 0)
}

func TestUnknownTaskKindIsRefused(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	startAgent(t, newZone(t, bot))
	bot.offer(Task{ID: "r", Kind: "make_coffee", Attempt: 1}, nil)
	done := bot.waitStage(t, "r", StageDone)
	if done.StatusCode != CodeInternalError || !strings.Contains(done.Message, "make_coffee") {
		t.Errorf("done = %s (%s), want internal_error naming the kind", done.StatusCode, done.Message)
	}
}

func TestBrokenClaimAnswersDoNotStopTheAgent(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	bot.junk = 3
	bot.offer(runJob("t", "job-after-junk", "write:v1", []string{"a.txt", "x"}), studyCode(t))
	startAgent(t, newZone(t, bot))
	wantDone(t, bot.waitStage(t, "t", StageDone), CodeSucceeded, 0)
}
