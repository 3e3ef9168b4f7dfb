package app

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/store"
)

// CheckRunLedger keeps checks.Progress in SQLite, so a check run that was
// half sent when the bot stopped resumes after the restart.
type CheckRunLedger struct {
	db  *store.DB
	now func() time.Time
}

// NewCheckRunLedger returns a ledger on db.
func NewCheckRunLedger(db *store.DB) *CheckRunLedger {
	return &CheckRunLedger{db: db, now: time.Now}
}

func (l *CheckRunLedger) Load(ctx context.Context, key string) (checks.Progress, bool, error) {
	var p checks.Progress
	err := l.db.R.QueryRowContext(ctx,
		`SELECT check_run_id, batches_sent, completed FROM check_run_progress WHERE key = ?`, key,
	).Scan(&p.CheckRunID, &p.BatchesSent, &p.Completed)
	if errors.Is(err, sql.ErrNoRows) {
		return checks.Progress{}, false, nil
	}
	return p, err == nil, err
}

func (l *CheckRunLedger) Save(ctx context.Context, key string, p checks.Progress) error {
	_, err := l.db.W.ExecContext(ctx, `
		INSERT INTO check_run_progress (key, check_run_id, batches_sent, completed, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET check_run_id = excluded.check_run_id,
			batches_sent = excluded.batches_sent, completed = excluded.completed,
			updated_at = excluded.updated_at`,
		key, p.CheckRunID, p.BatchesSent, p.Completed, l.now().UTC().Format(time.RFC3339Nano))
	return err
}
