package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/app"
	"github.com/fivesafes/fivesafes/app/runview"
	"github.com/fivesafes/fivesafes/app/sandbox"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/runner/exec"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// benchStack is startRuns for tests and benchmarks alike: the bot, the
// emulator and, if asked for, a real agent on "tpp". Its waits have their
// own deadlines, so that a benchmark may run for minutes.
type benchStack struct {
	*sandbox.Stack
	tb      testing.TB
	ctx     context.Context
	log     *slog.Logger
	prs     int // pull requests opened so far, for branch names
	claimer *http.Client

	mu       sync.Mutex
	accepted map[string]time.Time // delivery GUID -> when the bot answered 202; see timeAcceptances
}

// benchWait bounds each wait of a measurement: far above anything the bot
// should need, low enough that a stuck benchmark says why.
const benchWait = 30 * time.Second

// startBenchStack starts a stack with runs.status_interval set to
// interval, as startRuns does, and an agent if withAgent.
func startBenchStack(tb testing.TB, interval string, withAgent bool) *benchStack {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	o := sandbox.Options{
		Dir:         tb.TempDir(),
		SpecFailure: func(err error) { tb.Errorf("request GitHub would reject: %v", err) },
		ExecOptions: []exec.Option{testSupervisor(), exec.WithKillGrace(time.Second)},
		Images:      exec.Images{"sh": {"/bin/sh"}},
		Config:      "runs:\n  status_interval: " + interval + "\n",
		ServerOpts: []app.ServerOption{
			app.WithDispatcherOptions(app.WithBackoff(func(int) time.Duration { return 5 * time.Millisecond })),
			app.WithSweepInterval(50 * time.Millisecond),
		},
	}
	if os.Getenv("FIVESAFES_TEST_LOG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	st, err := sandbox.Start(ctx, o)
	if err != nil {
		tb.Fatal(err)
	}
	s := &benchStack{Stack: st, tb: tb, ctx: ctx, log: o.Logger, claimer: &http.Client{Transport: &http.Transport{}}}
	// Cleanups run last in first out: the parked claims end before the bot stops.
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	tb.Cleanup(s.claimer.CloseIdleConnections)
	tb.Cleanup(cancel)
	st.Repo.SetPermission("ana", "write")
	if withAgent {
		if _, err := st.StartAgent(ctx, "tpp"); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// waitFor waits until cond holds on the emulator's state.
func (s *benchStack) waitFor(what string, cond func() bool) {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, benchWait)
	defer cancel()
	if err := s.Emulator.WaitFor(ctx, cond); err != nil {
		s.tb.Fatalf("%s: %v", what, err)
	}
}

// poll waits until cond holds on state the emulator does not see change
// (the bot's store, its metrics), looking every 200µs.
func (s *benchStack) poll(what string, cond func() bool) {
	s.tb.Helper()
	deadline := time.Now().Add(benchWait)
	for !cond() {
		if time.Now().After(deadline) {
			s.tb.Fatalf("%s: still not so after %s", what, benchWait)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// openStudy opens a pull request of study(nil) on a branch of its own, so
// that no earlier job shares its workspace, and waits until the bot is
// done with it: the project.yaml check completed, every delivery handled.
// Each study is run once, so its run is the repository's run #run.
func (s *benchStack) openStudy() (run, pr int, sha string) {
	s.tb.Helper()
	s.prs++
	branch := fmt.Sprintf("bench-%d", s.prs)
	s.Repo.Commit(branch, study(nil), "study")
	pr, sha = s.Repo.OpenPR(branch, "main", "Study", "ana")
	s.waitFor(checks.CheckName+" completed", func() bool {
		return slices.ContainsFunc(s.Repo.CheckRuns(sha), func(r ghemu.CheckRun) bool {
			return r.Name == checks.CheckName && r.Status == "completed"
		})
	})
	s.waitIdle()
	return s.prs, pr, sha
}

// waitIdle waits until the bot has handled every delivery it accepted and
// shown GitHub every change of its runs: after that it sends nothing until
// something new happens.
func (s *benchStack) waitIdle() {
	s.tb.Helper()
	s.poll("the bot settles", func() bool {
		accepted := 0
		for _, d := range s.Emulator.Deliveries() {
			if d.StatusCode == http.StatusAccepted {
				accepted++
			}
		}
		reqs, err := s.Server().Jobs().Unreported(s.ctx, 1)
		if err != nil {
			s.tb.Fatal(err)
		}
		prs, err := s.Server().Jobs().UnreportedPRs(s.ctx, 1)
		if err != nil {
			s.tb.Fatal(err)
		}
		return s.handled() == accepted && len(reqs) == 0 && len(prs) == 0
	})
}

// handled counts the deliveries the dispatcher has finished with, whatever
// the outcome; a delivery to be retried is not finished.
func (s *benchStack) handled() int {
	s.tb.Helper()
	families, err := s.Server().Metrics().Registry.Gather()
	if err != nil {
		s.tb.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "fivesafes_handler_outcomes_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() != "retry" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(n)
}

// waitRunShown waits until GitHub shows run #n on pr as ended with mark
// ("✅", "❌"): its check run completed and the status comment saying so.
func (s *benchStack) waitRunShown(n, pr int, sha, mark string) {
	s.tb.Helper()
	name := fmt.Sprintf("fivesafes / run #%d (tpp)", n)
	s.waitFor(name+" shown as "+mark, func() bool {
		done := false
		for _, r := range s.Repo.CheckRuns(sha) {
			done = done || r.Name == name && r.Status == "completed"
		}
		return done && slices.ContainsFunc(s.Repo.Comments(pr), func(c ghemu.Comment) bool {
			return c.User == ghemu.AppLogin && strings.HasPrefix(c.Body, runview.StatusMarker) &&
				strings.Contains(c.Body, fmt.Sprintf("- %s Run #%d ·", mark, n))
		})
	})
}

// timeAcceptances notes when the bot answers 202 to a delivery, as its
// handler writes the status line. The emulator's own record of the answer
// is late by however long the scheduler leaves its reading goroutine
// waiting, which on two busy cores can be as long as the bot takes to
// queue the task (the inbox wakes the dispatcher before the 202 goes out).
// So the emulator's webhooks go to the bot's handler through a server of
// this test; the handler, inbox and dispatcher are the bot's.
func (s *benchStack) timeAcceptances() {
	s.tb.Helper()
	h, quiet := s.Server().Handler(), slog.New(slog.DiscardHandler)
	if s.log != nil {
		quiet = s.log
	}
	s.accepted = map[string]time.Time{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		guid := r.Header.Get("X-GitHub-Delivery")
		h.ServeHTTP(&acceptanceWriter{ResponseWriter: w, accepted: func(at time.Time) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.accepted[guid] = at
		}}, r.WithContext(logging.With(r.Context(), quiet)))
	}))
	s.tb.Cleanup(srv.Close)
	s.Emulator.SetWebhook(srv.URL+"/webhook", s.Secret)
}

// acceptanceWriter calls accepted as the handler writes a 202.
type acceptanceWriter struct {
	http.ResponseWriter
	accepted func(time.Time)
}

func (w *acceptanceWriter) WriteHeader(code int) {
	if code == http.StatusAccepted {
		w.accepted(time.Now())
	}
	w.ResponseWriter.WriteHeader(code)
}

// delivered is the delivery of comment id: when the emulator started to
// send it, and when the bot answered it with 202.
func (s *benchStack) delivered(id int64) (sent, accepted time.Time) {
	s.tb.Helper()
	for _, d := range slices.Backward(s.Emulator.Deliveries()) {
		var p struct {
			Comment struct {
				ID int64 `json:"id"`
			} `json:"comment"`
		}
		if d.Event != "issue_comment" || json.Unmarshal(d.Body, &p) != nil || p.Comment.ID != id {
			continue
		}
		s.mu.Lock()
		at, ok := s.accepted[d.GUID]
		s.mu.Unlock()
		switch {
		case d.StatusCode != http.StatusAccepted:
			s.tb.Fatalf("the bot answered the delivery of comment %d with %d %s", id, d.StatusCode, d.Err)
		case !ok:
			s.tb.Fatalf("the delivery of comment %d did not go through timeAcceptances", id)
		}
		return d.At, at
	}
	s.tb.Fatalf("no delivery of comment %d", id)
	return time.Time{}, time.Time{}
}

// claimed is what a parked claim got, and when the agent held it.
type claimed struct {
	task protocol.Task
	at   time.Time
	err  error
}

// parkClaim is an idle agent of backend: it sends a long-poll claim and
// returns once the bot has it waiting for work, so that a task queued from
// then on wakes it.
func (s *benchStack) parkClaim(backend string) <-chan claimed {
	s.tb.Helper()
	notifier := s.Server().Jobs().Notifier()
	// A claim that found a task leaves its wake-up channel behind until the
	// next task is queued; clear it, so that Waiting means this claim.
	notifier.Notify(backend)
	out := make(chan claimed, 1)
	go func() { out <- s.claim(backend) }()
	for !notifier.Waiting(backend) {
		select {
		case c := <-out:
			s.tb.Fatalf("the claim returned before any run was asked for: %+v", c)
		case <-time.After(100 * time.Microsecond):
		}
	}
	return out
}

// claim is POST /agent/v1/tasks/claim?wait=30s as an agent sends it.
func (s *benchStack) claim(backend string) claimed {
	var c claimed
	resp, err := s.agentCall(backend, "/tasks/claim?wait=30s", nil)
	if err != nil {
		c.err = err
		return c
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		c.err = json.NewDecoder(resp.Body).Decode(&c.task)
		c.at = time.Now()
	case http.StatusNoContent:
		c.err = fmt.Errorf("no task within 30s")
	default:
		c.err = fmt.Errorf("claim: %s", resp.Status)
	}
	return c
}

// fail reports task's job as failed (exit code 1), so that the run ends
// and nothing of it is left queued for the next claim.
func (s *benchStack) fail(backend string, task protocol.Task) {
	s.tb.Helper()
	one := 1
	body, _ := json.Marshal(protocol.Update{Attempt: task.Attempt, Seq: 1, Stage: protocol.StageDone,
		StatusCode: protocol.CodeNonzeroExit, Message: "failed on purpose by the benchmark's agent", ExitCode: &one})
	resp, err := s.agentCall(backend, "/tasks/"+url.PathEscape(task.ID)+"/update", body)
	if err != nil {
		s.tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.tb.Fatalf("update of task %s: %s", task.ID, resp.Status)
	}
}

func (s *benchStack) agentCall(backend, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.BotURL()+protocol.APIPrefix+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.AgentToken(backend))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.claimer.Do(req)
}

// callKinds sorts the bot's GitHub requests, as RequestCounts keys them,
// into what they cost GitHub.
func callKinds(calls map[string]int) map[string]int {
	out := map[string]int{}
	for key, n := range calls {
		method, path, _ := strings.Cut(key, " ")
		var kind string
		switch {
		case strings.Contains(path, "/reactions"):
			kind = "reactions"
		case strings.Contains(path, "/check-runs") && method != http.MethodGet:
			kind = "check-run-writes"
		case strings.Contains(path, "/comments") && method != http.MethodGet:
			kind = "comment-writes"
		case strings.Contains(path, "/tarball/") || strings.HasPrefix(path, "/_codeload/") || strings.HasPrefix(path, "/_raw/"):
			kind = "code-downloads"
		case strings.HasPrefix(path, "/app"):
			kind = "app-auth"
		case method == http.MethodGet:
			kind = "reads"
		default:
			kind = "other-writes"
		}
		out[kind] += n
	}
	return out
}

// since is what counts gained from before to after.
func since(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range after {
		if d := n - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// quantile is the q-quantile of sorted durations, in milliseconds.
func quantile(sorted []time.Duration, q float64) float64 {
	return float64(sorted[int(q*float64(len(sorted)-1)+0.5)]) / float64(time.Millisecond)
}

// breakdown lists counts per run, largest first, on one line ("13.00 GET
// /repos/...; 12.00 PATCH ..."): the benchmark log keeps ten lines only.
func breakdown(m map[string]int, runs int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%.2f %s", float64(m[k])/float64(runs), k)
	}
	return strings.Join(parts, "; ")
}
