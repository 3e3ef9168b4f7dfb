// Package store opens the bot's SQLite database: one writer connection, a
// read pool, embedded migrations and WAL checkpoints kept off the request path.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is the bot's database. Write through W (a single connection, so writers
// queue in Go rather than spinning on SQLITE_BUSY; its transactions begin
// IMMEDIATE) and read through R (a pool of read-only connections that see
// every committed write, thanks to WAL).
type DB struct {
	W *sql.DB
	R *sql.DB

	path string
	ckpt *checkpointer
	once sync.Once
}

type options struct {
	readConns          int
	busyTimeout        time.Duration
	checkpointInterval time.Duration
	pageSize           int
	walRewindBytes     int64
	migrations         fs.FS
	log                *slog.Logger
}

// Option configures Open.
type Option func(*options)

// WithReadConns sets the size of the read pool (default: max(4, GOMAXPROCS)).
func WithReadConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.readConns = n
		}
	}
}

// WithBusyTimeout sets how long a connection waits for a lock held by another
// process before failing with SQLITE_BUSY (default 5s).
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.busyTimeout = d
		}
	}
}

// WithCheckpointInterval sets how often the background goroutine copies the
// write-ahead log into the database file (default 100ms; a round with
// nothing to copy costs next to nothing). Writers never checkpoint
// themselves.
func WithCheckpointInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.checkpointInterval = d
		}
	}
}

// WithWALRewind sets the size past which the checkpointer makes the
// write-ahead log start over from its beginning even while commits keep
// coming (default 64 MiB). Each time costs the writer a pause of a few
// milliseconds (the last frames are copied, with two fsyncs, while it
// waits), so it should not be much smaller; it stays well below the size
// the file is cut back to when it starts over, since cutting a large file
// back stalls the next commit.
func WithWALRewind(bytes int64) Option {
	return func(o *options) {
		if bytes > 0 {
			o.walRewindBytes = bytes
		}
	}
}

// WithPageSize sets the page size of a database file Open creates (default
// 8 KiB); an existing file keeps its own.
func WithPageSize(n int) Option {
	return func(o *options) {
		if n >= 512 && n <= 65536 && n&(n-1) == 0 {
			o.pageSize = n
		}
	}
}

// WithMigrations replaces the embedded migrations; for tests of the
// mechanism itself. fsys holds NNNN_name.sql files at its root.
func WithMigrations(fsys fs.FS) Option {
	return func(o *options) { o.migrations = fsys }
}

// WithLogger sets the logger for background work (checkpoints).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// defaultPageSize suits a database mostly made of webhook payloads (10-30 KB
// of JSON each): each commit writes fewer, larger WAL frames (each frame
// costs two write system calls) than with SQLite's 4 KiB. Larger pages did
// worse in BenchmarkPut: every random insert into the GUID index rewrites a
// whole leaf page.
const defaultPageSize = 8192

// journalSizeLimit bounds the WAL file left on disk after the log starts
// over. It is well above the size at which the checkpointer makes it start
// over (WithWALRewind) so that, normally, nothing is cut: truncating a large
// file costs the next commit tens of milliseconds.
const journalSizeLimit = 256 << 20

// Open opens (creating if needed) the database at path, applies pending
// migrations and starts the background checkpointer. path must name a file:
// an in-memory database could not be shared between the writer and the
// read pool.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	o := options{
		readConns:          max(4, runtime.GOMAXPROCS(0)),
		busyTimeout:        5 * time.Second,
		checkpointInterval: 100 * time.Millisecond,
		pageSize:           defaultPageSize,
		walRewindBytes:     64 << 20,
		migrations:         embedded(),
		log:                slog.Default(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" || strings.Contains(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open database %q: need a plain file path (an in-memory database cannot be shared by the writer and the read pool)", path)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open database %q: the path may not contain '?' or '#'", path)
	}

	common := url.Values{}
	common.Set("_busy_timeout", fmt.Sprint(o.busyTimeout.Milliseconds()))
	common.Set("_foreign_keys", "on")
	common.Set("_journal_mode", "WAL")
	common.Set("_synchronous", "NORMAL")
	common.Set("_txlock", "immediate")
	// Nobody checkpoints on commit; the checkpointer does it in the background.
	common.Add("_pragma", "wal_autocheckpoint(0)")
	common.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
	// Takes effect only when the file is created (before it switches to WAL).
	common.Add("_pragma", fmt.Sprintf("page_size(%d)", o.pageSize))

	w, err := openPool(path, common, 1)
	if err != nil {
		return nil, err
	}
	db := &DB{W: w, path: path}
	if err := migrate(ctx, w, o.migrations); err != nil {
		w.Close()
		return nil, err
	}

	readOnly := cloneValues(common)
	readOnly.Set("_query_only", "on")
	if db.R, err = openPool(path, readOnly, o.readConns); err != nil {
		w.Close()
		return nil, err
	}

	ck, err := openPool(path, common, 1)
	if err != nil {
		db.R.Close()
		w.Close()
		return nil, err
	}
	db.ckpt = startCheckpointer(ck, w, o.checkpointInterval, o.walRewindBytes, o.log.With("db", path))
	return db, nil
}

func openPool(path string, q url.Values, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	// Open lazily connects; connect now so that a bad path or DSN fails here.
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Ping reports whether both the writer and the read pool answer; for
// readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.W.PingContext(ctx); err != nil {
		return fmt.Errorf("database writer: %w", err)
	}
	var one int
	if err := db.R.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("database reader: %w", err)
	}
	return nil
}

// Checkpoint copies the write-ahead log into the database file now and
// truncates it; the background checkpointer does the same passively.
func (db *DB) Checkpoint(ctx context.Context) error {
	_, err := run(ctx, db.ckpt.db, "TRUNCATE")
	return err
}

// Close stops the checkpointer, checkpoints once more and closes every
// connection. Callers stop their own writers first.
func (db *DB) Close() error {
	var err error
	db.once.Do(func() {
		db.ckpt.stop()
		_, cerr := run(context.Background(), db.ckpt.db, "TRUNCATE")
		err = errors.Join(cerr, db.ckpt.db.Close(), db.R.Close(), db.W.Close())
	})
	return err
}
