package agent

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestRenewingLease(t *testing.T) {
	t.Parallel()
	stale := fmt.Errorf("update: %w", ErrStaleAttempt)

	t.Run("renewals go on while the work runs, and its error stands", func(t *testing.T) {
		t.Parallel()
		var renewals atomic.Int32
		thrice := make(chan struct{})
		errWork := errors.New("work failed")
		err := renewingLease(t.Context(), time.Millisecond, func(context.Context) error {
			if renewals.Add(1) == 3 {
				close(thrice)
			}
			return nil
		}, func(ctx context.Context) error {
			<-thrice
			return errWork
		})
		if !errors.Is(err, errWork) {
			t.Errorf("err = %v, want the work's", err)
		}
	})

	t.Run("a refused renewal stops the work and is returned", func(t *testing.T) {
		t.Parallel()
		var cause error
		err := renewingLease(t.Context(), time.Millisecond, func(context.Context) error {
			return stale
		}, func(ctx context.Context) error {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		if err != stale {
			t.Errorf("err = %v, want the renewal's %v", err, stale)
		}
		if cause != stale {
			t.Errorf("the work's context ended for %v, want %v", cause, stale)
		}
	})

	t.Run("the end of the work ends a renewal under way, which stops nothing", func(t *testing.T) {
		t.Parallel()
		renewing := make(chan struct{})
		var once atomic.Bool
		err := renewingLease(t.Context(), time.Millisecond, func(ctx context.Context) error {
			if once.CompareAndSwap(false, true) {
				close(renewing)
			}
			<-ctx.Done() // a renewal being retried
			return stale
		}, func(ctx context.Context) error {
			<-renewing
			return nil
		})
		if err != nil {
			t.Errorf("err = %v, want the work's nil: the refusal came after it was done", err)
		}
	})
}

func TestRenewEvery(t *testing.T) {
	t.Parallel()
	a := &Agent{minInterval: 100 * time.Millisecond}
	cases := map[int64]time.Duration{60: 20 * time.Second, 0: 20 * time.Second, -5: 20 * time.Second, 3: time.Second, 1: 333333333 * time.Nanosecond}
	for lease, want := range cases {
		if got := a.renewEvery(Task{LeaseSeconds: lease}); got != want {
			t.Errorf("lease %ds: renew every %v, want %v", lease, got, want)
		}
	}
	a.minInterval = time.Minute
	if got := a.renewEvery(Task{LeaseSeconds: 60}); got != time.Minute {
		t.Errorf("renew every %v, want the agent's minimum of a minute", got)
	}
}
