package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// putRequest carries one Put to the writer and its answer back.
type putRequest struct {
	ctx   context.Context
	d     Delivery
	reply chan struct{} // buffered: the writer never waits for the caller

	// Set by the writer before it signals reply.
	dup bool
	err error
}

var requests = sync.Pool{New: func() any { return &putRequest{reply: make(chan struct{}, 1)} }}

// Put stores d unless a delivery with its GUID is already stored, and
// returns only once the row is committed (duplicate false) or found present
// (duplicate true). An error means d may not be stored: the caller must not
// acknowledge it.
//
// Puts that arrive while a transaction is being written are stored together
// in the next one (group commit): no Put waits for a timer, and a burst costs
// one commit instead of one each.
func (i *Inbox) Put(ctx context.Context, d Delivery) (duplicate bool, err error) {
	if err := validate(d); err != nil {
		return false, err
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = i.now()
	}
	if d.Payload == nil {
		d.Payload = []byte{} // nil would bind as NULL
	}

	req := requests.Get().(*putRequest)
	req.ctx, req.d, req.dup, req.err = ctx, d, false, nil

	i.mu.RLock()
	if i.closed {
		i.mu.RUnlock()
		release(req)
		return false, ErrClosed
	}
	select {
	case i.queue <- req:
		i.mu.RUnlock()
	case <-ctx.Done():
		i.mu.RUnlock()
		release(req)
		return false, ctx.Err()
	}

	select {
	case <-req.reply:
		dup, err := req.dup, req.err
		release(req)
		return dup, err
	case <-ctx.Done():
		// The writer still holds req and will answer into its buffer;
		// leave it to the garbage collector.
		return false, ctx.Err()
	}
}

func release(req *putRequest) {
	req.ctx, req.d, req.err = nil, Delivery{}, nil
	requests.Put(req)
}

func validate(d Delivery) error {
	switch {
	case d.GUID == "":
		return errors.New("store delivery: no GUID")
	case d.Event == "":
		return fmt.Errorf("store delivery %s: no event", d.GUID)
	case d.OrderKey == "":
		return fmt.Errorf("store delivery %s: no order key", d.GUID)
	}
	return nil
}

// write is the single writer: it takes one queued Put, adds whatever else is
// already queued (up to maxBatch, without waiting for more), stores them all
// in one transaction and answers each.
func (i *Inbox) write() {
	defer close(i.done)
	var insert *sql.Stmt
	defer func() {
		if insert != nil {
			insert.Close()
		}
	}()

	batch := make([]*putRequest, 0, i.maxBatch)
	for {
		req, ok := <-i.queue
		if !ok {
			return
		}
		batch = append(batch[:0], req)
	drain:
		for len(batch) < i.maxBatch {
			select {
			case req, ok := <-i.queue:
				if !ok {
					break drain // closed: store this batch, then stop
				}
				batch = append(batch, req)
			default:
				break drain
			}
		}

		var err error
		if insert == nil {
			insert, err = i.db.W.Prepare(insertDelivery)
			if err != nil {
				insert = nil
				err = fmt.Errorf("prepare insert: %w", err)
			}
		}
		stored := 0
		if err == nil {
			stored, err = i.store(insert, batch)
		}
		// Signal before answering, so that a Put that has returned is
		// always visible to a dispatcher woken by Arrived.
		if stored > 0 {
			select {
			case i.arrived <- struct{}{}:
			default:
			}
		}
		for _, req := range batch {
			if err != nil {
				req.err = err
			}
			req.reply <- struct{}{}
		}
		clear(batch) // drop references to payloads
	}
}

const insertDelivery = `INSERT INTO deliveries
	(guid, event, action, installation_id, repo, order_key, received_at, next_attempt_at, payload)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (guid) DO NOTHING`

// store inserts batch in one transaction, marking each request whose GUID
// was already present (earlier, or earlier in this batch) as a duplicate.
// Requests whose caller has given up are skipped and answered with the
// context's error. It returns how many rows it added.
func (i *Inbox) store(insert *sql.Stmt, batch []*putRequest) (int, error) {
	// Not a caller's context: one caller giving up must not abort the
	// transaction that stores everyone else's deliveries.
	ctx := context.Background()
	tx, err := i.db.W.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store deliveries: begin: %w", err)
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, insert)
	stored := 0
	for _, req := range batch {
		if req.err = req.ctx.Err(); req.err != nil {
			continue
		}
		d := &req.d
		ms := d.ReceivedAt.UnixMilli()
		res, err := stmt.ExecContext(ctx, d.GUID, d.Event, d.Action, d.InstallationID, d.Repo, d.OrderKey, ms, ms, d.Payload)
		if err != nil {
			return 0, fmt.Errorf("store delivery %s: %w", d.GUID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("store delivery %s: %w", d.GUID, err)
		}
		req.dup = n == 0
		stored += int(n)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store deliveries: commit: %w", err)
	}
	return stored, nil
}
