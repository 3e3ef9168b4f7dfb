package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fivesafes/fivesafes/app/web"
	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/store"
	"github.com/fivesafes/fivesafes/release"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// pagesSource is what the public pages show, read from the bot's stores:
// public facts only (states, names of moderately sensitive files, hashes),
// as the stores hold nothing else.
type pagesSource struct {
	db       *store.DB
	jobs     *jobs.Store
	releases *release.Store
}

var _ web.Source = pagesSource{}

func (s pagesSource) RecentRuns(ctx context.Context, limit int) ([]web.Run, error) {
	rs, err := s.jobs.RecentRequests(ctx, limit)
	if err != nil {
		return nil, err
	}
	return s.runs(ctx, rs)
}

// runs lists requests with their job counts, counted in one query.
func (s pagesSource) runs(ctx context.Context, rs []jobs.Request) ([]web.Run, error) {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	counts, err := s.jobs.JobCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]web.Run, len(rs))
	for i, r := range rs {
		out[i] = runOf(r, counts[r.ID])
	}
	return out, nil
}

func runOf(r jobs.Request, c jobs.JobCount) web.Run {
	return web.Run{ID: r.ID, Number: r.Number, Repo: r.Repo, PR: r.PR, HeadSHA: r.HeadSHA, Backend: r.Backend,
		Requester: r.Requester, Status: string(r.Status), CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt,
		Jobs: c.Jobs, JobsFailed: c.Failed}
}

func (s pagesSource) RecentReleases(ctx context.Context, limit int) ([]web.Release, error) {
	rs, err := s.releases.Recent(ctx, limit)
	if err != nil {
		return nil, err
	}
	return s.releaseList(ctx, rs)
}

// releaseList lists releases with their file counts, counted in one query.
func (s pagesSource) releaseList(ctx context.Context, rs []release.Release) ([]web.Release, error) {
	counts, err := s.releases.FileCounts(ctx, rs)
	if err != nil {
		return nil, err
	}
	out := make([]web.Release, len(rs))
	for i, r := range rs {
		out[i] = releaseOf(r, counts[r.ID])
	}
	return out, nil
}

func releaseOf(r release.Release, files int) web.Release {
	return web.Release{ID: r.ID, Number: r.Number, Repo: r.Repo, PR: r.PR, ReleasePR: r.ReleasePR, Requester: r.Requester,
		Backend: r.Backend, State: string(r.State), Revision: r.Revision, Files: files, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt}
}

func (s pagesSource) Run(ctx context.Context, id string) (web.RunDetail, error) {
	r, err := s.jobs.Request(ctx, id)
	if errors.Is(err, jobs.ErrNotFound) {
		return web.RunDetail{}, fmt.Errorf("run %s: %w", id, web.ErrNotFound)
	}
	if err != nil {
		return web.RunDetail{}, err
	}
	js, err := s.jobs.Jobs(ctx, id)
	if err != nil {
		return web.RunDetail{}, err
	}
	count := jobs.JobCount{Jobs: len(js)}
	for _, j := range js {
		if j.State == plan.Failed {
			count.Failed++
		}
	}
	d := web.RunDetail{Run: runOf(r, count), Actions: r.Actions, Force: r.Force, ApprovedBy: r.ApprovedBy}
	for _, st := range r.Plan {
		d.Plan = append(d.Plan, web.PlanStep{Action: st.Action, Decision: string(st.Decision), Reason: st.Reason, JobID: st.JobID})
	}
	for _, j := range js {
		d.Jobs = append(d.Jobs, jobOf(j))
	}
	rels, err := s.releases.ForResearchPR(ctx, r.Repo, r.PR)
	if err != nil {
		return d, err
	}
	d.Releases, err = s.releaseList(ctx, rels)
	return d, err
}

