package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
)

// Queue is the part of the inbox the dispatcher drains.
type Queue interface {
	Ready(ctx context.Context, limit int) ([]inbox.Delivery, error)
	Done(ctx context.Context, guid string) error
	Retry(ctx context.Context, guid string, at time.Time, reason string) error
	Fail(ctx context.Context, guid string, reason string) error
	Arrived() <-chan struct{}
	NextDue(ctx context.Context) (time.Time, bool, error)
}

// Dispatcher hands stored deliveries to their handlers: deliveries that share
// an order key (one pull request) one at a time in the order they arrived,
// others in parallel on a small pool of workers.
type Dispatcher struct {
	queue       Queue
	handlers    map[string]EventHandler
	workers     int
	maxAttempts int
	grace       time.Duration
	backoff     func(attempt int) time.Duration
	now         func() time.Time
	metrics     *Metrics
	retryable   func(error) bool
}

// DispatcherOption configures a Dispatcher.
type DispatcherOption func(*Dispatcher)

// WithWorkers sets how many deliveries are handled at once.
func WithWorkers(n int) DispatcherOption { return func(d *Dispatcher) { d.workers = max(1, n) } }

// WithMaxAttempts sets how often a delivery is tried before it is given up.
func WithMaxAttempts(n int) DispatcherOption {
	return func(d *Dispatcher) { d.maxAttempts = max(1, n) }
}

// WithBackoff sets the delay before retry number attempt (1-based).
func WithBackoff(f func(attempt int) time.Duration) DispatcherOption {
	return func(d *Dispatcher) { d.backoff = f }
}

// WithShutdownGrace sets how long in-flight handlers may run on after the
// dispatcher is told to stop; work still running then is abandoned, stays in
// the inbox, and is picked up again at the next start.
func WithShutdownGrace(g time.Duration) DispatcherOption { return func(d *Dispatcher) { d.grace = g } }

// WithDispatcherMetrics records handler outcomes.
func WithDispatcherMetrics(m *Metrics) DispatcherOption { return func(d *Dispatcher) { d.metrics = m } }

// NewDispatcher returns a dispatcher routing events to handlers.
func NewDispatcher(q Queue, handlers []EventHandler, opts ...DispatcherOption) *Dispatcher {
	d := &Dispatcher{
		queue:       q,
		handlers:    make(map[string]EventHandler),
		workers:     4,
		maxAttempts: 8,
		grace:       10 * time.Second,
		backoff:     exponentialBackoff(time.Second, 5*time.Minute),
		now:         time.Now,
		retryable:   Retryable,
	}
	for _, h := range handlers {
		for _, e := range h.Handles() {
			d.handlers[e] = h
		}
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// exponentialBackoff doubles from base up to limit, with full jitter on the
// upper half so that retries of many deliveries do not arrive together.
func exponentialBackoff(base, limit time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		d := base << min(attempt-1, 20)
		if d > limit || d <= 0 {
			d = limit
		}
		return d/2 + rand.N(d/2+1)
	}
}

// Run drains the queue until ctx is cancelled, then lets in-flight handlers
// finish within the shutdown grace period.
func (d *Dispatcher) Run(ctx context.Context) error {
	// Handlers run on their own context so that a shutdown lets them finish;
	// it is cancelled only when the grace period runs out.
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()

	var wg sync.WaitGroup
	finished := make(chan string, d.workers)
	inflight := make(map[string]bool) // order keys being handled
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for {
		if err := d.fill(ctx, work, &wg, inflight, finished); err != nil && ctx.Err() == nil {
			logging.From(ctx).Error("read inbox", "err", err)
		}
		d.resetTimer(ctx, timer)
		select {
		case <-ctx.Done():
			return d.drain(ctx, &wg, abandon)
		case key := <-finished:
			delete(inflight, key)
		case <-d.queue.Arrived():
		case <-timer.C:
		}
	}
}

// fill starts a worker for each ready delivery whose order key is free.
func (d *Dispatcher) fill(ctx, work context.Context, wg *sync.WaitGroup, inflight map[string]bool, finished chan<- string) error {
	free := d.workers - len(inflight)
	if free <= 0 {
		return nil
	}
	ready, err := d.queue.Ready(ctx, free+len(inflight))
	if err != nil {
		return err
	}
	for _, del := range ready {
		if free == 0 {
			break
		}
		if inflight[del.OrderKey] {
			continue
		}
		inflight[del.OrderKey] = true
		free--
		wg.Add(1)
		go func(del inbox.Delivery) {
			defer wg.Done()
			d.handle(work, del)
			finished <- del.OrderKey
		}(del)
	}
	return nil
}

// resetTimer wakes the loop when the earliest delayed retry falls due.
func (d *Dispatcher) resetTimer(ctx context.Context, t *time.Timer) {
	wait := time.Minute
	if at, ok, err := d.queue.NextDue(ctx); err == nil && ok {
		wait = min(wait, max(at.Sub(d.now()), time.Millisecond))
	}
	t.Reset(wait)
}

func (d *Dispatcher) drain(ctx context.Context, wg *sync.WaitGroup, abandon context.CancelFunc) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d.grace):
		logging.From(ctx).Warn("shutdown grace period over; abandoning in-flight deliveries, they stay in the inbox")
		abandon()
		<-done
	}
	return nil
}

// handle runs one delivery's handler and records the outcome in the inbox.
func (d *Dispatcher) handle(ctx context.Context, del inbox.Delivery) {
	ctx = logging.Attrs(ctx, logging.KeyDelivery, del.GUID, logging.KeyEvent, del.Event)
	log := logging.From(ctx)
	h, ok := d.handlers[del.Event]
	if !ok {
		d.record(ctx, del, "ignored", d.queue.Done(ctx, del.GUID))
		return
	}
	start := d.now()
	err := safeHandle(ctx, h, del)
	if d.metrics != nil {
		d.metrics.HandlerDuration.WithLabelValues(del.Event).Observe(d.now().Sub(start).Seconds())
	}
	attempt := del.Attempts + 1
	switch {
	case err == nil:
		d.record(ctx, del, "done", d.queue.Done(ctx, del.GUID))
	case ctx.Err() != nil:
		// Abandoned at shutdown: left pending, handled again after the restart.
		log.Warn("delivery abandoned at shutdown", "err", err)
	case !errors.Is(err, ErrPermanent) && d.retryable(err) && attempt < d.maxAttempts:
		wait := max(d.backoff(attempt), RetryAfter(err))
		log.Warn("delivery failed; will retry", "err", err, "attempt", attempt, "retry_in", wait.String())
		d.record(ctx, del, "retry", d.queue.Retry(ctx, del.GUID, d.now().Add(wait), err.Error()))
	default:
		log.Error("delivery failed for good", "err", err, "attempt", attempt)
		d.record(ctx, del, "failed", d.queue.Fail(ctx, del.GUID, err.Error()))
	}
}

func (d *Dispatcher) record(ctx context.Context, del inbox.Delivery, outcome string, err error) {
	if err != nil {
		logging.From(ctx).Error("record delivery outcome", "outcome", outcome, "err", err)
	}
	if d.metrics != nil {
		d.metrics.HandlerOutcomes.WithLabelValues(del.Event, outcome).Inc()
	}
}

// safeHandle turns a handler panic into a permanent error, so one bad
// delivery cannot take the bot down or be retried forever.
func safeHandle(ctx context.Context, h EventHandler, del inbox.Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: handler panicked: %v", ErrPermanent, r)
		}
	}()
	return h.Handle(ctx, del)
}
