package agent

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/runner/exec"
	"github.com/fivesafes/fivesafes/runner/outputs"
)

// Agent claims tasks from the bot and runs them. Everything it needs after a
// restart is in the state directory: its task records and the executor's
// job directories.
type Agent struct {
	cfg      *Config
	bot      *Client
	executor exec.Executor
	records  records

	claimWait   time.Duration
	claimPause  time.Duration // after a claim fails for good
	outLimits   outputs.Limits
	codeLimits  ExtractLimits
	maxTarball  int64
	minInterval time.Duration

	mu     sync.Mutex
	active map[string]*handle // by job ID
	wg     sync.WaitGroup
}

// handle is one task being worked on.
type handle struct {
	stop      context.CancelFunc
	done      chan struct{}
	cancelled chan struct{} // closed when a cancel_job task names the job
	once      sync.Once
}

func (h *handle) cancel() { h.once.Do(func() { close(h.cancelled) }) }

// Option configures an Agent.
type Option func(*Agent)

// WithHTTPClient sets the client used to reach the bot.
func WithHTTPClient(hc *http.Client) Option { return func(a *Agent) { a.bot.http = hc } }

// WithClaimWait sets the long-poll wait of a claim (default 30s).
func WithClaimWait(d time.Duration) Option { return func(a *Agent) { a.claimWait = d } }

// WithRetryBackoff sets the first delay between retries of a failed bot
// call (default 500ms; it doubles up to 30s) and the pause after a claim
// the bot refused.
func WithRetryBackoff(d time.Duration) Option {
	return func(a *Agent) { a.bot.backoff = d; a.claimPause = 10 * d }
}

// WithOutputLimits sets the level-4 gates (default outputs.DefaultLimits).
func WithOutputLimits(l outputs.Limits) Option { return func(a *Agent) { a.outLimits = l } }

// WithExtractLimits sets the caps on a code tarball.
func WithExtractLimits(l ExtractLimits, maxCompressed int64) Option {
	return func(a *Agent) { a.codeLimits, a.maxTarball = l, maxCompressed }
}

// New returns an agent for the configuration, running jobs with e (usually
// cfg.NewExecutor()).
func New(cfg *Config, e exec.Executor, opts ...Option) (*Agent, error) {
	bot, err := NewClient(cfg.BotURL, cfg.Token, nil)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:         cfg,
		bot:         bot,
		executor:    e,
		records:     records{dir: filepath.Join(cfg.StateDir, "tasks")},
		claimWait:   30 * time.Second,
		claimPause:  5 * time.Second,
		outLimits:   outputs.DefaultLimits(),
		codeLimits:  DefaultExtractLimits(),
		maxTarball:  512 << 20,
		minInterval: 100 * time.Millisecond,
		active:      map[string]*handle{},
	}
	for _, o := range opts {
		o(a)
	}
	for _, d := range []string{cfg.HighPrivacyDir, cfg.MediumPrivacyDir, cfg.StateDir, a.records.dir, a.dir("downloads"), a.dir("logs")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *Agent) dir(name string) string { return filepath.Join(a.cfg.StateDir, name) }

// Run resumes the tasks held before a restart, then claims tasks with
// cfg.Workers workers until ctx ends. Jobs keep running under their
// supervisors when it returns; a new agent on the same directories picks
// them up.
func (a *Agent) Run(ctx context.Context) error {
	log := logging.From(ctx)
	recs, errs := a.records.all()
	for _, err := range errs {
		log.Error("cannot resume a task", "err", err)
	}
	a.reportOrphans(ctx, recs)
	for _, rec := range recs {
		log.Info("resuming task", logging.KeyTask, rec.Task.ID, logging.KeyJob, rec.Task.Job.ID, "attempt", rec.Task.Attempt)
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.runTask(ctx, rec.Task)
		}()
	}
	for range a.cfg.Workers {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.work(ctx)
		}()
	}
	<-ctx.Done()
	a.wg.Wait()
	return nil
}

