package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

func embedded() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory exists
	}
	return sub
}

// migrationName is NNNN_name.sql; the version recorded is the name without .sql.
var migrationName = regexp.MustCompile(`^[0-9]{4}_[a-z0-9_]+\.sql$`)

// migrate applies, in lexical order, every migration in fsys that
// schema_migrations does not list yet, each in its own transaction together
// with its schema_migrations row. A migration that fails leaves no trace.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL -- unix milliseconds
	) STRICT`
	if _, err := db.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}

	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if !migrationName.MatchString(name) {
			return fmt.Errorf("migration %s: name must look like 0002_check_runs.sql", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if err := applyMigration(ctx, db, name[:len(name)-len(path.Ext(name))], string(body)); err != nil {
			return err
		}
	}
	return nil
}

// foreignKeysOff is the line a migration starts with when it rebuilds a
// table that others reference. SQLite's procedure for that (ALTER TABLE,
// "making other kinds of table schema changes") needs foreign keys off,
// which cannot change inside a transaction; the migration then runs with
// them off and must leave no violation behind (PRAGMA foreign_key_check).
const foreignKeysOff = "-- migrate: foreign_keys=off\n"

func applyMigration(ctx context.Context, db *sql.DB, version, body string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	defer conn.Close()
	if strings.HasPrefix(body, foreignKeysOff) {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	defer tx.Rollback()

	// Checked inside the (immediate) transaction so that two processes
	// starting on the same file cannot both apply it.
	var applied int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&applied); err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	if applied > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	if err := foreignKeyViolation(ctx, tx); err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", version, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("migration %s: record: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", version, err)
	}
	return nil
}

// foreignKeyViolation reports the first row whose foreign key points
// nowhere, which only a migration run with foreign keys off can leave.
func foreignKeyViolation(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return fmt.Errorf("foreign key check: %w", err)
		}
		return fmt.Errorf("row %d of %s refers to a missing row of %s", rowid.Int64, table, parent)
	}
	return rows.Err()
}
