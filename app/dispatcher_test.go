package app

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/inbox"
)

// memQueue is an in-memory Queue with the inbox's ordering rule.
type memQueue struct {
	mu      sync.Mutex
	items   []*memItem
	arrived chan struct{}
	changed chan struct{} // closed and replaced on every outcome
}

type memItem struct {
	inbox.Delivery
	state  string // pending, done, failed
	due    time.Time
	reason string
}

func newMemQueue(ds ...inbox.Delivery) *memQueue {
	q := &memQueue{arrived: make(chan struct{}, 1), changed: make(chan struct{})}
	for _, d := range ds {
		q.items = append(q.items, &memItem{Delivery: d, state: "pending"})
	}
	return q
}

func (q *memQueue) Ready(_ context.Context, limit int) ([]inbox.Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	seen := map[string]bool{}
	var out []inbox.Delivery
	for _, it := range q.items {
		if it.state != "pending" || seen[it.OrderKey] {
			continue
		}
		seen[it.OrderKey] = true
		if !it.due.After(time.Now()) && len(out) < limit {
			out = append(out, it.Delivery)
		}
	}
	return out, nil
}

func (q *memQueue) outcome(guid, state, reason string, due time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range q.items {
		if it.GUID == guid {
			it.state, it.reason, it.due = state, reason, due
			if state == "pending" {
				it.Attempts++
			}
		}
	}
	close(q.changed)
	q.changed = make(chan struct{})
}

func (q *memQueue) Done(_ context.Context, guid string) error {
	q.outcome(guid, "done", "", time.Time{})
	return nil
}

func (q *memQueue) Retry(_ context.Context, guid string, at time.Time, reason string) error {
	q.outcome(guid, "pending", reason, at)
	return nil
}

func (q *memQueue) Fail(_ context.Context, guid, reason string) error {
	q.outcome(guid, "failed", reason, time.Time{})
	return nil
}

func (q *memQueue) Arrived() <-chan struct{} { return q.arrived }

func (q *memQueue) NextDue(context.Context) (time.Time, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var next time.Time
	for _, it := range q.items {
		if it.state == "pending" && (next.IsZero() || it.due.Before(next)) {
			next = it.due
		}
	}
	return next, !next.IsZero(), nil
}

// waitState blocks until guid reaches state.
func (q *memQueue) waitState(t *testing.T, guid, state string) *memItem {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		q.mu.Lock()
		ch := q.changed
		for _, it := range q.items {
			if it.GUID == guid && it.state == state {
				cp := *it
				q.mu.Unlock()
				return &cp
			}
		}
		q.mu.Unlock()
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("delivery %s never reached %s", guid, state)
		}
	}
}

// scriptedHandler runs a function per delivery.
type scriptedHandler struct {
	handle func(ctx context.Context, d inbox.Delivery) error
}

func (h scriptedHandler) Handles() []string { return []string{"pull_request"} }
func (h scriptedHandler) Handle(ctx context.Context, d inbox.Delivery) error {
	return h.handle(ctx, d)
}

func delivery(guid, key string) inbox.Delivery {
	return inbox.Delivery{GUID: guid, Event: "pull_request", OrderKey: key}
}

// startDispatcher runs a dispatcher until the test ends; the returned stop
// cancels it and waits for Run to return.
func startDispatcher(t *testing.T, q *memQueue, h EventHandler, opts ...DispatcherOption) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := NewDispatcher(q, []EventHandler{h}, opts...)
	d.retryable = func(err error) bool { return !errors.Is(err, errNotRetryable) }
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

var errNotRetryable = errors.New("422 unprocessable")

func TestDispatcherKeepsOrderWithinAKeyAndRunsKeysInParallel(t *testing.T) {
	q := newMemQueue(delivery("a1", "pr#1"), delivery("a2", "pr#1"), delivery("b1", "pr#2"))
	release := make(chan struct{})
	started := make(chan string, 3)
	startDispatcher(t, q, scriptedHandler{func(_ context.Context, d inbox.Delivery) error {
		started <- d.GUID
		if d.GUID == "a1" {
			<-release // a1 holds pr#1 until b1 has run
		}
		return nil
	}})
	got := map[string]bool{<-started: true, <-started: true}
	if !got["a1"] || !got["b1"] {
		t.Fatalf("first two started = %v, want a1 and b1 (a2 must wait for a1)", got)
	}
	q.waitState(t, "b1", "done")
	close(release)
	if g := <-started; g != "a2" {
		t.Fatalf("third started = %s, want a2", g)
	}
	q.waitState(t, "a2", "done")
}

func TestDispatcherRetriesErrorsThatCanPassAndRecordsPermanentOnes(t *testing.T) {
	q := newMemQueue(delivery("flaky", "k1"), delivery("bad", "k2"), delivery("panics", "k3"))
	var mu sync.Mutex
	calls := map[string]int{}
	startDispatcher(t, q, scriptedHandler{func(_ context.Context, d inbox.Delivery) error {
		mu.Lock()
		calls[d.GUID]++
		n := calls[d.GUID]
		mu.Unlock()
		switch d.GUID {
		case "flaky":
			if n < 3 {
				return errors.New("502 bad gateway")
			}
			return nil
		case "bad":
			return errNotRetryable
		default:
			panic("boom")
		}
	}}, WithBackoff(func(int) time.Duration { return time.Millisecond }))

	if it := q.waitState(t, "flaky", "done"); it.Attempts != 2 {
		t.Fatalf("flaky done after %d retries, want 2", it.Attempts)
	}
	if it := q.waitState(t, "bad", "failed"); it.reason != errNotRetryable.Error() {
		t.Fatalf("bad failed with %q", it.reason)
	}
	if it := q.waitState(t, "panics", "failed"); it.reason == "" {
		t.Fatal("a panic must be recorded with its reason")
	}
	mu.Lock()
	defer mu.Unlock()
	if calls["bad"] != 1 || calls["panics"] != 1 {
		t.Fatalf("permanent failures were retried: %v", calls)
	}
}

func TestDispatcherGivesUpAfterMaxAttempts(t *testing.T) {
	q := newMemQueue(delivery("down", "k"))
	startDispatcher(t, q, scriptedHandler{func(context.Context, inbox.Delivery) error {
		return errors.New("503 unavailable")
	}}, WithBackoff(func(int) time.Duration { return time.Millisecond }), WithMaxAttempts(3))
	if it := q.waitState(t, "down", "failed"); it.Attempts != 2 {
		t.Fatalf("failed after %d retries, want 2 (3 attempts)", it.Attempts)
	}
}

func TestDispatcherAbandonsWorkAfterShutdownGrace(t *testing.T) {
	q := newMemQueue(delivery("slow", "k"))
	started := make(chan struct{})
	stop := startDispatcher(t, q, scriptedHandler{func(ctx context.Context, _ inbox.Delivery) error {
		close(started)
		<-ctx.Done() // never finishes on its own
		return ctx.Err()
	}}, WithShutdownGrace(10*time.Millisecond))
	<-started
	stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	if st := q.items[0].state; st != "pending" {
		t.Errorf("abandoned delivery is %s, want pending for the next start", st)
	}
}
