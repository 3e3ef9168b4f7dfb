// Package audit is the permanent log: every decision the bot makes is
// appended, in the same transaction as the change it records, and each entry
// carries the SHA-256 of the one before, so that Verify can prove nothing was
// changed or removed.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	e.Hash = e.computeHash()
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, kind, actor, repo, subject, data, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At.Format(time.RFC3339Nano), e.Kind, e.Actor, e.Repo, e.Subject, string(e.Data), e.PrevHash, e.Hash)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s: append: %w", kind, err)
	}
	return e, nil
}

// computeHash is SHA-256 over the previous hash and the entry's fields, each
// length-prefixed so that no two entries encode alike.
func (e Entry) computeHash() string {
	var b bytes.Buffer
	for _, f := range []string{e.PrevHash, fmt.Sprint(e.Seq), e.At.UTC().Format(time.RFC3339Nano),
		e.Kind, e.Actor, e.Repo, e.Subject, string(e.Data)} {
		fmt.Fprintf(&b, "%d:%s\n", len(f), f)
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:])
}

// ErrBroken is returned (wrapped, with the entry) when the chain does not hold.
var ErrBroken = errors.New("audit log chain broken")

// Verify walks the whole log and checks every link. It returns how many
// entries it checked.
func Verify(ctx context.Context, db *sql.DB) (int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, at, kind, actor, repo, subject, data, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	want := Entry{Seq: 0, Hash: genesis}
	var n int64
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return n, err
		}
		switch {
		case e.Seq != want.Seq+1:
			return n, fmt.Errorf("%w: entry %d follows entry %d (an entry is missing)", ErrBroken, e.Seq, want.Seq)
		case e.PrevHash != want.Hash:
			return n, fmt.Errorf("%w: entry %d does not link to entry %d", ErrBroken, e.Seq, want.Seq)
		case e.computeHash() != e.Hash:
			return n, fmt.Errorf("%w: entry %d was changed after it was written", ErrBroken, e.Seq)
		}
		want = e
		n++
	}
	return n, rows.Err()
}

// List returns entries after seq (0 for the first), oldest first, up to limit.
func List(ctx context.Context, db *sql.DB, after int64, limit int) ([]Entry, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, at, kind, actor, repo, subject, data, prev_hash, hash
		FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
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
