package release

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// Ask is a researcher's /release: files of a workspace, with what they are
// and how disclosure was controlled.
type Ask struct {
	Repo           string
	InstallationID int64
	PR             int
	Workspace      string
	Branch         string
	Backend        string
	Requester      string
	Trigger        string   // the comment that asked: a redelivery finds what it made
	Paths          []string // resolved, each a moderately sensitive output of a succeeded job
	Context        string
	Controls       string
}

// RequestID is the ID of the release that trigger started on a pull request.
func RequestID(repo string, pr int, trigger string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "fivesafes/release/v1\x00%s\x00%d\x00%s", repo, pr, trigger))
	return hex.EncodeToString(sum[:12])
}

// Ask starts a release request, or, while the research pull request's
// release is under review or returned, its next revision: its manifest is
// prepared by the agent afresh, and approvals of the earlier one no longer
// count. The same trigger asked again changes nothing. A release that is
// approved and uploading cannot be revised (ErrBusy).
func (s *Store) Ask(ctx context.Context, a Ask, now time.Time) (Release, error) {
	var r Release
	err := s.write(ctx, now, func(t *txn) error {
		var id string
		var rev int
		err := t.tx.QueryRowContext(ctx, `SELECT release_id, revision FROM release_revisions WHERE trigger = ?`, a.Trigger).Scan(&id, &rev)
		if err == nil {
			r, err = releaseBy(ctx, t.tx, id)
			return err // asked before
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		active, err := queryReleases(ctx, t.tx, `WHERE repo = ? AND pr = ? AND state NOT IN ('released', 'rejected', 'withdrawn')
			ORDER BY number DESC LIMIT 1`, a.Repo, a.PR)
		if err != nil {
			return err
		}
		if len(active) == 0 {
			r, err = t.create(a)
			return err
		}
		r = active[0]
		switch {
		case r.State == Approved || r.State == Uploading:
			return fmt.Errorf("%w: release #%d is approved and its files are being uploaded", ErrBusy, r.Number)
		case r.Backend != a.Backend:
			return fmt.Errorf("%w: release #%d is on backend %s; withdraw it first to release from %s", ErrBusy, r.Number, r.Backend, a.Backend)
		}
		r, err = t.revise(r, a)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("release: %w", err)
	}
	return r, nil
}

func (t *txn) create(a Ask) (Release, error) {
	r := Release{
		ID: RequestID(a.Repo, a.PR, a.Trigger), Repo: a.Repo, InstallationID: a.InstallationID, PR: a.PR,
		Workspace: a.Workspace, Branch: a.Branch, Backend: a.Backend, Requester: a.Requester,
		State: PendingManifest, Revision: 1, CreatedAt: t.now.Truncate(time.Millisecond), Version: 1,
	}
	if err := t.tx.QueryRowContext(t.ctx, `SELECT coalesce(max(number), 0) + 1 FROM releases WHERE repo = ?`, a.Repo).Scan(&r.Number); err != nil {
		return r, fmt.Errorf("number release: %w", err)
	}
	r.ReleaseBranch = fmt.Sprintf("fivesafes/release-%d", r.Number)
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO releases (id, number, repo, installation_id, pr, workspace, branch, backend,
		requester, state, revision, created_at, release_branch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Number, r.Repo, r.InstallationID, r.PR, r.Workspace, r.Branch, r.Backend, r.Requester, r.State, r.Revision,
		r.CreatedAt.UnixMilli(), r.ReleaseBranch); err != nil {
		return r, fmt.Errorf("insert release: %w", err)
	}
	t.touched = true
	if err := t.addRevision(r, a); err != nil {
		return r, err
	}
	return r, t.audit("release.requested", a.Requester, r, map[string]any{"pr": r.PR, "workspace": r.Workspace,
		"backend": r.Backend, "paths": a.Paths, "context": a.Context, "controls": a.Controls})
}

func (t *txn) revise(r Release, a Ask) (Release, error) {
	if err := jobs.DropTasks(t.ctx, t.tx, []string{prepareTaskID(r.ID, r.Revision)}); err != nil {
		return r, err
	}
	r.Revision++
	r.State = PendingManifest
	if err := t.set(r.ID, `revision = ?, state = ?`, r.Revision, r.State); err != nil {
		return r, err
	}
	if err := t.addRevision(r, a); err != nil {
		return r, err
	}
	return r, t.audit("release.revised", a.Requester, r, map[string]any{"revision": r.Revision, "paths": a.Paths,
		"context": a.Context, "controls": a.Controls})
}

// addRevision records what was asked and queues the agent's manifest.
func (t *txn) addRevision(r Release, a Ask) error {
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO release_revisions (release_id, revision, trigger, paths, context, controls,
		requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Revision, a.Trigger, mustJSON(a.Paths),
		a.Context, a.Controls, a.Requester, t.now.UnixMilli()); err != nil {
		return fmt.Errorf("insert release revision: %w", err)
	}
	files := make([]protocol.ReleaseFile, len(a.Paths))
	for i, p := range a.Paths {
		files[i] = protocol.ReleaseFile{Path: p}
	}
	t.wake = r.Backend
	return jobs.QueueTask(t.ctx, t.tx, jobs.NewTask{ID: prepareTaskID(r.ID, r.Revision), Backend: r.Backend, Kind: jobs.PrepareRelease,
		Payload: protocol.ReleaseTask{ID: r.ID, Revision: r.Revision, Workspace: r.Workspace, Files: files}}, t.now)
}

// prepareFinisher takes the manifest an agent reports for a revision: the
// release goes in review, or is rejected if the agent could not read a
// file. A manifest of a revision that is no longer current is ignored.
type prepareFinisher struct{ s *Store }

func (f prepareFinisher) FinishTask(ctx context.Context, tx *sql.Tx, task jobs.Task, u jobs.Update, now time.Time) (func(), error) {
	rt, t, r, current, err := taskRelease(ctx, tx, task, now, PendingManifest)
	if err != nil || !current {
		return nil, err
	}
	if u.Status != jobs.Succeeded {
		return f.s.after(t), t.end(r, Rejected, "the backend could not prepare the manifest: "+u.Message, "release.rejected", task.Backend)
	}
	var files []File
	if err := json.Unmarshal(u.Result, &files); err != nil {
		return f.s.after(t), t.end(r, Rejected, "the backend sent a manifest that cannot be read", "release.rejected", task.Backend)
	}
	if problem := manifestProblem(rt.Files, files); problem != "" {
		return f.s.after(t), t.end(r, Rejected, problem, "release.rejected", task.Backend)
	}
	for _, fl := range files {
		if _, err := tx.ExecContext(ctx, `INSERT INTO release_files (release_id, revision, path, size, sha256, info) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, r.ID, r.Revision, fl.Path, fl.Size, fl.SHA256, mustJSON(fl)); err != nil {
			return nil, fmt.Errorf("insert release file: %w", err)
		}
	}
	if err := t.set(r.ID, `state = ?`, InReview); err != nil {
		return nil, err
	}
	summary := make([]map[string]any, len(files))
	for i, fl := range files {
		summary[i] = map[string]any{"path": fl.Path, "size": fl.Size, "sha256": fl.SHA256, "findings": len(fl.Findings)}
	}
	return f.s.after(t), t.audit("release.manifest", task.Backend, r, map[string]any{"revision": r.Revision, "files": summary})
}

// manifestProblem says why a manifest does not answer the files asked, or "".
func manifestProblem(asked []protocol.ReleaseFile, got []File) string {
	var problems []string
	if len(got) != len(asked) {
		problems = append(problems, fmt.Sprintf("the backend reported %d files for the %d asked", len(got), len(asked)))
	}
	for _, a := range asked {
		i := slices.IndexFunc(got, func(f File) bool { return f.Path == a.Path })
		switch {
		case i < 0:
			problems = append(problems, a.Path+": not in the manifest")
		case got[i].Problem != "":
			problems = append(problems, a.Path+": "+got[i].Problem)
		}
	}
	return strings.Join(problems, "; ")
}

// taskRelease reads the release a task that ended is about, inside the
// finisher's transaction. current is false when the release has moved on
// since (another revision, or a state not in states): the task's result
// no longer matters.
func taskRelease(ctx context.Context, tx *sql.Tx, task jobs.Task, now time.Time, states ...State) (
	rt protocol.ReleaseTask, t *txn, r Release, current bool, err error) {
	if err := json.Unmarshal(task.Payload, &rt); err != nil {
		return rt, nil, r, false, fmt.Errorf("%s payload: %w", task.Kind, err)
	}
	t = &txn{ctx: ctx, tx: tx, now: now.UTC()}
	r, err = releaseBy(ctx, tx, rt.ID)
	if err != nil {
		return rt, t, r, false, ignoreNotFound(err)
	}
	return rt, t, r, r.Revision == rt.Revision && slices.Contains(states, r.State), nil
}

// after is what to do once a finisher's transaction commits.
func (s *Store) after(t *txn) func() { return func() { s.afterCommit(t) } }

func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
