// Package inbox is the durable webhook inbox: deliveries are stored before
// they are acknowledged, then handed to the dispatcher one order key at a
// time, in receipt order, until each is done or has failed for good.
package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fivesafes/fivesafes/internal/store"
)

// Delivery is one webhook delivery as stored.
type Delivery struct {
	GUID           string // X-GitHub-Delivery, primary key
	Event          string
	Action         string
	InstallationID int64
	Repo           string // "owner/name", "" if none
	OrderKey       string // deliveries sharing a key are handled one at a time, in receipt order
	Payload        []byte
	ReceivedAt     time.Time
	Attempts       int    // filled when read back
	LastError      string // filled when read back
}

// Delivery statuses, as Get reports them.
const (
	StatusPending = "pending" // stored, not yet handled (or waiting for a retry)
	StatusDone    = "done"
	StatusFailed  = "failed" // permanently; LastError says why
)

var (
	// ErrClosed is returned by Put after Close.
	ErrClosed = errors.New("inbox is closed")
	// ErrNotFound is returned for a GUID the inbox does not hold.
	ErrNotFound = errors.New("delivery not found")
	// ErrFinished is returned by Retry and Fail for a delivery that is
	// already done or failed.
	ErrFinished = errors.New("delivery already finished")
)

// Inbox stores deliveries with group commit: Puts arriving together share
// one transaction, written by a single goroutine.
type Inbox struct {
	db       *store.DB
	now      func() time.Time
	maxBatch int

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *putRequest
	done   chan struct{} // closed when the writer has exited

	arrived chan struct{}
}

// Option configures New.
type Option func(*Inbox)

// WithClock sets the clock used for receipt times and due times.
func WithClock(now func() time.Time) Option {
	return func(i *Inbox) { i.now = now }
}

// WithMaxBatch caps how many deliveries one transaction stores (default 256).
func WithMaxBatch(n int) Option {
	return func(i *Inbox) {
		if n > 0 {
			i.maxBatch = n
		}
	}
}

// New returns an inbox over db and starts its writer; Close stops it.
func New(db *store.DB, opts ...Option) *Inbox {
	i := &Inbox{
		db:       db,
		now:      time.Now,
		maxBatch: 256,
		done:     make(chan struct{}),
		arrived:  make(chan struct{}, 1),
	}
	for _, opt := range opts {
		opt(i)
	}
	i.queue = make(chan *putRequest, i.maxBatch)
	go i.write()
	return i
}

// Arrived receives after each commit that stored at least one new delivery,
// so that a dispatcher can wake at once instead of polling. It holds at most
// one pending signal.
func (i *Inbox) Arrived() <-chan struct{} { return i.arrived }

// Close stops accepting Puts, stores the ones already queued and stops the
// writer. It does not close the database.
func (i *Inbox) Close() error {
	i.mu.Lock()
	if !i.closed {
		i.closed = true
		close(i.queue)
	}
	i.mu.Unlock()
	<-i.done
	return nil
}

const deliveryColumns = `guid, event, action, installation_id, repo, order_key, received_at, attempts, last_error, payload`

// heads selects, for each order key, its earliest unfinished delivery (seq)
// and when that one is due; SQLite takes due from the row min() picked. The
// partial index covers it.
const heads = `SELECT min(seq) AS seq, next_attempt_at AS due
	FROM deliveries WHERE status = 'pending' GROUP BY order_key`