// jobOf is a job as its page shows it: moderately sensitive outputs by
// name and size, highly sensitive ones counted.
func jobOf(j jobs.Job) web.Job {
	w := web.Job{ID: j.ID, Action: j.Action, State: string(j.State), Status: string(j.Status), Message: j.Message,
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, CompletedAt: j.CompletedAt, ExitCode: j.ExitCode}
	if j.Outputs != nil {
		w.HighlySensitive = j.Outputs.HighlySensitiveCount
		for _, f := range j.Outputs.Files {
			w.Outputs = append(w.Outputs, web.OutputFile{Path: f.Path, Size: f.Size, Refused: f.Refused})
		}
	}
	return w
}

func (s pagesSource) Release(ctx context.Context, id string) (web.ReleaseDetail, error) {
	r, err := s.releases.Get(ctx, id)
	if errors.Is(err, release.ErrNotFound) {
		return web.ReleaseDetail{}, fmt.Errorf("release %s: %w", id, web.ErrNotFound)
	}
	if err != nil {
		return web.ReleaseDetail{}, err
	}
	files, err := s.releases.Files(ctx, id, r.Revision)
	if err != nil {
		return web.ReleaseDetail{}, err
	}
	d := web.ReleaseDetail{Release: releaseOf(r, len(files)), Reason: r.Reason, ManifestCommit: r.ManifestCommit,
		ReleasedCommit: r.ReleasedCommit, Counted: r.Verdict.Counted, Ignored: r.Verdict.Ignored}
	for _, f := range files {
		wf := web.ReleaseFile{Path: f.Path, Size: f.Size, SHA256: f.SHA256, Type: f.Type, Rows: f.Rows, Columns: f.Columns, Received: f.Received}
		for _, fd := range f.Findings {
			wf.Findings = append(wf.Findings, web.Finding{Check: fd.Check, Message: fd.Message})
		}
		d.Files = append(d.Files, wf)
	}
	runs, err := s.jobs.Requests(ctx, r.Repo, r.PR)
	if err != nil {
		return d, err
	}
	if d.Runs, err = s.runs(ctx, runs); err != nil {
		return d, err
	}
	history, err := audit.Page(ctx, s.db.R, audit.Query{Subjects: []string{id}, Limit: 1000})
	if err != nil {
		return d, err
	}
	for i := len(history) - 1; i >= 0; i-- { // oldest first
		d.History = append(d.History, eventOf(history[i]))
	}
	return d, nil
}

func (s pagesSource) Events(ctx context.Context, q web.EventQuery) (web.EventPage, error) {
	aq := audit.Query{Repo: q.Repo, Before: q.Before, Limit: q.Limit + 1}
	if q.Subject != "" {
		// A run's history is its own entries and its jobs'.
		aq.Subjects = []string{q.Subject}
		if js, err := s.jobs.Jobs(ctx, q.Subject); err == nil {
			for _, j := range js {
				aq.Subjects = append(aq.Subjects, j.ID)
			}
		}
	}
	es, err := audit.Page(ctx, s.db.R, aq)
	if err != nil {
		return web.EventPage{}, err
	}
	var page web.EventPage
	if len(es) > q.Limit {
		es = es[:q.Limit]
		page.Next = es[len(es)-1].Seq
	}
	for _, e := range es {
		page.Events = append(page.Events, eventOf(e))
	}
	return page, nil
}

// eventOf is a log entry with the page of what it is about.
func eventOf(e audit.Entry) web.Event {
	w := web.Event{Seq: e.Seq, At: e.At, Kind: e.Kind, Actor: e.Actor, Repo: e.Repo, Subject: e.Subject, Data: e.Data,
		PrevHash: e.PrevHash, Hash: e.Hash}
	kind, _, _ := strings.Cut(e.Kind, ".")
	switch {
	case kind == "release":
		w.Link = "/releases/" + e.Subject
	case kind == "job":
		var d struct{ Request string }
		if json.Unmarshal(e.Data, &d) == nil && d.Request != "" {
			w.Link = "/runs/" + d.Request
		}
	case kind == "run" && !strings.Contains(e.Subject, "@"): // refusals are about a commit, not a run
		w.Link = "/runs/" + e.Subject
	}
	return w
}
