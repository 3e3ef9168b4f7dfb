// Package outbox holds what the outbox workers share: the run reporter and
// the releaser each show GitHub what a store recorded (its outbox) and
// mark it shown. Loop runs such a worker; Backoff holds back, by key, what
// failed, for longer after each failure. Backoff lives in memory: a restart
// only means an earlier retry.
package outbox

import "time"

// Backoff is the failures of each key and when each may be tried again.
// Its zero value is not usable; make one with NewBackoff. It is not safe for
// concurrent use: each worker has its own.
type Backoff struct {
	first, limit time.Duration
	fails        map[string]int
	until        map[string]time.Time
}

// NewBackoff waits first after a key's first failure, doubling up to limit.
func NewBackoff(first, limit time.Duration) *Backoff {
	return &Backoff{first: first, limit: limit, fails: map[string]int{}, until: map[string]time.Time{}}
}

// Until is when key may be tried again; ok is false when it is not held back.
func (b *Backoff) Until(key string) (time.Time, bool) {
	t, ok := b.until[key]
	return t, ok
}

// Failed records a failure of key at now and returns when it may be tried
// again: the backoff, or at least atLeast (a wait the other side asked for).
func (b *Backoff) Failed(key string, now time.Time, atLeast time.Duration) time.Time {
	b.fails[key]++
	wait := min(b.first<<min(b.fails[key]-1, 20), b.limit)
	b.until[key] = now.Add(max(wait, atLeast))
	return b.until[key]
}

// Succeeded forgets key's failures.
func (b *Backoff) Succeeded(key string) {
	delete(b.fails, key)
	delete(b.until, key)
}
