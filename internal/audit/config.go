package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// KindConfigLoaded is the kind of the entry that records the configuration.
const KindConfigLoaded = "config.loaded"

// configSubject is the subject of config.loaded entries, so that the last
// one is found through the subject index rather than a scan of the log.
const configSubject = "config"

// RecordConfig appends a config.loaded entry holding sum, the SHA-256 of the
// configuration file's bytes, unless the last config.loaded entry holds the
// same sum. The configuration in force at any entry is then the last
// config.loaded before it, and restarts that change nothing add nothing.
// The entry holds the hash only: the log is public, and the file may hold
// secrets. w is the writer; the check and the append are one transaction.
// RecordConfig returns the log's head afterwards.
func RecordConfig(ctx context.Context, w *sql.DB, at time.Time, sum string) (Head, error) {
	if !isHash(sum) {
		return Head{}, fmt.Errorf("record configuration: want the SHA-256 of the file as 64 lower-case hex digits, got %d characters", len(sum))
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return Head{}, fmt.Errorf("record configuration: %w", err)
	}
	defer tx.Rollback()
	var data string
	err = tx.QueryRowContext(ctx, `SELECT data FROM audit_log WHERE subject = ? AND kind = ? ORDER BY seq DESC LIMIT 1`,
		configSubject, KindConfigLoaded).Scan(&data)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Head{}, fmt.Errorf("record configuration: read the last one: %w", err)
	}
	var last struct {
		SHA256 string `json:"sha256"`
	}
	_ = json.Unmarshal([]byte(data), &last) // a last entry that does not decode is simply not the same
	if last.SHA256 != sum {
		if _, err := Append(ctx, tx, at, KindConfigLoaded, "fivesafes", "", configSubject, map[string]string{"sha256": sum}); err != nil {
			return Head{}, err
		}
	}
	var head Head
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&head.Seq, &head.Hash); err != nil {
		return Head{}, fmt.Errorf("record configuration: read the head: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Head{}, fmt.Errorf("record configuration: %w", err)
	}
	return head, nil
}
