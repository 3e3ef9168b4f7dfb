package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/app/runview"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/outbox"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// approvalSuffix ends the external ID of a held request's approval check
// run; the run's own check run has the request ID.
const approvalSuffix = ":approval"

// RunReporter shows GitHub what became of runs: each request's check run
// and each pull request's status comment. It works from the store's outbox
// (jobs.Store.Unreported), so a change is shown after a restart as surely
// as before; and it coalesces: one check run gets at most one update per
// interval while its run goes on, and the last one as soon as it ends.
type RunReporter struct {
	store    *jobs.Store
	gh       RunGitHub
	runURL   func(jobs.Request) string
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
	// failed holds back a request or pull request whose report failed.
	failed *outbox.Backoff
	// urgent are pull requests whose status comment should show a run's
	// end at once rather than after the interval.
	urgent map[string]bool
}

// RunReporterOption configures a RunReporter.
type RunReporterOption func(*RunReporter)

// WithReportInterval sets the least time between two updates of one check
// run or status comment (default 5s).
func WithReportInterval(d time.Duration) RunReporterOption {
	return func(r *RunReporter) { r.interval = max(d, 0) }
}

// WithReporterLogger sets the logger (default slog.Default()).
func WithReporterLogger(l *slog.Logger) RunReporterOption { return func(r *RunReporter) { r.log = l } }

