package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// checkpointer copies the write-ahead log into the database file from its own
// connection, so that commits never pay for it (writers have
// wal_autocheckpoint off).
//
// PASSIVE checkpoints never wait for the writer, but under a steady stream of
// commits they never catch up either: the log only starts over from its
// beginning when a write transaction begins with every frame already copied,
// and until then each commit appends to an ever larger file, which costs far
// more than overwriting the same, cached, part of it. So once the log is
// past rewindBytes, the checkpointer copies until only a few frames are
// left, then copies those while it holds the writer connection for a moment;
// the next write transaction rewinds the log. If the disk cannot keep up,
// that moment is longer: a pause in acknowledgements rather than a log
// without bound.
type checkpointer struct {
	db          *sql.DB // its own connection
	writer      *sql.DB // the writer pool, borrowed briefly to let the log rewind
	interval    time.Duration
	rewindBytes int64
	log         *slog.Logger
	heldAt      int // frames in the log when the writer was last held
	quit        chan struct{}
	done        chan struct{}
}

// rewindResidualFrames is how many frames may be left to copy while the
// writer is held: a few milliseconds of work, fsyncs included.
const rewindResidualFrames = 64

func startCheckpointer(db, writer *sql.DB, interval time.Duration, rewindBytes int64, log *slog.Logger) *checkpointer {
	c := &checkpointer{
		db:          db,
		writer:      writer,
		interval:    interval,
		rewindBytes: rewindBytes,
		log:         log,
		quit:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.quit:
			cancel()
		case <-ctx.Done():
		}
	}()

	var pageSize int64
	if err := c.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil || pageSize <= 0 {
		pageSize = 4096
	}
	rewindFrames := max(1, int(c.rewindBytes/pageSize))

	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
		}
		if err := c.tick(ctx, rewindFrames); err != nil && ctx.Err() == nil {
			c.log.Warn("wal checkpoint failed", "err", err)
		}
	}
}

func (c *checkpointer) tick(ctx context.Context, rewindFrames int) error {
	res, err := run(ctx, c.db, "PASSIVE")
	if err != nil || res.walFrames < rewindFrames || res.walFrames == c.heldAt {
		// Small, or nothing written since the writer was last held: the
		// next write transaction rewinds the log.
		return err
	}
	// Commits keep coming: catch up with them, a shorter round each time
	// while the disk is faster than they are, so that little is left to
	// copy while the writer waits.
	residual := res.walFrames
	for range 4 {
		prev := res.walFrames
		if res, err = run(ctx, c.db, "PASSIVE"); err != nil {
			return err
		}
		if res.walFrames < prev {
			return nil // a write transaction found the log copied and rewound it
		}
		last := residual
		if residual = res.walFrames - prev; residual <= rewindResidualFrames || residual >= last {
			break // caught up, or no longer gaining
		}
	}
	conn, err := c.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	defer conn.Close()
	start := time.Now()
	final, err := run(ctx, conn, "PASSIVE")
	if err != nil {
		return err
	}
	c.heldAt = final.walFrames
	c.log.Debug("wal checkpoint caught up; the log starts over",
		"wal_frames", res.walFrames, "held_writer", time.Since(start))
	return nil
}

func (c *checkpointer) stop() {
	close(c.quit)
	<-c.done
}

type checkpointResult struct {
	busy         bool
	walFrames    int // frames in the log
	checkpointed int // frames copied into the database file
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// run runs one checkpoint in the given mode (PASSIVE, FULL, RESTART, TRUNCATE).
func run(ctx context.Context, db queryRower, mode string) (checkpointResult, error) {
	var busy int
	var r checkpointResult
	err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &r.walFrames, &r.checkpointed)
	if err != nil {
		return r, fmt.Errorf("wal checkpoint (%s): %w", mode, err)
	}
	r.busy = busy != 0
	return r, nil
}
