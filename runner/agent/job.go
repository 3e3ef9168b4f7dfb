package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/runner/exec"
	"github.com/fivesafes/fivesafes/runner/outputs"
)

// run is one attempt of a run_job task.
type run struct {
	a    *Agent
	t    Task
	h    *handle
	seq  int64
	done *Update // the result decided before a restart, not yet acknowledged
	log  *slog.Logger

	mu sync.Mutex // serialises updates: seq order is send order
}

// runTask works on a run_job task until it is reported done, dropped as
// stale, or ctx ends (the agent stops: the record stays for the next one).
func (a *Agent) runTask(ctx context.Context, t Task) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	ctx = logging.Attrs(ctx, logging.KeyTask, t.ID, logging.KeyJob, t.Job.ID)
	log := logging.From(ctx)
	if err := checkName("job ID", t.Job.ID); err != nil {
		// Nothing can be recorded under this name; say so once.
		u := Update{Attempt: t.Attempt, Seq: 1, Stage: StageDone, StatusCode: CodeInternalError, Message: err.Error()}
		if _, err := a.bot.Update(ctx, t.ID, u); err != nil {
			log.Error("report refused task", "err", err)
		}
		return
	}
	h := &handle{stop: stop, done: make(chan struct{}), cancelled: make(chan struct{})}
	a.acquire(t.Job.ID, h)
	defer a.release(t.Job.ID, h)
	r := &run{a: a, t: t, h: h, log: log}
	if rec, ok := a.records.get(t.Job.ID); ok {
		r.seq = rec.Seq
		if rec.Task.ID == t.ID {
			r.done = rec.Done
		}
	}
	err := r.do(ctx)
	switch {
	case ctx.Err() != nil:
		log.Info("stopped working on the task; the next agent resumes it")
	case errors.Is(err, ErrStaleAttempt):
		log.Warn("the bot gave this task to another attempt; dropping ours", "attempt", t.Attempt)
		if err := a.records.remove(t.Job.ID); err != nil {
			log.Error("remove task record", "err", err)
		}
	case err != nil:
		log.Error("task failed", "err", err)
	}
}

func (r *run) do(ctx context.Context) error {
	j := r.t.Job
	if r.done != nil {
		u := *r.done
		if u.Attempt != r.t.Attempt {
			r.seq++
			u.Attempt, u.Seq = r.t.Attempt, r.seq
		}
		return r.report(ctx, u)
	}
	if err := r.save(); err != nil {
		return r.finish(ctx, CodeInternalError, "the agent could not record the task: "+err.Error(), nil, nil)
	}
	st, err := r.a.executor.Status(ctx, j.ID)
	if err != nil {
		return r.finish(ctx, CodeInternalError, "job state: "+err.Error(), nil, nil)
	}
	if st.State == exec.StateUnknown {
		var spec exec.Spec
		err := r.renewing(ctx, StagePreparing, CodePreparing, "preparing the workspace", nil, func(ctx context.Context) (err error) {
			spec, err = r.prepare(ctx)
			return err
		})
		if errors.Is(err, ErrStaleAttempt) || ctx.Err() != nil {
			return err
		}
		if err != nil {
			return r.finish(ctx, CodeInternalError, err.Error(), nil, nil)
		}
		if r.cancelRequested() {
			return r.finish(ctx, CodeCancelledByUser, "cancelled before the job started", nil, nil)
		}
		if err := r.a.executor.Start(ctx, spec); err != nil {
			return r.finish(ctx, CodeInternalError, "start job: "+err.Error(), nil, nil)
		}
	}
	st, err = r.execute(ctx)
	if err != nil {
		if errors.Is(err, ErrStaleAttempt) || ctx.Err() != nil {
			return err
		}
		return r.finish(ctx, CodeInternalError, "wait for job: "+err.Error(), nil, nil)
	}
	return r.conclude(ctx, st)
}

