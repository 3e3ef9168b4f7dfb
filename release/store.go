package release

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/store"
	"github.com/fivesafes/fivesafes/runner/jobs"
)

// Errors callers tell apart.
var (
	// ErrNotFound: no such release.
	ErrNotFound = errors.New("no such release")
	// ErrBusy: the research pull request's release cannot take a new
	// revision now (it is approved and being uploaded).
	ErrBusy = errors.New("release busy")
)

// Actor is the audit actor for the bot's own decisions.
const Actor = "fivesafes"

// Release is a release request as the store keeps it.
type Release struct {
	ID             string
	Number         int
	Repo           string
	InstallationID int64
	PR             int    // the research pull request
	Workspace      string // owner/repo/branch
	Branch         string // the research branch
	Backend        string
	Requester      string
	State          State
	Revision       int    // the current manifest revision
	Reason         string // why rejected or withdrawn
	CreatedAt      time.Time
	FinishedAt     time.Time
	ReleaseBranch  string // fivesafes/release-N
	ReleasePR      int    // 0 until opened
	Published      int    // the revision the release branch shows
	ManifestCommit string // its commit
	ReleasedCommit string
	CheckRunID     int64
	CheckRunSent   bool
	MovingTo       string  // the commit the bot is moving the release branch to
	Tainted        string  // a commit someone else pushed to the release branch
	Verdict        Verdict // the policy's last verdict on the manifest commit
	ApprovedAt     time.Time
	Version        int64
	Reported       int64
}

// InReview reports whether checkers' reviews decide the release now: its
// current manifest is on the release branch, untouched by anyone else.
func (r Release) InReview() bool {
	return (r.State == InReview || r.State == Returned) && r.Published == r.Revision && r.ManifestCommit != "" && r.Tainted == ""
}

// Revision is one /release of a release request: what was asked.
type Revision struct {
	Release     string
	Number      int
	Trigger     string
	Paths       []string
	Context     string
	Controls    string
	RequestedBy string
	RequestedAt time.Time
}

// Store keeps release requests in SQLite, with their audit entries in the
// same transactions, and the released files content-addressed on disk.
type Store struct {
	db      *store.DB
	jobs    *jobs.Store
	dir     string // released files: dir/<sha256>
	changed chan struct{}
}

// NewStore opens the release store on db; released files are kept in dir.
// It finishes jobs' release tasks (prepare_release, upload_release).
func NewStore(db *store.DB, js *jobs.Store, dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "incoming"), 0o700); err != nil {
		return nil, fmt.Errorf("release store: %w", err)
	}
	s := &Store{db: db, jobs: js, dir: dir, changed: make(chan struct{}, 1)}
	js.HandleTasks(jobs.PrepareRelease, prepareFinisher{s})
	js.HandleTasks(jobs.UploadRelease, uploadFinisher{s})
	return s, nil
}

// Changed receives after a commit that left GitHub behind (Unreported).
func (s *Store) Changed() <-chan struct{} { return s.changed }

func (s *Store) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// txn is one write transaction of the store.
type txn struct {
	ctx     context.Context
	tx      *sql.Tx
	now     time.Time
	touched bool
	wake    string // a backend with a newly queued task
}

func (s *Store) write(ctx context.Context, now time.Time, fn func(t *txn) error) error {
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	t := &txn{ctx: ctx, tx: tx, now: now.UTC()}
	if err := fn(t); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.afterCommit(t)
	return nil
}

func (s *Store) afterCommit(t *txn) {
	if t.wake != "" {
		s.jobs.Wake(t.wake)
	}
	if t.touched {
		s.signal()
	}
}

func (t *txn) audit(kind, actor string, r Release, data map[string]any) error {
	data["number"] = r.Number
	_, err := audit.Append(t.ctx, t.tx, t.now, kind, actor, r.Repo, r.ID, data)
	return err
}

