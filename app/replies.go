package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/store"
)

// Replies posts the bot's answers to comments, clicks and labels once each,
// however often the event that asked is retried or redelivered. A reply is
// recorded before it is sent; if the bot stops before it learns the new
// comment's ID, the next attempt looks for the reply's marker on the pull
// request instead of sending it again.
type Replies struct {
	db  *store.DB
	gh  RunGitHub
	now func() time.Time
}

// NewReplies returns the reply ledger on db.
func NewReplies(db *store.DB, gh RunGitHub) *Replies {
	return &Replies{db: db, gh: gh, now: time.Now}
}

// Post comments body on issue number, once for key (which names what is
// answered: "owner/repo#12/comment/345", never user text).
func (r *Replies) Post(ctx context.Context, repo checks.Repo, number int, key, body string) error {
	marker := "<!-- fivesafes:reply " + key + " -->"
	var id int64
	err := r.db.R.QueryRowContext(ctx, `SELECT comment_id FROM replies WHERE key = ?`, key).Scan(&id)
	switch {
	case err == nil && id != 0:
		return nil // answered
	case err == nil:
		// Sent before, answer unknown: it may be on GitHub already.
		found, ok, err := r.gh.FindComment(ctx, repo, number, marker)
		if err != nil {
			return err
		}
		if ok {
			return r.record(ctx, key, found)
		}
	case errors.Is(err, sql.ErrNoRows):
		if _, err := r.db.W.ExecContext(ctx, `INSERT INTO replies (key, created_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			key, r.now().UnixMilli()); err != nil {
			return fmt.Errorf("record reply %s: %w", key, err)
		}
	default:
		return fmt.Errorf("read reply %s: %w", key, err)
	}
	id, err = r.gh.CreateComment(ctx, repo, number, body+"\n"+marker+"\n")
	if err != nil {
		return err
	}
	return r.record(ctx, key, id)
}

func (r *Replies) record(ctx context.Context, key string, commentID int64) error {
	if _, err := r.db.W.ExecContext(ctx, `UPDATE replies SET comment_id = ? WHERE key = ?`, commentID, key); err != nil {
		return fmt.Errorf("record reply %s: %w", key, err)
	}
	return nil
}