// prepare fetches the code into the workspace and builds the job's spec.
func (r *run) prepare(ctx context.Context) (exec.Spec, error) {
	j := r.t.Job
	ws, err := WorkspaceDir(j.Workspace)
	if err != nil {
		return exec.Spec{}, err
	}
	workdir := filepath.Join(r.a.cfg.HighPrivacyDir, ws)
	tarball := filepath.Join(r.a.dir("downloads"), j.ID+".tar.gz")
	defer os.Remove(tarball)
	if err := r.a.bot.DownloadCode(ctx, r.t.ID, tarball, r.a.maxTarball); err != nil {
		return exec.Spec{}, fmt.Errorf("download code: %w", err)
	}
	if err := ExtractCode(tarball, workdir, r.a.codeLimits); err != nil {
		return exec.Spec{}, fmt.Errorf("unpack code: %w", err)
	}
	args, err := jobArgv(j)
	if err != nil {
		return exec.Spec{}, err
	}
	timeout := r.a.cfg.JobTimeout
	if j.TimeoutSeconds > 0 {
		timeout = time.Duration(j.TimeoutSeconds) * time.Second
	}
	return exec.Spec{
		JobID:   j.ID,
		Image:   j.Image,
		Args:    args,
		Workdir: workdir,
		Timeout: timeout,
		Env:     map[string]string{"OPENSAFELY_BACKEND": r.a.cfg.Backend},
		LogFile: filepath.Join(r.a.dir("logs"), j.ID+".log"),
	}, nil
}

// execute waits for the job, renewing the lease every lease/3 and cancelling
// the job when the bot says so.
func (r *run) execute(ctx context.Context) (exec.Status, error) {
	interval := r.a.renewEvery(r.t)
	cancelSent := false
	for {
		if err := r.send(ctx, StageExecuting, CodeExecuting, "the job is running", nil, nil); err != nil {
			return exec.Status{}, err
		}
		if r.cancelRequested() && !cancelSent {
			cancelSent = true
			if err := r.a.executor.Cancel(ctx, r.t.Job.ID); err != nil {
				r.log.Error("cancel job", "err", err)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, interval)
		st, err := r.a.executor.Wait(wctx, r.t.Job.ID)
		cancel()
		switch {
		case err == nil && st.State != exec.StateRunning:
			return st, nil
		case ctx.Err() != nil:
			return exec.Status{}, ctx.Err()
		case err != nil && !errors.Is(err, context.DeadlineExceeded):
			return exec.Status{}, err
		}
	}
}

// conclude turns the job's end into its status code and report.
func (r *run) conclude(ctx context.Context, st exec.Status) error {
	code := st.ExitCode
	switch {
	case st.State == exec.StateLost:
		r.log.Error("job lost", "detail", st.Detail)
		return r.finish(ctx, CodeInternalError, "the job's supervisor ended without recording an exit code", nil, nil)
	case st.Cancelled:
		return r.finish(ctx, CodeCancelledByUser, "the job was cancelled", &code, nil)
	case st.TimedOut:
		return r.finish(ctx, CodeTimedOut, "the job ran longer than its timeout", &code, nil)
	}
	j := r.t.Job
	ws, err := WorkspaceDir(j.Workspace)
	if err != nil {
		return r.finish(ctx, CodeInternalError, err.Error(), &code, nil)
	}
	workdir := filepath.Join(r.a.cfg.HighPrivacyDir, ws)
	medium := filepath.Join(r.a.cfg.MediumPrivacyDir, ws)
	var rep outputs.Report
	var ferr error
	err = r.renewing(ctx, StageFinalizing, CodeFinalizing, "checking the job's outputs", &code, func(context.Context) error {
		rep, _, ferr = outputs.Finalize(workdir, medium, j.OutputGroups(), r.a.outLimits)
		return nil
	})
	if err != nil {
		return err
	}
	if err := ferr; err != nil {
		r.log.Error("finalize outputs", "err", err)
		return r.finish(ctx, CodeInternalError, "the agent could not persist the job's outputs", &code, nil)
	}
	switch {
	case code != 0:
		return r.finish(ctx, CodeNonzeroExit, fmt.Sprintf("the job exited with code %d", code), &code, &rep)
	case len(rep.Unmatched) > 0:
		return r.finish(ctx, CodeUnmatchedPatterns, "no outputs found matching patterns: "+strings.Join(rep.Unmatched, ", "), &code, &rep)
	}
	return r.finish(ctx, CodeSucceeded, "completed successfully", &code, &rep)
}

// finish reports the task done and forgets the job.
func (r *run) finish(ctx context.Context, code, msg string, exit *int, rep *outputs.Report) error {
	r.seq++
	return r.report(ctx, Update{Attempt: r.t.Attempt, Seq: r.seq, Stage: StageDone, StatusCode: code, Message: clip(msg), ExitCode: exit, Results: rep})
}

// report sends the final update, recorded first so that a restarted agent
// sends the same one, and forgets the job once the bot has it.
func (r *run) report(ctx context.Context, u Update) error {
	code := u.StatusCode
	if err := r.a.records.save(record{Task: r.t, Seq: u.Seq, Done: &u}); err != nil {
		r.log.Error("record task", "err", err)
	}
	_, err := r.a.bot.Update(ctx, r.t.ID, u)
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // the next agent sends it again
	}
	// The bot has the result: forget the job even if the agent is stopping.
	ctx = context.WithoutCancel(ctx)
	if err != nil && !errors.Is(err, ErrStaleAttempt) {
		r.log.Error("the bot did not take the job's result", "err", err, "status_code", code)
	}
	if !errors.Is(err, ErrStaleAttempt) {
		if cerr := r.a.executor.Cleanup(ctx, r.t.Job.ID); cerr != nil {
			r.log.Error("clean up job", "err", cerr)
		}
	}
	if rerr := r.a.records.remove(r.t.Job.ID); rerr != nil {
		r.log.Error("remove task record", "err", rerr)
	}
	r.log.Info("task done", "status_code", code)
	return err
}