// work claims and runs tasks one at a time.
func (a *Agent) work(ctx context.Context) {
	log := logging.From(ctx)
	for ctx.Err() == nil {
		t, err := a.bot.Claim(ctx, a.claimWait)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("claim failed", "err", err)
				sleep(ctx, a.claimPause)
			}
			continue
		}
		if t == nil {
			continue
		}
		log.Info("task claimed", logging.KeyTask, t.ID, logging.KeyJob, t.Job.ID, "kind", t.Kind, "attempt", t.Attempt)
		tctx := logging.Attrs(ctx, logging.KeyTask, t.ID, logging.KeyJob, t.Job.ID)
		switch t.Kind {
		case KindRunJob:
			a.runTask(ctx, *t) // adds the keys itself, as for resumed tasks
		case KindCancelJob:
			a.cancelTask(tctx, *t)
		case KindPrepareRelease, KindUploadRelease:
			a.releaseTask(tctx, *t)
		default:
			a.refuseTask(tctx, *t)
		}
	}
}

// acquire makes h the only handler of a job, stopping an older one (a
// resumed attempt the bot has since handed out again).
func (a *Agent) acquire(jobID string, h *handle) {
	for {
		a.mu.Lock()
		old := a.active[jobID]
		if old == nil {
			a.active[jobID] = h
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		old.stop()
		<-old.done
	}
}

func (a *Agent) release(jobID string, h *handle) {
	a.mu.Lock()
	if a.active[jobID] == h {
		delete(a.active, jobID)
	}
	a.mu.Unlock()
	close(h.done)
}

// cancelTask stops the job a cancel_job task names and reports the task done.
func (a *Agent) cancelTask(ctx context.Context, t Task) {
	log := logging.From(ctx)
	msg := "no such job on this backend"
	a.mu.Lock()
	h := a.active[t.Job.ID]
	a.mu.Unlock()
	if h != nil {
		h.cancel()
		msg = "cancel requested"
	}
	if checkName("job ID", t.Job.ID) == nil {
		st, err := a.executor.Status(ctx, t.Job.ID)
		if err == nil && st.State == exec.StateRunning {
			if err := a.executor.Cancel(ctx, t.Job.ID); err != nil {
				log.Error("cancel job", "err", err)
			}
			msg = "cancel requested"
		}
	}
	u := Update{Attempt: t.Attempt, Seq: 1, Stage: StageDone, StatusCode: CodeSucceeded, Message: msg}
	if _, err := a.bot.Update(ctx, t.ID, u); err != nil && ctx.Err() == nil {
		log.Error("report cancel task", "err", err)
	}
}

// refuseTask ends a task of a kind this agent cannot do, so that the bot
// does not hand it out again and again.
func (a *Agent) refuseTask(ctx context.Context, t Task) {
	u := Update{Attempt: t.Attempt, Seq: 1, Stage: StageDone, StatusCode: CodeInternalError,
		Message: fmt.Sprintf("this agent does not do tasks of kind %q", t.Kind)}
	if _, err := a.bot.Update(ctx, t.ID, u); err != nil && ctx.Err() == nil {
		logging.From(ctx).Error("report refused task", "err", err)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// reportOrphans logs jobs the executor knows that no task record names (a
// dropped stale attempt whose task never came back): without a task there is
// nobody to report to, so they are left for an operator, or for the bot's
// next attempt, which resumes them.
func (a *Agent) reportOrphans(ctx context.Context, recs []record) {
	known := map[string]bool{}
	for _, rec := range recs {
		known[rec.Task.Job.ID] = true
	}
	entries, err := os.ReadDir(a.cfg.ExecutorDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || known[e.Name()] || checkName("job ID", e.Name()) != nil {
			continue
		}
		st, err := a.executor.Status(ctx, e.Name())
		if err != nil {
			continue
		}
		logging.From(ctx).Warn("the executor has a job no task names", logging.KeyJob, e.Name(), "state", st.State)
	}
}
