package release

import (
	"context"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// Published records that the release pull request shows the manifest of
// revision as commit: reviews of that commit decide the release from now.
func (s *Store) Published(ctx context.Context, id string, revision, releasePR int, commit string, now time.Time) error {
	return s.write(ctx, now, func(t *txn) error {
		r, err := releaseBy(ctx, t.tx, id)
		if err != nil || r.Revision != revision || r.Published == revision {
			return err
		}
		if err := t.set(id, `published = ?, manifest_commit = ?, release_pr = ?, check_run_id = 0, check_run_sent = 0, tainted = '',
			verdict = '{}'`, revision, commit, releasePR); err != nil {
			return err
		}
		return t.audit("release.published", Actor, r, map[string]any{"revision": revision, "commit": commit, "release_pr": releasePR})
	})
}

// SetReleasePR records the release pull request as soon as it exists.
func (s *Store) SetReleasePR(ctx context.Context, id string, number int) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE releases SET release_pr = ? WHERE id = ?`, number, id)
	return err
}

// SetCheckRun records the check run on the manifest commit.
func (s *Store) SetCheckRun(ctx context.Context, id string, checkRunID int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE releases SET check_run_id = ?, check_run_sent = 0 WHERE id = ?`, checkRunID, id)
	return err
}

// SendingCheckRun records that a create of the check run is going out.
func (s *Store) SendingCheckRun(ctx context.Context, id string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE releases SET check_run_sent = 1 WHERE id = ?`, id)
	return err
}

// ReviewEvent is the review that prompted a decision, for the log.
type ReviewEvent struct {
	Reviewer string
	State    string
	CommitID string
}

// Decide applies the policy's verdict on the release's manifest commit:
// a checker's request for changes returns the release to the researcher;
// enough approvals approve it and queue the upload of its files; neither
// leaves (or puts back) the release in review. A verdict on another commit
// than the one the release shows, or on a release not in review, changes
// nothing. The review that prompted it is logged as counted or ignored.
func (s *Store) Decide(ctx context.Context, id, manifestCommit string, v Verdict, ev *ReviewEvent, now time.Time) (Release, error) {
	var r Release
	err := s.write(ctx, now, func(t *txn) error {
		var err error
		if r, err = releaseBy(ctx, t.tx, id); err != nil {
			return err
		}
		if ev != nil {
			why, counted := v.Ignored[strings.ToLower(ev.Reviewer)], containsFold(v.Counted, ev.Reviewer)
			if why == "" {
				why = v.Ignored[ev.Reviewer]
			}
			if err := t.audit("release.review", ev.Reviewer, r, map[string]any{"revision": r.Revision, "state": ev.State,
				"commit": ev.CommitID, "manifest_commit": r.ManifestCommit, "counted": counted, "why": why}); err != nil {
				return err
			}
		}
		if !r.InReview() || r.ManifestCommit != manifestCommit {
			return nil
		}
		r.Verdict = v
		if err := t.set(id, `verdict = ?`, mustJSON(v)); err != nil {
			return err
		}
		switch {
		case len(v.ChangesRequested) > 0:
			if r.State == Returned {
				return nil
			}
			r.State = Returned
			if err := t.set(id, `state = ?`, r.State); err != nil {
				return err
			}
			return t.audit("release.returned", v.ChangesRequested[0], r, map[string]any{"revision": r.Revision, "by": v.ChangesRequested})
		case v.Approved:
			return t.approve(&r, v)
		case r.State == Returned:
			r.State = InReview
			return t.set(id, `state = ?`, r.State)
		}
		return nil
	})
	return r, err
}

// approve approves the release and queues the upload of its manifest's
// files, each with the size and SHA-256 the checkers saw.
func (t *txn) approve(r *Release, v Verdict) error {
	files, err := filesOf(t.ctx, t.tx, r.ID, r.Revision)
	if err != nil {
		return err
	}
	r.State, r.ApprovedAt = Approved, t.now.Truncate(time.Millisecond)
	if err := t.set(r.ID, `state = ?, approved_at = ?`, r.State, r.ApprovedAt.UnixMilli()); err != nil {
		return err
	}
	task := protocol.ReleaseTask{ID: r.ID, Revision: r.Revision, Workspace: r.Workspace}
	for _, f := range files {
		task.Files = append(task.Files, protocol.ReleaseFile{Path: f.Path, Size: f.Size, SHA256: f.SHA256})
	}
	if err := jobs.QueueTask(t.ctx, t.tx, jobs.NewTask{ID: uploadTaskID(r.ID, r.Revision), Backend: r.Backend,
		Kind: jobs.UploadRelease, Payload: task}, t.now); err != nil {
		return err
	}
	t.wake = r.Backend
	return t.audit("release.approved", Actor, *r, map[string]any{"revision": r.Revision, "commit": r.ManifestCommit, "approved_by": v.Counted})
}

// MovingTo records, before the bot moves the release branch, the commit
// it moves it to: the push GitHub then reports is the bot's own, whoever
// GitHub names as its sender.
func (s *Store) MovingTo(ctx context.Context, id, commit string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE releases SET moving_to = ? WHERE id = ?`, commit, id)
	return err
}

// Taint records that a commit the bot did not make was pushed to the
// release branch: an alarm. Reviews decide nothing until the bot has put
// its own commit back (Restored). A push of a commit the bot made, or is
// moving the branch to, is no taint.
func (s *Store) Taint(ctx context.Context, id, commit, pusher string, now time.Time) error {
	return s.write(ctx, now, func(t *txn) error {
		r, err := releaseBy(ctx, t.tx, id)
		ours := commit == r.ManifestCommit || commit == r.ReleasedCommit || commit == r.MovingTo
		if err != nil || r.State.Finished() && r.State != Released || ours || commit == "" {
			return err
		}
		if err := t.set(id, `tainted = ?`, commit); err != nil {
			return err
		}
		return t.audit("release.tainted", pusher, r, map[string]any{"revision": r.Revision, "commit": commit,
			"manifest_commit": r.ManifestCommit, "alarm": "a commit not made by fivesafes was pushed to the release branch"})
	})
}

// Restored records that the release branch shows the bot's commit again.
func (s *Store) Restored(ctx context.Context, id, commit string, now time.Time) error {
	return s.write(ctx, now, func(t *txn) error {
		r, err := releaseBy(ctx, t.tx, id)
		if err != nil || r.Tainted == "" {
			return err
		}
		if err := t.set(id, `tainted = ''`); err != nil {
			return err
		}
		return t.audit("release.restored", Actor, r, map[string]any{"commit": commit, "replaced": r.Tainted})
	})
}

// Withdraw ends a release that is not finished, as /withdraw does.
func (s *Store) Withdraw(ctx context.Context, id, actor string, now time.Time) (Release, error) {
	var r Release
	err := s.write(ctx, now, func(t *txn) error {
		var err error
		if r, err = releaseBy(ctx, t.tx, id); err != nil || r.State.Finished() {
			return err
		}
		if err := t.end(r, Withdrawn, "withdrawn by @"+actor, "release.withdrawn", actor); err != nil {
			return err
		}
		r, err = releaseBy(ctx, t.tx, id)
		return err
	})
	return r, err
}

// Reject ends a release that cannot be carried out, with the reason.
func (s *Store) Reject(ctx context.Context, id, reason string, now time.Time) error {
	return s.write(ctx, now, func(t *txn) error {
		r, err := releaseBy(ctx, t.tx, id)
		if err != nil {
			return err
		}
		return t.end(r, Rejected, reason, "release.rejected", Actor)
	})
}

// Released records that the approved files are committed as commit on the
// release pull request.
func (s *Store) Released(ctx context.Context, id, commit string, now time.Time) error {
	return s.write(ctx, now, func(t *txn) error {
		r, err := releaseBy(ctx, t.tx, id)
		if err != nil || r.State != Uploading {
			return err
		}
		files, err := filesOf(ctx, t.tx, id, r.Revision)
		if err != nil {
			return err
		}
		if err := t.set(id, `state = ?, released_commit = ?, finished_at = ?`, Released, commit, t.now.UnixMilli()); err != nil {
			return err
		}
		// Every file is here: an upload task not yet claimed has nothing left to do.
		if err := jobs.DropTasks(ctx, t.tx, []string{uploadTaskID(id, r.Revision)}); err != nil {
			return err
		}
		list := make([]map[string]any, len(files))
		for i, f := range files {
			list[i] = map[string]any{"path": f.Path, "size": f.Size, "sha256": f.SHA256}
		}
		return t.audit("release.released", Actor, r, map[string]any{"revision": r.Revision, "commit": commit,
			"release_pr": r.ReleasePR, "files": list})
	})
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}