// NewRunReporter returns a reporter; runURL is the public page of a request,
// the check run's details link.
func NewRunReporter(st *jobs.Store, gh RunGitHub, runURL func(jobs.Request) string, opts ...RunReporterOption) *RunReporter {
	r := &RunReporter{store: st, gh: gh, runURL: runURL, interval: 5 * time.Second, now: time.Now, log: slog.Default(),
		failed: outbox.NewBackoff(time.Second, 5*time.Minute), urgent: map[string]bool{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// reportBatch is how many requests (and pull requests) one pass reads.
const reportBatch = 100

// Run reports until ctx ends, waking on every change the store signals
// and when a held-back report falls due.
func (r *RunReporter) Run(ctx context.Context) { outbox.Loop(ctx, r.store.Changed(), r.pass) }

// pass reports everything due and returns when to look again.
func (r *RunReporter) pass(ctx context.Context) (wake time.Time) {
	now := r.now()
	wake = now.Add(time.Minute)
	later := func(t time.Time) {
		if t.Before(wake) {
			wake = t
		}
	}
	reqs, err := r.store.Unreported(ctx, reportBatch)
	if err != nil && ctx.Err() == nil {
		r.log.Error("read runs to report", "err", err)
	}
	for _, q := range reqs {
		due := r.due("run/"+q.ID, q.ReportedAt, q.Status.Finished() || q.Status == jobs.RequestHeld)
		if due.After(now) {
			later(due)
			continue
		}
		err := r.reportRequest(ctx, q)
		later(r.settle(ctx, "run/"+q.ID, err, logging.KeyRepo, q.Repo, logging.KeyPR, q.PR, "request", q.ID))
	}
	prs, err := r.store.UnreportedPRs(ctx, reportBatch)
	if err != nil && ctx.Err() == nil {
		r.log.Error("read status comments to report", "err", err)
	}
	for _, p := range prs {
		key := prKey(p.Repo, p.PR)
		if due := r.due(key, p.ReportedAt, r.urgent[key]); due.After(now) {
			later(due)
			continue
		}
		err := r.reportPR(ctx, p)
		if err == nil {
			delete(r.urgent, key)
		}
		later(r.settle(ctx, key, err, logging.KeyRepo, p.Repo, logging.KeyPR, p.PR))
	}
	if len(reqs) == reportBatch || len(prs) == reportBatch {
		return now // more waiting
	}
	return wake
}

// due is when a report may go: at once the first time, for a final
// state, or after a failure's backoff; otherwise interval after the last.
func (r *RunReporter) due(key string, reportedAt time.Time, urgent bool) time.Time {
	at := time.Time{}
	if !urgent && !reportedAt.IsZero() {
		at = reportedAt.Add(r.interval)
	}
	if retry, ok := r.failed.Until(key); ok && retry.After(at) {
		at = retry
	}
	return at
}

// settle records a report's outcome; after a failure the key waits with
// backoff. It returns when the key is due again (zero time: not held back).
func (r *RunReporter) settle(ctx context.Context, key string, err error, attrs ...any) time.Time {
	if err == nil {
		r.failed.Succeeded(key)
		return r.now().Add(time.Hour)
	}
	if ctx.Err() != nil {
		return r.now()
	}
	now := r.now()
	again := r.failed.Failed(key, now, RetryAfter(err))
	r.log.Warn("report to GitHub failed; will retry", append(attrs, "err", err, "retry_in", again.Sub(now).String())...)
	return again
}

// reportRequest brings a request's check runs up to date.
func (r *RunReporter) reportRequest(ctx context.Context, q jobs.Request) error {
	repo, err := repoNamed(q.Repo, q.InstallationID)
	if err != nil {
		return err
	}
	if q.Status == jobs.RequestHeld {
		approval := checkRunSlot{externalID: q.ID + approvalSuffix, id: q.ApprovalCheckRunID, sent: q.ApprovalSent,
			sending: r.store.SendingApprovalCheckRun, record: r.store.SetApprovalCheckRun}
		if err := r.show(ctx, repo, q, approval, runview.ApprovalCheckRun(q, q.HoldReason)); err != nil {
			return err
		}
		return r.store.MarkReported(ctx, q.ID, q.Version, r.now())
	}
	if err := r.closeApproval(ctx, repo, q); err != nil {
		return err
	}
	if q.Status == jobs.RequestStale || q.Status == jobs.RequestWithdrawn {
		return r.store.MarkReported(ctx, q.ID, q.Version, r.now())
	}
	js, err := r.store.Jobs(ctx, q.ID)
	if err != nil {
		return err
	}
	run := checkRunSlot{externalID: q.ID, id: q.CheckRunID, sent: q.CheckRunSent,
		sending: r.store.SendingCheckRun, record: r.store.SetCheckRun}
	if err := r.show(ctx, repo, q, run, runview.RunCheckRun(q, js, r.now())); err != nil {
		return err
	}
	if q.Status.Finished() {
		r.urgent[prKey(q.Repo, q.PR)] = true // show the end in the status comment without waiting
	}
	return r.store.MarkReported(ctx, q.ID, q.Version, r.now())
}

// closeApproval takes the button off the approval check run of a request
// that is no longer held, and says what became of it.
func (r *RunReporter) closeApproval(ctx context.Context, repo checks.Repo, q jobs.Request) error {
	if q.ApprovalClosed || q.HoldReason == "" { // closed already, or never held
		return nil
	}
	id := q.ApprovalCheckRunID
	if id == 0 && q.ApprovalSent {
		ref, found, err := r.gh.FindCheckRun(ctx, repo, q.HeadSHA, runview.CheckRunName(q), q.ID+approvalSuffix)
		if err != nil {
			return err
		}
		id = ref.ID
		if !found {
			id = 0
		}
	}
	if id != 0 {
		if err := r.update(ctx, repo, id, runview.ClosedApprovalCheckRun(q)); err != nil {
			return err
		}
	}
	return r.store.CloseApproval(ctx, q.ID) // a held request shown never has nothing to close
}

// checkRunSlot is one of a request's two check runs, as the store knows it.
type checkRunSlot struct {
	externalID string
	id         int64 // 0 until known
	sent       bool  // a create went out whose answer may be lost
	sending    func(context.Context, string) error
	record     func(context.Context, string, int64) error
}

// show brings a check run to v: created showing v the first time (looked
// for first if an earlier create's answer may have been lost), updated
// after that.
func (r *RunReporter) show(ctx context.Context, repo checks.Repo, q jobs.Request, slot checkRunSlot, v runview.CheckRun) error {
	name := runview.CheckRunName(q)
	if slot.id == 0 && slot.sent {
		ref, found, err := r.gh.FindCheckRun(ctx, repo, q.HeadSHA, name, slot.externalID)
		if err != nil {
			return err
		}
		if found {
			if err := slot.record(ctx, q.ID, ref.ID); err != nil {
				return err
			}
			slot.id = ref.ID
		}
	}
	if slot.id != 0 {
		return r.update(ctx, repo, slot.id, v)
	}
	if err := slot.sending(ctx, q.ID); err != nil {
		return err
	}
	create := checks.NewCheckRun{Name: name, HeadSHA: q.HeadSHA, ExternalID: slot.externalID, DetailsURL: r.runURL(q),
		Status: v.Status, Output: &v.Output, Actions: v.Actions}
	if v.Status == "completed" {
		create.Conclusion, create.CompletedAt = v.Conclusion, r.now()
	}
	id, err := r.gh.CreateCheckRun(ctx, repo, create)
	if err != nil {
		return err
	}
	logging.From(ctx).Debug("check run created", logging.KeyCheckRun, id, "name", name, "status", v.Status)
	return slot.record(ctx, q.ID, id)
}

func (r *RunReporter) update(ctx context.Context, repo checks.Repo, id int64, v runview.CheckRun) error {
	upd := checks.CheckRunUpdate{Status: v.Status, Output: &v.Output, Actions: v.Actions}
	if v.Status == "completed" {
		upd.Conclusion, upd.CompletedAt = v.Conclusion, r.now()
	}
	if err := r.gh.UpdateCheckRun(ctx, repo, id, upd); err != nil {
		return err
	}
	logging.From(ctx).Debug("check run updated", logging.KeyCheckRun, id, "status", v.Status, "conclusion", v.Conclusion)
	return nil
}

// statusRuns is how many runs the status comment shows.
const statusRuns = 10

// reportPR brings a pull request's status comment up to date, creating it
// the first time.
func (r *RunReporter) reportPR(ctx context.Context, p jobs.PRStatus) error {
	repo, err := repoNamed(p.Repo, p.InstallationID)
	if err != nil {
		return err
	}
	reqs, err := r.store.Requests(ctx, p.Repo, p.PR)
	if err != nil {
		return err
	}
	runs := make([]runview.RequestJobs, 0, min(len(reqs), statusRuns))
	for i, q := range reqs {
		rj := runview.RequestJobs{Request: q}
		if i < statusRuns {
			if rj.Jobs, err = r.store.Jobs(ctx, q.ID); err != nil {
				return err
			}
		}
		runs = append(runs, rj)
	}
	body := runview.StatusComment(runs, r.runURL, r.now())
	id := p.CommentID
	if id == 0 && p.CommentSent {
		if id, _, err = r.gh.FindComment(ctx, repo, p.PR, runview.StatusMarker); err != nil {
			return err
		}
	}
	if id != 0 {
		err = r.gh.UpdateComment(ctx, repo, id, body)
		if isNotFound(err) {
			id = 0 // someone deleted it: make a new one
		} else if err != nil {
			return err
		}
	}
	if id == 0 {
		if err := r.store.StatusCommentSent(ctx, p.Repo, p.PR); err != nil {
			return err
		}
		if id, err = r.gh.CreateComment(ctx, repo, p.PR, body); err != nil {
			return err
		}
	}
	if err := r.store.SetStatusComment(ctx, p.Repo, p.PR, id); err != nil {
		return err
	}
	return r.store.MarkPRReported(ctx, p.Repo, p.PR, p.Version, r.now())
}

func prKey(repo string, pr int) string { return fmt.Sprintf("pr/%s#%d", repo, pr) }

// repoNamed is the checks.Repo of "owner/name".
func repoNamed(fullName string, installation int64) (checks.Repo, error) {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || installation == 0 {
		return checks.Repo{}, fmt.Errorf("run of %q has no repository or installation to report to", fullName)
	}
	return checks.Repo{InstallationID: installation, Owner: owner, Name: name}, nil
}

// isNotFound reports a 404 from GitHub.
func isNotFound(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}