// Ready returns up to limit deliveries that may be handled now: for each
// order key its earliest unfinished delivery, if that one is due; in receipt
// order. A delivery waiting for a retry holds back the later ones of its key.
// Ready does not lease: the caller must not hand out a delivery it is still
// handling.
func (i *Inbox) Ready(ctx context.Context, limit int) ([]Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	// Pick the rows first, then read their payloads: sorting the heads
	// must not carry every payload along.
	rows, err := i.db.R.QueryContext(ctx, `SELECT `+deliveryColumns+`
		FROM (SELECT seq FROM (`+heads+`) WHERE due <= ? ORDER BY seq LIMIT ?) AS h
		JOIN deliveries USING (seq)
		ORDER BY seq`, i.now().UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("read ready deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("read ready deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ready deliveries: %w", err)
	}
	return out, nil
}

// NextDue reports when Ready will next have something to return: the
// earliest due time among the unfinished deliveries at the head of their
// order key. ok is false when nothing is unfinished.
func (i *Inbox) NextDue(ctx context.Context) (due time.Time, ok bool, err error) {
	var ms sql.NullInt64
	err = i.db.R.QueryRowContext(ctx, `SELECT min(due) FROM (`+heads+`)`).Scan(&ms)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read next due delivery: %w", err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return fromMillis(ms.Int64), true, nil
}

// Stats reports how many deliveries are unfinished and when the oldest of
// them was received (zero when there are none).
func (i *Inbox) Stats(ctx context.Context) (depth int, oldest time.Time, err error) {
	var ms sql.NullInt64
	err = i.db.R.QueryRowContext(ctx,
		`SELECT count(*), min(received_at) FROM deliveries WHERE status = 'pending'`).Scan(&depth, &ms)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read inbox stats: %w", err)
	}
	if ms.Valid {
		oldest = fromMillis(ms.Int64)
	}
	return depth, oldest, nil
}

// Get returns one delivery and its status; for tests and operators.
func (i *Inbox) Get(ctx context.Context, guid string) (Delivery, string, error) {
	row := i.db.R.QueryRowContext(ctx, `SELECT `+deliveryColumns+`, status FROM deliveries WHERE guid = ?`, guid)
	var status string
	d, err := scanDelivery(row, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, "", fmt.Errorf("delivery %s: %w", guid, ErrNotFound)
	}
	if err != nil {
		return Delivery{}, "", fmt.Errorf("read delivery %s: %w", guid, err)
	}
	return d, status, nil
}

// Done records that a delivery was handled. Done on a delivery already done
// is a no-op, so that a handler finishing twice is harmless.
func (i *Inbox) Done(ctx context.Context, guid string) error {
	return i.finish(ctx, guid, StatusDone, `UPDATE deliveries
		SET status = 'done', attempts = attempts + 1, finished_at = ?
		WHERE guid = ? AND status = 'pending'`, i.now().UnixMilli(), guid)
}

// Retry records a failed attempt that may succeed later: the delivery stays
// unfinished, is not due before at, and holds back the rest of its order key
// until then.
func (i *Inbox) Retry(ctx context.Context, guid string, at time.Time, reason string) error {
	return i.finish(ctx, guid, "", `UPDATE deliveries
		SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
		WHERE guid = ? AND status = 'pending'`, at.UnixMilli(), reason, guid)
}

// Fail records that a delivery cannot be handled, and why. The rest of its
// order key flows again.
func (i *Inbox) Fail(ctx context.Context, guid string, reason string) error {
	return i.finish(ctx, guid, "", `UPDATE deliveries
		SET status = 'failed', attempts = attempts + 1, last_error = ?, finished_at = ?
		WHERE guid = ? AND status = 'pending'`, reason, i.now().UnixMilli(), guid)
}

// finish runs an update of one pending delivery. When it changes nothing it
// tells why: no such delivery, or already finished (which is fine if the
// delivery already has status idempotent).
func (i *Inbox) finish(ctx context.Context, guid, idempotent, query string, args ...any) error {
	res, err := i.db.W.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("update delivery %s: %w", guid, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var status string
	err = i.db.W.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE guid = ?`, guid).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("delivery %s: %w", guid, ErrNotFound)
	case err != nil:
		return fmt.Errorf("read delivery %s: %w", guid, err)
	case status == idempotent:
		return nil
	default:
		return fmt.Errorf("delivery %s is %s: %w", guid, status, ErrFinished)
	}
}

type scanner interface{ Scan(dest ...any) error }

func scanDelivery(s scanner, extra ...any) (Delivery, error) {
	var d Delivery
	var received int64
	dest := append([]any{&d.GUID, &d.Event, &d.Action, &d.InstallationID, &d.Repo, &d.OrderKey,
		&received, &d.Attempts, &d.LastError, &d.Payload}, extra...)
	if err := s.Scan(dest...); err != nil {
		return Delivery{}, err
	}
	d.ReceivedAt = fromMillis(received)
	return d, nil
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
