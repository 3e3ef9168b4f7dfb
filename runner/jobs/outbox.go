package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// The outbox: every transaction that changes a request or its jobs bumps
// the request's version and its pull request's, in the same commit; the
// reporter shows GitHub the latest version and records it. So a crash
// between a change and its report loses nothing, and many changes between
// two reports cost one.

// touch marks a request (and its pull request) as out of date on GitHub.
func (t *txn) touch(requestID string) { t.touched[requestID] = true }

// bumpVersions runs before commit.
func (t *txn) bumpVersions() error {
	if len(t.touched) == 0 {
		return nil
	}
	ids := mustJSON(slices.Sorted(maps.Keys(t.touched)))
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE job_requests SET version = version + 1
		WHERE id IN (SELECT value FROM json_each(?))`, ids); err != nil {
		return fmt.Errorf("bump request versions: %w", err)
	}
	// WHERE true: without it SQLite would read ON CONFLICT as a join clause.
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO pr_status (repo, pr, installation_id)
		SELECT DISTINCT repo, pr, installation_id FROM job_requests WHERE id IN (SELECT value FROM json_each(?)) AND true
		ON CONFLICT (repo, pr) DO UPDATE SET version = pr_status.version + 1, installation_id = excluded.installation_id`, ids); err != nil {
		return fmt.Errorf("bump pull request versions: %w", err)
	}
	return nil
}

// Unreported returns up to limit requests that GitHub shows an older
// version of, oldest change first.
func (s *Store) Unreported(ctx context.Context, limit int) ([]Request, error) {
	return queryRequests(ctx, s.db.R, `WHERE version > reported_version ORDER BY coalesce(reported_at, 0), created_at LIMIT ?`, limit)
}

// MarkReported records that GitHub shows version of a request.
func (s *Store) MarkReported(ctx context.Context, id string, version int64, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE job_requests SET reported_version = max(reported_version, ?), reported_at = ? WHERE id = ?`,
		version, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("mark job request %s reported: %w", id, err)
	}
	return nil
}

// SetCheckRun records the check run that shows a request.
func (s *Store) SetCheckRun(ctx context.Context, requestID string, checkRunID int64) error {
	return s.setRequestField(ctx, requestID, "check_run_id", checkRunID)
}

// SetApprovalCheckRun records the action_required check run of a held request.
func (s *Store) SetApprovalCheckRun(ctx context.Context, requestID string, checkRunID int64) error {
	return s.setRequestField(ctx, requestID, "approval_check_run_id", checkRunID)
}

// SendingCheckRun records that a create of the request's check run is
// going out.
func (s *Store) SendingCheckRun(ctx context.Context, requestID string) error {
	return s.setRequestField(ctx, requestID, "check_run_sent", 1)
}

// SendingApprovalCheckRun records that a create of the request's approval
// check run is going out.
func (s *Store) SendingApprovalCheckRun(ctx context.Context, requestID string) error {
	return s.setRequestField(ctx, requestID, "approval_sent", 1)
}

// CloseApproval records that the approval check run no longer offers its
// button and says what became of the request.
func (s *Store) CloseApproval(ctx context.Context, requestID string) error {
	return s.setRequestField(ctx, requestID, "approval_closed", 1)
}

// setRequestField sets one of the columns above; column is never user input.
func (s *Store) setRequestField(ctx context.Context, id, column string, v int64) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE job_requests SET `+column+` = ? WHERE id = ?`, v, id)
	if err != nil {
		return fmt.Errorf("set %s of job request %s: %w", column, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("job request %s: %w", id, ErrNotFound)
	}
	return nil
}

// PRStatus is the status comment of a pull request with runs.
type PRStatus struct {
	Repo           string
	PR             int
	InstallationID int64
	CommentID      int64
	// CommentSent is set while a create is out whose answer may have been
	// lost: look for the comment before creating another.
	CommentSent     bool
	Version         int64
	ReportedVersion int64
	ReportedAt      time.Time
}

const prStatusColumns = `repo, pr, installation_id, comment_id, comment_sent, version, reported_version, reported_at`

func scanPRStatus(r scanner) (PRStatus, error) {
	var p PRStatus
	var reported sql.NullInt64
	if err := r.Scan(&p.Repo, &p.PR, &p.InstallationID, &p.CommentID, &p.CommentSent, &p.Version, &p.ReportedVersion, &reported); err != nil {
		return p, err
	}
	if reported.Valid {
		p.ReportedAt = ms(reported.Int64)
	}
	return p, nil
}

// TouchPR asks for the pull request's status comment to be shown again (or
// created), as /status does.
func (s *Store) TouchPR(ctx context.Context, repo string, pr int, installationID int64) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO pr_status (repo, pr, installation_id) VALUES (?, ?, ?)
		ON CONFLICT (repo, pr) DO UPDATE SET version = pr_status.version + 1, installation_id = excluded.installation_id`,
		repo, pr, installationID)
	if err != nil {
		return fmt.Errorf("touch status of %s#%d: %w", repo, pr, err)
	}
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return nil
}

// UnreportedPRs returns up to limit pull requests whose status comment is
// behind.
func (s *Store) UnreportedPRs(ctx context.Context, limit int) ([]PRStatus, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+prStatusColumns+` FROM pr_status WHERE version > reported_version
		ORDER BY coalesce(reported_at, 0) LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read pull request statuses: %w", err)
	}
	defer rows.Close()
	var out []PRStatus
	for rows.Next() {
		p, err := scanPRStatus(rows)
		if err != nil {
			return nil, fmt.Errorf("read pull request statuses: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PRStatusOf returns one pull request's status comment record.
func (s *Store) PRStatusOf(ctx context.Context, repo string, pr int) (PRStatus, error) {
	p, err := scanPRStatus(s.db.R.QueryRowContext(ctx, `SELECT `+prStatusColumns+` FROM pr_status WHERE repo = ? AND pr = ?`, repo, pr))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("status of %s#%d: %w", repo, pr, ErrNotFound)
	}
	return p, err
}

// StatusCommentSent records that a create of the status comment is out.
func (s *Store) StatusCommentSent(ctx context.Context, repo string, pr int) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE pr_status SET comment_sent = 1 WHERE repo = ? AND pr = ?`, repo, pr)
	return err
}

// SetStatusComment records the status comment's ID.
func (s *Store) SetStatusComment(ctx context.Context, repo string, pr int, commentID int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE pr_status SET comment_id = ?, comment_sent = 0 WHERE repo = ? AND pr = ?`, commentID, repo, pr)
	return err
}

// MarkPRReported records that the status comment shows version.
func (s *Store) MarkPRReported(ctx context.Context, repo string, pr int, version int64, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE pr_status SET reported_version = max(reported_version, ?), reported_at = ?
		WHERE repo = ? AND pr = ?`, version, at.UnixMilli(), repo, pr)
	if err != nil {
		return fmt.Errorf("mark status of %s#%d reported: %w", repo, pr, err)
	}
	return nil
}
