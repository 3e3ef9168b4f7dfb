package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func openTest(t *testing.T, opts ...Option) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "fivesafes.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenConfiguresConnections(t *testing.T) {
	db := openTest(t)
	want := map[string]string{
		"journal_mode":       "wal",
		"synchronous":        "1", // NORMAL
		"foreign_keys":       "1",
		"busy_timeout":       "5000",
		"wal_autocheckpoint": "0",
	}
	for name, v := range want {
		var got string
		if err := db.W.QueryRow("PRAGMA " + name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != v {
			t.Errorf("writer PRAGMA %s = %s, want %s", name, got, v)
		}
	}
	if n := db.W.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer has %d connections, want 1", n)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestReadPoolCannotWrite(t *testing.T) {
	db := openTest(t)
	if _, err := db.R.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ('x', 0)"); err == nil {
		t.Fatal("insert through the read pool succeeded")
	}
}

func TestWritesAreVisibleToReaders(t *testing.T) {
	db := openTest(t)
	if _, err := db.W.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ('9999_probe', 1)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.R.QueryRow("SELECT count(*) FROM schema_migrations WHERE version = '9999_probe'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("reader sees %d rows (err %v), want 1", n, err)
	}
}

func TestOpenRefusesInMemoryDatabases(t *testing.T) {
	for _, path := range []string{":memory:", "file::memory:?cache=shared", ""} {
		if db, err := Open(context.Background(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestEmbeddedMigrationsApply(t *testing.T) {
	db := openTest(t)
	var n int
	if err := db.R.QueryRow("SELECT count(*) FROM schema_migrations WHERE version = '0001_inbox'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("0001_inbox recorded %d times (err %v)", n, err)
	}
	if _, err := db.R.Exec("SELECT seq, guid, order_key FROM deliveries LIMIT 1"); err != nil {
		t.Fatalf("deliveries table: %v", err)
	}
}

func versions(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.R.Query("SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestMigrationsApplyInOrderOnceEach(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	fsys := fstest.MapFS{
		// 0002 depends on 0001: lexical order matters, not map order.
		"0002_add_color.sql": {Data: []byte("ALTER TABLE widgets ADD COLUMN color TEXT;\nCREATE INDEX widgets_color ON widgets (color);")},
		"0001_widgets.sql":   {Data: []byte("CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL);")},
	}
	db, err := Open(context.Background(), path, WithMigrations(fsys))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(versions(t, db), ","); got != "0001_widgets,0002_add_color" {
		t.Errorf("applied %s", got)
	}
	if _, err := db.W.Exec("INSERT INTO widgets (name, color) VALUES ('a', 'red')"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A later release adds a migration: only it runs, and the data stays.
	fsys["0003_add_size.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE widgets ADD COLUMN size INTEGER NOT NULL DEFAULT 1;")}
	db, err = Open(context.Background(), path, WithMigrations(fsys))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := strings.Join(versions(t, db), ","); got != "0001_widgets,0002_add_color,0003_add_size" {
		t.Errorf("applied %s", got)
	}
	var color string
	var size int
	if err := db.R.QueryRow("SELECT color, size FROM widgets WHERE name = 'a'").Scan(&color, &size); err != nil || color != "red" || size != 1 {
		t.Errorf("widget a: color %q size %d err %v", color, size, err)
	}
}

func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	fsys := fstest.MapFS{
		"0001_ok.sql":     {Data: []byte("CREATE TABLE ok (id INTEGER PRIMARY KEY);")},
		"0002_broken.sql": {Data: []byte("CREATE TABLE half (id INTEGER PRIMARY KEY);\nCREATE TABLE ok (id INTEGER);")},
	}
	_, err := Open(context.Background(), path, WithMigrations(fsys))
	if err == nil || !strings.Contains(err.Error(), "0002_broken") {
		t.Fatalf("Open: %v, want an error naming 0002_broken", err)
	}

	delete(fsys, "0002_broken.sql")
	db, err := Open(context.Background(), path, WithMigrations(fsys))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := strings.Join(versions(t, db), ","); got != "0001_ok" {
		t.Errorf("applied %s", got)
	}
	var n int
	if err := db.R.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'half'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table from the failed migration exists (%d, %v)", n, err)
	}
}

func TestMigrationNamesAreChecked(t *testing.T) {
	fsys := fstest.MapFS{"add_things.sql": {Data: []byte("SELECT 1;")}}
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), WithMigrations(fsys))
	if err == nil || !strings.Contains(err.Error(), "add_things.sql") {
		t.Fatalf("Open: %v, want an error naming add_things.sql", err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// writeMegabytes commits n transactions of 1 MiB each through the writer.
func writeMegabytes(t *testing.T, db *DB, n int) {
	t.Helper()
	if _, err := db.W.Exec("CREATE TABLE IF NOT EXISTS blobs (b BLOB)"); err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := db.W.Exec("INSERT INTO blobs (b) VALUES (zeroblob(1048576))"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWritersNeverCheckpoint(t *testing.T) {
	db := openTest(t, WithCheckpointInterval(time.Hour))
	writeMegabytes(t, db, 8) // 2,000+ pages, past SQLite's default auto-checkpoint of 1,000
	wal := db.Path() + "-wal"
	if size := fileSize(t, wal); size < 8<<20 {
		t.Fatalf("WAL is %d bytes after 8 MiB of commits: a writer checkpointed", size)
	}
	if main := fileSize(t, db.Path()); main > 1<<20 {
		t.Fatalf("database file is %d bytes before any checkpoint", main)
	}
	if err := db.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if size := fileSize(t, wal); size != 0 {
		t.Errorf("WAL is %d bytes after Checkpoint, want 0", size)
	}
	if main := fileSize(t, db.Path()); main < 8<<20 {
		t.Errorf("database file is %d bytes after Checkpoint", main)
	}
}

func TestBackgroundCheckpoint(t *testing.T) {
	db := openTest(t, WithCheckpointInterval(5*time.Millisecond))
	writeMegabytes(t, db, 4)
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, db.Path()) < 4<<20 {
		if time.Now().After(deadline) {
			t.Fatal("the checkpointer never copied the WAL into the database file")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// Under a steady stream of commits a passive checkpoint never catches up on
// its own; the checkpointer makes the log start over anyway. The test
// drives the checkpointer's rounds itself, back to back, while a writer
// commits without pause: how often the background loop gets the CPU on a
// busy machine is not what is tested.
func TestWALStartsOverWhileWritesContinue(t *testing.T) {
	db := openTest(t, WithCheckpointInterval(time.Hour), WithWALRewind(1<<20))
	if _, err := db.W.Exec("CREATE TABLE blobs (b BLOB)"); err != nil {
		t.Fatal(err)
	}
	wal := db.Path() + "-wal"
	var pageSize int64
	if err := db.R.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	// Write 16 MiB in 64 KiB commits, with no pause for the checkpointer;
	// alone, the log would grow past 20 MiB.
	done := make(chan error, 1)
	go func() {
		for range 256 {
			if _, err := db.W.Exec("INSERT INTO blobs (b) VALUES (zeroblob(65536))"); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	ctx := context.Background()
	rounds := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if size := fileSize(t, wal); size > 12<<20 {
				t.Fatalf("WAL is %d MiB after 16 MiB of commits and %d checkpoint rounds: it never starts over", size>>20, rounds)
			}
			return
		default:
		}
		if err := db.ckpt.tick(ctx, int((1<<20)/pageSize)); err != nil {
			t.Fatal(err)
		}
		rounds++
	}
}
