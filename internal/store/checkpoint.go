package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// checkpointer copies the write-ahead log into the database file from its own
// connection, so that no commit on the request path ever pays for it. PASSIVE
// checkpoints never wait for readers or the writer; once a checkpoint has
// caught up, the next writer starts the log from the beginning again, so the
// WAL stays bounded while writes keep coming.
type checkpointer struct {
	db       *sql.DB
	interval time.Duration
	log      *slog.Logger
	quit     chan struct{}
	done     chan struct{}
}

func startCheckpointer(db *sql.DB, interval time.Duration, log *slog.Logger) *checkpointer {
	c := &checkpointer{
		db:       db,
		interval: interval,
		log:      log,
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
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

	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
		}
		res, err := c.run(ctx, "PASSIVE")
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Warn("wal checkpoint failed", "err", err)
		case err == nil && res.walPages > 0:
			c.log.Debug("wal checkpoint", "wal_pages", res.walPages, "checkpointed", res.checkpointed)
		}
	}
}

func (c *checkpointer) stop() {
	close(c.quit)
	<-c.done
}

type checkpointResult struct {
	busy         bool
	walPages     int
	checkpointed int
}

// run runs one checkpoint in the given mode (PASSIVE, FULL, RESTART, TRUNCATE).
func (c *checkpointer) run(ctx context.Context, mode string) (checkpointResult, error) {
	var busy int
	var r checkpointResult
	err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &r.walPages, &r.checkpointed)
	if err != nil {
		return r, fmt.Errorf("wal checkpoint (%s): %w", mode, err)
	}
	r.busy = busy != 0
	return r, nil
}
