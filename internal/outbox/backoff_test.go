package outbox

import (
	"testing"
	"time"
)

func TestBackoffDoublesUpToItsLimitAndForgetsOnSuccess(t *testing.T) {
	t.Parallel()
	b := NewBackoff(time.Second, 5*time.Second)
	now := time.Unix(1000, 0)
	if _, held := b.Until("k"); held {
		t.Fatal("a key that never failed is held back")
	}
	for i, want := range []time.Duration{1, 2, 4, 5, 5} {
		if got := b.Failed("k", now, 0).Sub(now); got != want*time.Second {
			t.Errorf("failure %d: wait %s, want %s", i+1, got, want*time.Second)
		}
	}
	if got := b.Failed("k", now, time.Minute).Sub(now); got != time.Minute {
		t.Errorf("a longer wait asked for: %s, want 1m", got)
	}
	if got := b.Failed("other", now, 0).Sub(now); got != time.Second {
		t.Errorf("another key: %s, want 1s", got)
	}
	b.Succeeded("k")
	if _, held := b.Until("k"); held {
		t.Fatal("a key that succeeded is still held back")
	}
	if got := b.Failed("k", now, 0).Sub(now); got != time.Second {
		t.Errorf("after a success the backoff starts over: %s", got)
	}
}
