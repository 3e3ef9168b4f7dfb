package outbox

import (
	"context"
	"testing"
	"time"
)

func TestLoopPassesOnEachChangeAndWhenDue(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	changed := make(chan struct{}, 1)
	passes := make(chan int, 10)
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Loop(ctx, changed, func(context.Context) time.Time {
			n++
			passes <- n
			if n == 2 {
				return time.Now() // due at once: no change needed
			}
			return time.Now().Add(time.Hour)
		})
	}()
	if got := <-passes; got != 1 {
		t.Fatalf("first pass %d", got)
	}
	changed <- struct{}{}
	if got := <-passes; got != 2 {
		t.Fatalf("a change did not bring a pass: %d", got)
	}
	if got := <-passes; got != 3 {
		t.Fatalf("a pass due at once did not come: %d", got)
	}
	cancel()
	<-done
}
