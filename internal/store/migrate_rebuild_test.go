package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// upTo is the embedded migrations before version (a name prefix such as "0005").
func upTo(t *testing.T, version string) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	names, err := fs.Glob(embedded(), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n < version {
			data, err := fs.ReadFile(embedded(), n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = &fstest.MapFile{Data: data}
		}
	}
	return out
}

// 0005 rebuilds job_requests, which jobs reference: the rows survive, and the
// foreign key of jobs still names (and guards) the new table.
func TestRebuildingJobRequestsKeepsRowsAndForeignKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "f.db")
	old, err := Open(ctx, path, WithMigrations(upTo(t, "0005")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.W.ExecContext(ctx, `INSERT INTO job_requests (id, number, repo, pr, workspace, head_sha, backend,
		requester, actions, created_at, status) VALUES ('r1', 1, 'o/r', 3, 'o/r/b', 'abc', 'tpp', 'ana', '["a"]', 1, 'succeeded')`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.W.ExecContext(ctx, `INSERT INTO jobs (id, job_request_id, action, workspace, backend, state, status_code,
		created_at, timeout_ms) VALUES ('j1', 'r1', 'a', 'o/r/b', 'tpp', 'succeeded', 'succeeded', 1, 1000)`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status, plan string
	var version, reported int
	if err := db.R.QueryRowContext(ctx, `SELECT status, plan, version, reported_version FROM job_requests WHERE id = 'r1'`).
		Scan(&status, &plan, &version, &reported); err != nil {
		t.Fatal(err)
	}
	if status != "succeeded" || plan != "[]" || version != 1 || reported != 0 {
		t.Errorf("row after the rebuild: status %q plan %q version %d reported %d", status, plan, version, reported)
	}
	var ddl string
	if err := db.R.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE name = 'jobs'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ddl, "REFERENCES job_requests (id)") {
		t.Errorf("jobs no longer references job_requests:\n%s", ddl)
	}
	_, err = db.W.ExecContext(ctx, `INSERT INTO jobs (id, job_request_id, action, workspace, backend, state, status_code,
		created_at, timeout_ms) VALUES ('j2', 'nope', 'a', 'o/r/b', 'tpp', 'pending', 'waiting_on_workers', 1, 1000)`)
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("a job of a missing request was stored (err %v): foreign keys are off", err)
	}
	if _, err := db.W.ExecContext(ctx, `UPDATE job_requests SET status = 'held' WHERE id = 'r1'`); err != nil {
		t.Errorf("the new status is refused: %v", err)
	}
}