// send reports progress. A refused progress update is logged and the work
// goes on; a stale attempt or the end of ctx stops it.
func (r *run) send(ctx context.Context, stage, code, msg string, exit *int, rep *outputs.Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	if err := r.save(); err != nil {
		r.log.Error("record task", "err", err)
	}
	u := Update{Attempt: r.t.Attempt, Seq: r.seq, Stage: stage, StatusCode: code, Message: clip(msg), ExitCode: exit, Results: rep}
	a, err := r.a.bot.Update(ctx, r.t.ID, u)
	switch {
	case err == nil:
		if a.Cancel {
			r.h.cancel()
		}
		return nil
	case errors.Is(err, ErrStaleAttempt), ctx.Err() != nil:
		return err
	}
	r.log.Error("progress update refused", "err", err, "stage", stage)
	return nil
}

func (r *run) save() error { return r.a.records.save(record{Task: r.t, Seq: r.seq}) }

func (r *run) cancelRequested() bool {
	select {
	case <-r.h.cancelled:
		return true
	default:
		return false
	}
}

// argv is the job's arguments after its image; as in job-runner, an action's
// config is appended as --config and one JSON argument.
func jobArgv(j Job) ([]string, error) {
	args := slices.Clone(j.Args)
	if j.HasConfig() {
		var b bytes.Buffer
		if err := json.Compact(&b, j.Config); err != nil {
			return nil, fmt.Errorf("the job's config is not JSON: %w", err)
		}
		args = append(args, "--config", b.String())
	}
	return args, nil
}

// renewing reports the stage and runs work, repeating the update every
// interval so the lease holds through a long download or finalization. A
// stale attempt stops work (through its context) and is returned.
func (r *run) renewing(ctx context.Context, stage, code, msg string, exit *int, work func(context.Context) error) error {
	if err := r.send(ctx, stage, code, msg, exit, nil); err != nil {
		return err
	}
	return renewingLease(ctx, r.a.renewEvery(r.t), func(ctx context.Context) error {
		if err := r.send(ctx, stage, code, msg, exit, nil); errors.Is(err, ErrStaleAttempt) {
			return err
		}
		return nil
	}, work)
}

// maxMessage is the bot's limit on an update's message, in bytes.
const maxMessage = 2000

// clip makes a message the bot accepts: valid UTF-8 without NULs, at most
// maxMessage bytes.
func clip(msg string) string {
	msg = strings.ToValidUTF8(strings.ReplaceAll(msg, "\x00", ""), "\uFFFD")
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage - len("…")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}