// set changes columns of a release and marks it for the reporter. columns
// are the store's own names, never user input.
func (t *txn) set(id string, columns string, args ...any) error {
	res, err := t.tx.ExecContext(t.ctx, `UPDATE releases SET `+columns+`, version = version + 1 WHERE id = ?`, append(args, id)...)
	if err != nil {
		return fmt.Errorf("update release %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("release %s: %w", id, ErrNotFound)
	}
	t.touched = true
	return nil
}

// end finishes a release in state (rejected, withdrawn) with reason, drops
// its agent's unfinished tasks, and records kind.
func (t *txn) end(r Release, state State, reason, kind, actor string) error {
	if r.State.Finished() {
		return nil
	}
	if err := t.set(r.ID, `state = ?, reason = ?, finished_at = ?`, state, reason, t.now.UnixMilli()); err != nil {
		return err
	}
	if err := jobs.DropTasks(t.ctx, t.tx, []string{prepareTaskID(r.ID, r.Revision), uploadTaskID(r.ID, r.Revision)}); err != nil {
		return err
	}
	return t.audit(kind, actor, r, map[string]any{"revision": r.Revision, "reason": reason})
}

func prepareTaskID(id string, rev int) string { return fmt.Sprintf("prepare-%s-%d", id, rev) }
func uploadTaskID(id string, rev int) string  { return fmt.Sprintf("upload-%s-%d", id, rev) }

const releaseColumns = `id, number, repo, installation_id, pr, workspace, branch, backend, requester, state, revision,
	reason, created_at, finished_at, release_branch, release_pr, published, manifest_commit, released_commit,
	check_run_id, check_run_sent, moving_to, tainted, verdict, approved_at, version, reported_version`

type scanner interface{ Scan(dest ...any) error }

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanRelease(row scanner) (Release, error) {
	var r Release
	var created int64
	var finished, approved sql.NullInt64
	var verdict string
	err := row.Scan(&r.ID, &r.Number, &r.Repo, &r.InstallationID, &r.PR, &r.Workspace, &r.Branch, &r.Backend, &r.Requester,
		&r.State, &r.Revision, &r.Reason, &created, &finished, &r.ReleaseBranch, &r.ReleasePR, &r.Published,
		&r.ManifestCommit, &r.ReleasedCommit, &r.CheckRunID, &r.CheckRunSent, &r.MovingTo, &r.Tainted, &verdict, &approved, &r.Version, &r.Reported)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(verdict), &r.Verdict); err != nil {
		return r, fmt.Errorf("release %s verdict: %w", r.ID, err)
	}
	r.CreatedAt = ms(created)
	if finished.Valid {
		r.FinishedAt = ms(finished.Int64)
	}
	if approved.Valid {
		r.ApprovedAt = ms(approved.Int64)
	}
	return r, nil
}

