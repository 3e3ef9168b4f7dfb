package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/app"
	"github.com/fivesafes/fivesafes/app/sandbox"
	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/runner/exec"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// runEnv is the whole run path: the bot, the emulator, and real agents
// running real shell scripts with the local executor.
type runEnv struct {
	*sandbox.Stack
	t   *testing.T
	ctx context.Context
}

// startRuns starts a stack whose agents map sh:* to /bin/sh. o.Config is
// appended to the bot's configuration; runs.status_interval is 0 unless it
// sets runs, so that every change reaches GitHub.
func startRuns(t *testing.T, o sandbox.Options) *runEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	o.Dir = t.TempDir()
	if os.Getenv("FIVESAFES_TEST_LOG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	o.SpecFailure = func(err error) { t.Errorf("request GitHub would reject: %v", err) }
	o.ExecOptions = append(o.ExecOptions, testSupervisor(), exec.WithKillGrace(time.Second))
	o.Images = exec.Images{"sh": {"/bin/sh"}, "sleep": {"builtin:sleep"}}
	if !strings.Contains(o.Config, "runs:") {
		o.Config = "runs:\n  status_interval: 0s\n" + o.Config
	}
	o.ServerOpts = append(o.ServerOpts,
		app.WithDispatcherOptions(app.WithBackoff(func(int) time.Duration { return 5 * time.Millisecond })),
		app.WithSweepInterval(50*time.Millisecond))
	s, err := sandbox.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	s.Repo.SetPermission("ana", "write")
	return &runEnv{Stack: s, t: t, ctx: ctx}
}

// agent starts an agent for backend.
func (e *runEnv) agent(backend string) *sandbox.Agent {
	e.t.Helper()
	a, err := e.StartAgent(e.ctx, backend)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// study is a three-action pipeline of shell scripts: generate writes a
// highly sensitive dataset, process reads it and writes counts, report
// copies the counts. Each file can be replaced.
func study(replace map[string]string) map[string]string {
	files := map[string]string{
		"project.yaml": `version: '5.0'
actions:
  generate:
    run: sh:v1 analysis/generate.sh
    outputs:
      highly_sensitive:
        data: output/data.csv
  process:
    run: sh:v1 analysis/process.sh
    needs: [generate]
    outputs:
      moderately_sensitive:
        counts: output/counts.csv
  report:
    run: sh:v1 analysis/report.sh
    needs: [process]
    outputs:
      moderately_sensitive:
        report: output/report.csv
`,
		"analysis/generate.sh": "set -e\nmkdir -p output\nprintf 'patient_id,age\\n1,40\\n2,51\\n3,62\\n' > output/data.csv\n",
		"analysis/process.sh":  "set -e\ntest -s output/data.csv\nprintf 'group,count\\nall,10\\n' > output/counts.csv\n",
		"analysis/report.sh":   "set -e\ncp output/counts.csv output/report.csv\n",
	}
	for k, v := range replace {
		files[k] = v
	}
	return files
}

// openStudy commits files to a new branch and opens a pull request by ana.
func (e *runEnv) openStudy(files map[string]string) (number int, sha, branch string) {
	e.t.Helper()
	branch = "study-" + strings.NewReplacer("/", "-", " ", "-").Replace(e.t.Name())
	e.Repo.Commit(branch, files, "study")
	number, sha = e.Repo.OpenPR(branch, "main", "Study", "ana")
	return number, sha, branch
}

// waitRun waits for the check run of run #n on sha to complete.
func (e *runEnv) waitRun(sha string, n int, backend string) ghemu.CheckRun {
	e.t.Helper()
	name := fmt.Sprintf("fivesafes / run #%d (%s)", n, backend)
	run, err := e.Repo.WaitCheckRun(e.ctx, sha, name)
	if err != nil {
		e.t.Fatalf("%v\ncheck runs: %+v", err, e.Repo.CheckRuns(sha))
	}
	return run
}

// waitCheckRun waits until the newest check run called name on sha
// satisfies cond.
func (e *runEnv) waitCheckRun(sha, name string, cond func(ghemu.CheckRun) bool) ghemu.CheckRun {
	e.t.Helper()
	var got ghemu.CheckRun
	err := e.Emulator.WaitFor(e.ctx, func() bool {
		runs := e.Repo.CheckRuns(sha)
		for i := len(runs) - 1; i >= 0; i-- {
			if runs[i].Name == name {
				got = runs[i]
				return cond(got)
			}
		}
		return false
	})
	if err != nil {
		e.t.Fatalf("check run %q on %s: %v (last seen %s/%s: %s\n%s)", name, sha, err, got.Status, got.Conclusion, got.Output.Title, got.Output.Text)
	}
	return got
}

// reply waits for the bot's comment on pr after comment id that contains want.
func (e *runEnv) reply(pr int, after int64, want string) ghemu.Comment {
	e.t.Helper()
	c, err := e.Repo.WaitComment(e.ctx, pr, func(c ghemu.Comment) bool {
		return c.ID > after && strings.Contains(c.User, "[bot]") && strings.Contains(c.Body, want)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// requests are the pull request's job requests, newest first.
func (e *runEnv) requests(pr int) []jobs.Request {
	e.t.Helper()
	rs, err := e.Server().Jobs().Requests(e.ctx, e.Repo.FullName(), pr)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

// jobsOf are a request's jobs by action.
func (e *runEnv) jobsOf(r jobs.Request) map[string]jobs.Job {
	e.t.Helper()
	js, err := e.Server().Jobs().Jobs(e.ctx, r.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]jobs.Job{}
	for _, j := range js {
		out[j.Action] = j
	}
	return out
}

// wantJobs checks the status code of each action's job in a request; an
// action mapped to "" must have no job.
func (e *runEnv) wantJobs(r jobs.Request, want map[string]jobs.StatusCode) {
	e.t.Helper()
	got := e.jobsOf(r)
	for action, code := range want {
		j, ok := got[action]
		switch {
		case code == "" && ok:
			e.t.Errorf("run #%d has a job for %s (%s); want none", r.Number, action, j.Status)
		case code != "" && !ok:
			e.t.Errorf("run #%d has no job for %s; want %s", r.Number, action, code)
		case ok && j.Status != code:
			e.t.Errorf("run #%d: %s is %s (%s); want %s", r.Number, action, j.Status, j.Message, code)
		}
	}
}

// released reads a file of branch's workspace from backend's medium
// privacy store.
func (e *runEnv) released(backend, branch, path string) (string, bool) {
	data, err := os.ReadFile(e.MediumPrivacyFile(backend, branch, path))
	return string(data), err == nil
}

// flagFile is a file a script waits for, so a test decides when a job ends.
func flagFile(t *testing.T) string { return filepath.Join(t.TempDir(), "go") }

// waitsFor is a script that waits for flag, then writes out.
func waitsFor(flag, out string) string {
	return fmt.Sprintf("set -e\nwhile [ ! -e %q ]; do sleep 0.02; done\nmkdir -p output\nprintf 'group,count\\nall,10\\n' > %s\n", flag, out)
}

// audit is the permanent log, checked end to end.
func (e *runEnv) audit(t *testing.T) []audit.Entry {
	t.Helper()
	db := e.Server().DB()
	n, err := audit.Verify(e.ctx, db.R)
	if err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	es, err := audit.List(e.ctx, db.R, 0, int(n)+1)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// auditKinds counts the log's entries by kind.
func (e *runEnv) auditKinds(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, en := range e.audit(t) {
		out[en.Kind]++
	}
	return out
}

// jobRow is the row of action in a run's table of jobs ("" if none).
func jobRow(r ghemu.CheckRun, action string) string {
	cell := "| **" + strings.ReplaceAll(action, "_", `\_`) + "** |"
	for l := range strings.Lines(r.Output.Text) {
		if strings.HasPrefix(l, cell) {
			return l
		}
	}
	return ""
}

// noRunCheckRuns fails if any of the commits has a run's check run: what
// was refused shows no run.
func (e *runEnv) noRunCheckRuns(shas ...string) {
	e.t.Helper()
	for _, sha := range shas {
		for _, r := range e.Repo.CheckRuns(sha) {
			if strings.HasPrefix(r.Name, "fivesafes / run") {
				e.t.Errorf("a refused run got a check run on %s: %s", sha, r.Name)
			}
		}
	}
}
