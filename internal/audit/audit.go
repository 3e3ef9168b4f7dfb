// Package audit is the permanent log: every decision the bot makes is
// appended, in the same transaction as the change it records, and each entry
// carries the SHA-256 of the one before, so that Verify can prove nothing was
// changed or removed.
//
// An entry's hash is the lower-case hex SHA-256 of its canonical encoding:
// for each of prev_hash, seq (in decimal), at, kind, actor, repo, subject and
// data, in that order, the field's length in bytes (in decimal), a colon, the
// field's bytes exactly as stored, and a newline. Export writes every field
// as stored, so the chain can be checked again from an export alone.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// genesis is the previous hash of the first entry.
var genesis = strings.Repeat("0", 64)

// Entry is one decision.
type Entry struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor"`
	Repo     string          `json:"repo"`
	Subject  string          `json:"subject"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Execer is a transaction (or the writer connection) to append through.
type Execer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Append adds e to the log inside tx, filling Seq, PrevHash and Hash. data
// is marshalled to compact JSON; callers pass a struct or a map.
func Append(ctx context.Context, tx Execer, at time.Time, kind, actor, repo, subject string, data any) (Entry, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s: encode data: %w", kind, err)
	}
	e := Entry{At: at.UTC().Truncate(time.Microsecond), Kind: kind, Actor: actor, Repo: repo, Subject: subject, Data: raw}
	var last sql.NullInt64
	var prev sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e.Seq, e.PrevHash = 1, genesis
	case err != nil:
		return Entry{}, fmt.Errorf("audit %s: read chain head: %w", kind, err)
	default:
		e.Seq, e.PrevHash = last.Int64+1, prev.String
	}
	stamp := e.At.Format(time.RFC3339Nano)
	e.Hash = entryHash(e.PrevHash, e.Seq, stamp, e.Kind, e.Actor, e.Repo, e.Subject, string(e.Data))
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, kind, actor, repo, subject, data, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, stamp, e.Kind, e.Actor, e.Repo, e.Subject, string(e.Data), e.PrevHash, e.Hash)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s: append: %w", kind, err)
	}
	return e, nil
}

// entryHash is the hash of an entry whose fields are stored as given.
func entryHash(prevHash string, seq int64, at, kind, actor, repo, subject, data string) string {
	var h hasher
	return string(h.hash(prevHash, seq, at, kind, actor, repo, subject, data))
}

// hasher computes entry hashes, reusing its buffers: Verify runs one over
// the whole log.
type hasher struct {
	buf []byte
	num [20]byte
	hex [2 * sha256.Size]byte
}

// hash returns the hex hash of the canonical encoding (see the package
// comment); the slice is valid until the next call.
func (h *hasher) hash(prevHash string, seq int64, at, kind, actor, repo, subject, data string) []byte {
	b := field(h.buf[:0], prevHash)
	b = field(b, strconv.AppendInt(h.num[:0], seq, 10))
	for _, f := range [...]string{at, kind, actor, repo, subject, data} {
		b = field(b, f)
	}
	h.buf = b
	sum := sha256.Sum256(b)
	hex.Encode(h.hex[:], sum[:])
	return h.hex[:]
}

func field[T string | []byte](b []byte, f T) []byte {
	b = strconv.AppendInt(b, int64(len(f)), 10)
	b = append(b, ':')
	b = append(b, f...)
	return append(b, '\n')
}

// List returns entries after seq (0 for the first), oldest first, up to limit.
func List(ctx context.Context, db *sql.DB, after int64, limit int) ([]Entry, error) {
	return query(ctx, db, `WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// query returns the entries a WHERE ... ORDER BY ... LIMIT clause selects.
func query(ctx context.Context, db *sql.DB, where string, args ...any) ([]Entry, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, at, kind, actor, repo, subject, data, prev_hash, hash FROM audit_log `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scan(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at, data string
	if err := rows.Scan(&e.Seq, &at, &e.Kind, &e.Actor, &e.Repo, &e.Subject, &data, &e.PrevHash, &e.Hash); err != nil {
		return e, fmt.Errorf("read audit entry: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return e, fmt.Errorf("audit entry %d: bad time %q: %w", e.Seq, at, err)
	}
	e.At, e.Data = t, json.RawMessage(data)
	return e, nil
}

// row is one stored entry, each column exactly as stored.
type row struct {
	seq                                                  int64
	at, kind, actor, repo, subject, data, prevHash, hash string
}

// walk calls fn with each entry after seq after, oldest first. It reads
// through one query, so it sees one snapshot of the log however much the bot
// appends meanwhile, and it holds one row at a time. The row is reused: fn
// copies what it keeps.
func walk(ctx context.Context, db *sql.DB, after int64, fn func(*row) error) error {
	rows, err := db.QueryContext(ctx, `SELECT seq, at, kind, actor, repo, subject, data, prev_hash, hash
		FROM audit_log WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var r row
	for rows.Next() {
		if err := rows.Scan(&r.seq, &r.at, &r.kind, &r.actor, &r.repo, &r.subject, &r.data, &r.prevHash, &r.hash); err != nil {
			return fmt.Errorf("read audit entry after %d: %w", r.seq, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	return nil
}