func queryReleases(ctx context.Context, q querier, where string, args ...any) ([]Release, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+releaseColumns+` FROM releases `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read releases: %w", err)
	}
	defer rows.Close()
	var out []Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, fmt.Errorf("read releases: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func releaseBy(ctx context.Context, q querier, id string) (Release, error) {
	r, err := scanRelease(q.QueryRowContext(ctx, `SELECT `+releaseColumns+` FROM releases WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("release %s: %w", id, ErrNotFound)
	}
	return r, err
}

// Get returns one release.
func (s *Store) Get(ctx context.Context, id string) (Release, error) {
	return releaseBy(ctx, s.db.R, id)
}

// ForResearchPR returns the releases asked for on a research pull request, newest first.
func (s *Store) ForResearchPR(ctx context.Context, repo string, pr int) ([]Release, error) {
	return queryReleases(ctx, s.db.R, `WHERE repo = ? AND pr = ? ORDER BY number DESC`, repo, pr)
}

// Recent returns the newest releases of every repository.
func (s *Store) Recent(ctx context.Context, limit int) ([]Release, error) {
	return queryReleases(ctx, s.db.R, `ORDER BY created_at DESC, rowid DESC LIMIT ?`, limit)
}

// ByReleasePR returns the release whose pull request is number, if any.
func (s *Store) ByReleasePR(ctx context.Context, repo string, number int) (Release, error) {
	rs, err := queryReleases(ctx, s.db.R, `WHERE repo = ? AND release_pr = ? ORDER BY number DESC LIMIT 1`, repo, number)
	if err != nil {
		return Release{}, err
	}
	if len(rs) == 0 {
		return Release{}, fmt.Errorf("release pull request %s#%d: %w", repo, number, ErrNotFound)
	}
	return rs[0], nil
}

// Revision returns one revision of a release.
func (s *Store) Revision(ctx context.Context, id string, rev int) (Revision, error) {
	return revisionBy(ctx, s.db.R, id, rev)
}

func revisionBy(ctx context.Context, q querier, id string, rev int) (Revision, error) {
	v := Revision{Release: id, Number: rev}
	var paths string
	var at int64
	err := q.QueryRowContext(ctx, `SELECT trigger, paths, context, controls, requested_by, requested_at FROM release_revisions
		WHERE release_id = ? AND revision = ?`, id, rev).Scan(&v.Trigger, &paths, &v.Context, &v.Controls, &v.RequestedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("release %s revision %d: %w", id, rev, ErrNotFound)
	}
	if err != nil {
		return v, err
	}
	v.RequestedAt = ms(at)
	return v, json.Unmarshal([]byte(paths), &v.Paths)
}

// StoredFile is a manifest file and whether it arrived, verified.
type StoredFile struct {
	File
	Received bool
}

// FileCounts counts the files of each release's current revision, in one
// query, for lists.
func (s *Store) FileCounts(ctx context.Context, rs []Release) (map[string]int, error) {
	type key struct {
		ID       string `json:"id"`
		Revision int    `json:"rev"`
	}
	keys := make([]key, len(rs))
	for i, r := range rs {
		keys[i] = key{r.ID, r.Revision}
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT f.release_id, count(*) FROM release_files f
		JOIN json_each(?) k ON f.release_id = k.value ->> 'id' AND f.revision = k.value ->> 'rev'
		GROUP BY f.release_id`, mustJSON(keys))
	if err != nil {
		return nil, fmt.Errorf("count release files: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int, len(rs))
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count release files: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Manifest returns the files of a revision's manifest, by path.
func (s *Store) Manifest(ctx context.Context, id string, rev int) ([]File, error) {
	stored, err := s.Files(ctx, id, rev)
	if err != nil {
		return nil, err
	}
	files := make([]File, len(stored))
	for i, f := range stored {
		files[i] = f.File
	}
	return files, nil
}

// Files returns the manifest of a revision, by path, and which arrived.
func (s *Store) Files(ctx context.Context, id string, rev int) ([]StoredFile, error) {
	return filesOf(ctx, s.db.R, id, rev)
}

func filesOf(ctx context.Context, q querier, id string, rev int) ([]StoredFile, error) {
	rows, err := q.QueryContext(ctx, `SELECT info, received_at IS NOT NULL FROM release_files WHERE release_id = ? AND revision = ?
		ORDER BY path`, id, rev)
	if err != nil {
		return nil, fmt.Errorf("read release files: %w", err)
	}
	defer rows.Close()
	var out []StoredFile
	for rows.Next() {
		var info string
		var f StoredFile
		if err := rows.Scan(&info, &f.Received); err != nil {
			return nil, fmt.Errorf("read release files: %w", err)
		}
		if err := json.Unmarshal([]byte(info), &f.File); err != nil {
			return nil, fmt.Errorf("release %s file: %w", id, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Unreported returns up to limit releases GitHub shows an older version of.
func (s *Store) Unreported(ctx context.Context, limit int) ([]Release, error) {
	return queryReleases(ctx, s.db.R, `WHERE version > reported_version ORDER BY created_at LIMIT ?`, limit)
}

// MarkReported records that GitHub shows version of a release.
func (s *Store) MarkReported(ctx context.Context, id string, version int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE releases SET reported_version = max(reported_version, ?) WHERE id = ?`, version, id)
	return err
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err))
	}
	return string(b)
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }
