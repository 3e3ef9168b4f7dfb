package outbox

import (
	"context"
	"time"
)

// Loop runs pass until ctx ends: again whenever changed receives (the store
// committed something to show), and at the latest when pass said to look
// again.
func Loop(ctx context.Context, changed <-chan struct{}, pass func(context.Context) (again time.Time)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		again := pass(ctx)
		timer.Reset(max(time.Until(again), time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-timer.C:
		}
	}
}
