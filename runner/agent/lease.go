package agent

import (
	"context"
	"errors"
	"sync"
	"time"
)

// renewEvery is how often a running task renews its lease: a third of it
// (of a minute, if the task names none), so that two renewals can fail
// before it runs out, and never more often than the agent's minimum.
func (a *Agent) renewEvery(t Task) time.Duration {
	lease := time.Duration(t.LeaseSeconds) * time.Second
	if lease <= 0 {
		lease = time.Minute
	}
	return max(lease/3, a.minInterval)
}

// errWorkDone ends a renewal still under way (being retried) once the work
// it kept alive is done.
var errWorkDone = errors.New("work done")

// renewingLease runs work, calling renew every interval while it runs, so
// that the bot's lease on the task holds through long work (a download, an
// inspection, an upload). renew returns nil to go on (it logs what it can
// live with), or an error, such as ErrStaleAttempt, that stops work through
// its context and is returned in place of work's.
func renewingLease(ctx context.Context, interval time.Duration, renew, work func(context.Context) error) error {
	wctx, stopWork := context.WithCancelCause(ctx)
	defer stopWork(nil)
	beat := make(chan struct{})
	var stopped error // renew's, once it stopped the work; read after wg.Wait
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-beat:
				return
			case <-t.C:
				if err := renew(wctx); err != nil {
					stopped = err
					stopWork(err)
					return
				}
			}
		}
	})
	err := work(wctx)
	close(beat)
	stopWork(errWorkDone)
	wg.Wait()
	// A renewal refused after the work ended, or after ctx did, stopped
	// nothing: the work's own error stands.
	if stopped != nil && errors.Is(context.Cause(wctx), stopped) {
		return stopped
	}
	return err
}
