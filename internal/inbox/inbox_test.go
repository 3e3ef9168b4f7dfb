package inbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/store"
)

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func openDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newInbox(t *testing.T, opts ...Option) (*Inbox, *store.DB) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "inbox.db"))
	in := New(db, opts...)
	t.Cleanup(func() { in.Close() })
	return in, db
}

func delivery(guid, key string) Delivery {
	return Delivery{
		GUID:           guid,
		Event:          "pull_request",
		Action:         "opened",
		InstallationID: 5,
		Repo:           "octo/hello",
		OrderKey:       key,
		Payload:        []byte(`{"action":"opened","n":"` + guid + `"}`),
	}
}

func put(t *testing.T, in *Inbox, ds ...Delivery) {
	t.Helper()
	for _, d := range ds {
		dup, err := in.Put(context.Background(), d)
		if err != nil || dup {
			t.Fatalf("Put(%s) = %v, %v; want stored", d.GUID, dup, err)
		}
	}
}

func guids(ds []Delivery) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.GUID)
	}
	return strings.Join(s, " ")
}

func ready(t *testing.T, in *Inbox) string {
	t.Helper()
	ds, err := in.Ready(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return guids(ds)
}

func TestPutStoresTheDelivery(t *testing.T) {
	clk := newClock()
	in, _ := newInbox(t, WithClock(clk.Now))
	want := delivery("d-1", "octo/hello#1")
	put(t, in, want)

	got, status, err := in.Get(context.Background(), "d-1")
	if err != nil {
		t.Fatal(err)
	}
	want.ReceivedAt = clk.Now()
	if status != StatusPending || got.GUID != want.GUID || got.Event != want.Event || got.Action != want.Action ||
		got.InstallationID != want.InstallationID || got.Repo != want.Repo || got.OrderKey != want.OrderKey ||
		string(got.Payload) != string(want.Payload) || !got.ReceivedAt.Equal(want.ReceivedAt) || got.Attempts != 0 {
		t.Errorf("Get = %+v (%s)\nwant  %+v (pending)", got, status, want)
	}
}

func TestPutReportsADuplicateGUID(t *testing.T) {
	in, db := newInbox(t)
	put(t, in, delivery("d-1", "k"))
	dup, err := in.Put(context.Background(), delivery("d-1", "k"))
	if err != nil || !dup {
		t.Fatalf("second Put = %v, %v; want duplicate", dup, err)
	}
	if n := countRows(t, db); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

func TestPutRejectsIncompleteDeliveries(t *testing.T) {
	in, _ := newInbox(t)
	for name, d := range map[string]Delivery{
		"no GUID":      {Event: "push", OrderKey: "k"},
		"no event":     {GUID: "g", OrderKey: "k"},
		"no order key": {GUID: "g", Event: "push"},
	} {
		if _, err := in.Put(context.Background(), d); err == nil {
			t.Errorf("%s: Put succeeded", name)
		}
	}
}

func countRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow("SELECT count(*) FROM deliveries").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Many goroutines put overlapping GUIDs at once: every GUID is stored once,
// and exactly one of its Puts learns it was new.
func TestConcurrentPutsAreAllStoredOnce(t *testing.T) {
	in, db := newInbox(t, WithMaxBatch(16))
	const senders, perSender, copies = 32, 40, 3
	var fresh sync.Map // guid -> *atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		wg.Go(func() {
			for n := range perSender {
				// Each GUID is sent by `copies` different senders.
				guid := fmt.Sprintf("g-%d-%d", (s/copies)*copies, n)
				dup, err := in.Put(context.Background(), delivery(guid, fmt.Sprintf("key-%d", n%7)))
				if err != nil {
					errs <- err
					return
				}
				if !dup {
					c, _ := fresh.LoadOrStore(guid, new(atomic.Int32))
					c.(*atomic.Int32).Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	unique := 0
	fresh.Range(func(k, v any) bool {
		unique++
		if n := v.(*atomic.Int32).Load(); n != 1 {
			t.Errorf("%s: %d Puts saw it as new, want 1", k, n)
		}
		return true
	})
	wantUnique := ((senders + copies - 1) / copies) * perSender
	if unique != wantUnique || countRows(t, db) != wantUnique {
		t.Errorf("%d GUIDs seen as new, %d rows; want %d", unique, countRows(t, db), wantUnique)
	}
}

// holdWriter takes the writer connection so that the inbox's writer blocks
// in its next transaction; release gives it back.
func holdWriter(t *testing.T, db *store.DB) (release func()) {
	t.Helper()
	conn, err := db.W.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { conn.Close() }) }
	t.Cleanup(release) // before the inbox's Close, which would wait for the writer
	return release
}

// waitWriterBlocked waits until the inbox's writer waits for the connection
// that holdWriter took: it has taken a batch and cannot commit it.
func waitWriterBlocked(t *testing.T, db *store.DB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for db.W.Stats().WaitCount == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the writer never waited for its connection")
		}
		time.Sleep(time.Millisecond)
	}
}

// waitQueued waits until n Puts are waiting in the writer's queue.
func waitQueued(t *testing.T, in *Inbox, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(in.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d Puts queued, want %d", len(in.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type putResult struct {
	guid string
	dup  bool
	err  error
}

func putAsync(in *Inbox, d Delivery, out chan<- putResult) {
	go func() {
		dup, err := in.Put(context.Background(), d)
		out <- putResult{d.GUID, dup, err}
	}()
}

// Puts queued while a transaction is being written share the next one, and
// the second of two equal GUIDs in one batch is the duplicate.
func TestPutsQueuedDuringACommitShareTheNext(t *testing.T) {
	in, db := newInbox(t)
	release := holdWriter(t, db)
	results := make(chan putResult, 4)
	putAsync(in, delivery("first", "k"), results)
	waitWriterBlocked(t, db) // with "first" in its batch
	for range 3 {
		putAsync(in, delivery("twin", "k"), results)
	}
	waitQueued(t, in, 3)
	release()

	fresh := 0
	for range 4 {
		r := <-results
		if r.err != nil {
			t.Fatalf("Put(%s): %v", r.guid, r.err)
		}
		if r.guid == "twin" && !r.dup {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d Puts of twin saw it as new, want 1", fresh)
	}
	if n := countRows(t, db); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

func TestPutFailsWhenTheCommitFails(t *testing.T) {
	in, db := newInbox(t)
	put(t, in, delivery("before", "k"))
	db.W.Close()
	if _, err := in.Put(context.Background(), delivery("after", "k")); err == nil {
		t.Fatal("Put succeeded on a closed database")
	}
}

func TestPutGivesUpWithItsContext(t *testing.T) {
	in, db := newInbox(t)
	release := holdWriter(t, db)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := in.Put(ctx, delivery("slow", "k")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put = %v, want deadline exceeded", err)
	}
}

func TestCloseStoresQueuedPutsThenRefusesMore(t *testing.T) {
	in, db := newInbox(t)
	release := holdWriter(t, db)
	results := make(chan putResult, 10)
	putAsync(in, delivery("q-first", "k"), results)
	waitWriterBlocked(t, db)
	for n := range 9 {
		putAsync(in, delivery(fmt.Sprint("q-", n), "k"), results)
	}
	waitQueued(t, in, 9)
	closed := make(chan struct{})
	go func() { in.Close(); close(closed) }()
	release()
	<-closed
	stored := 0
	for range 10 {
		r := <-results
		switch {
		case r.err == nil:
			stored++
		case !errors.Is(r.err, ErrClosed):
			t.Errorf("Put(%s): %v", r.guid, r.err)
		}
	}
	if n := countRows(t, db); n != 10 || stored != 10 {
		t.Errorf("%d rows, %d Puts acknowledged; want all 10 queued before Close", n, stored)
	}
	if _, err := in.Put(context.Background(), delivery("late", "k")); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close = %v, want ErrClosed", err)
	}
}

func TestArrivedSignalsNewDeliveriesOnly(t *testing.T) {
	in, _ := newInbox(t)
	select {
	case <-in.Arrived():
		t.Fatal("Arrived before any Put")
	default:
	}
	put(t, in, delivery("a", "k"))
	select {
	case <-in.Arrived():
	default:
		t.Fatal("no Arrived signal after a stored Put")
	}
	if dup, err := in.Put(context.Background(), delivery("a", "k")); err != nil || !dup {
		t.Fatalf("Put = %v, %v", dup, err)
	}
	select {
	case <-in.Arrived():
		t.Fatal("Arrived signalled for a duplicate")
	default:
	}
}

func TestReadyHandsOutOneDeliveryPerKeyInReceiptOrder(t *testing.T) {
	clk := newClock()
	in, _ := newInbox(t, WithClock(clk.Now))
	put(t, in,
		delivery("a1", "octo/hello#1"),
		delivery("b1", "octo/hello#2"),
		delivery("a2", "octo/hello#1"),
		delivery("c1", "octo/hello@abc"),
		delivery("b2", "octo/hello#2"),
	)
	if got := ready(t, in); got != "a1 b1 c1" {
		t.Fatalf("Ready = %s, want a1 b1 c1", got)
	}
	ds, err := in.Ready(context.Background(), 2)
	if err != nil || guids(ds) != "a1 b1" {
		t.Fatalf("Ready(limit 2) = %s, %v", guids(ds), err)
	}
	ctx := context.Background()
	if err := in.Done(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if got := ready(t, in); got != "b1 a2 c1" {
		t.Fatalf("after a1 done: Ready = %s, want b1 a2 c1", got)
	}
}

func TestRetryHoldsBackItsKeyUntilDue(t *testing.T) {
	clk := newClock()
	in, _ := newInbox(t, WithClock(clk.Now))
	ctx := context.Background()
	put(t, in, delivery("a1", "A"), delivery("a2", "A"), delivery("b1", "B"))

	if err := in.Retry(ctx, "a1", clk.Now().Add(time.Minute), "GitHub answered 502"); err != nil {
		t.Fatal(err)
	}
	if got := ready(t, in); got != "b1" {
		t.Fatalf("Ready = %s, want b1 (a1 waits, a2 is behind it)", got)
	}
	due, ok, err := in.NextDue(ctx)
	if err != nil || !ok || !due.Equal(clk.Now()) {
		t.Fatalf("NextDue = %v, %v, %v; want now (b1)", due, ok, err)
	}
	if err := in.Done(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	due, ok, err = in.NextDue(ctx)
	if err != nil || !ok || !due.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("NextDue = %v, %v, %v; want a1's retry time", due, ok, err)
	}

	clk.Advance(time.Minute)
	if got := ready(t, in); got != "a1" {
		t.Fatalf("after a minute: Ready = %s, want a1", got)
	}
	d, status, err := in.Get(ctx, "a1")
	if err != nil || status != StatusPending || d.Attempts != 1 || d.LastError != "GitHub answered 502" {
		t.Fatalf("a1 = %d attempts, %q, %s, %v", d.Attempts, d.LastError, status, err)
	}
}

func TestFailRecordsTheReasonAndReleasesTheKey(t *testing.T) {
	in, _ := newInbox(t)
	ctx := context.Background()
	put(t, in, delivery("a1", "A"), delivery("a2", "A"))
	if err := in.Fail(ctx, "a1", "project.yaml is not valid YAML"); err != nil {
		t.Fatal(err)
	}
	d, status, err := in.Get(ctx, "a1")
	if err != nil || status != StatusFailed || d.LastError != "project.yaml is not valid YAML" || d.Attempts != 1 {
		t.Fatalf("a1 = %s, %q, %d attempts, %v", status, d.LastError, d.Attempts, err)
	}
	if got := ready(t, in); got != "a2" {
		t.Fatalf("Ready = %s, want a2", got)
	}
	if err := in.Retry(ctx, "a1", time.Now(), "again"); !errors.Is(err, ErrFinished) {
		t.Errorf("Retry of a failed delivery = %v, want ErrFinished", err)
	}
}

func TestDoneIsIdempotent(t *testing.T) {
	in, _ := newInbox(t)
	ctx := context.Background()
	put(t, in, delivery("a1", "A"))
	for range 2 {
		if err := in.Done(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, status, _ := in.Get(ctx, "a1"); status != StatusDone {
		t.Errorf("status %s, want done", status)
	}
	if err := in.Fail(ctx, "a1", "late"); !errors.Is(err, ErrFinished) {
		t.Errorf("Fail after Done = %v, want ErrFinished", err)
	}
	if err := in.Done(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Done(unknown) = %v, want ErrNotFound", err)
	}
	if _, _, err := in.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
	if got := ready(t, in); got != "" {
		t.Errorf("Ready = %s, want nothing", got)
	}
	if _, ok, err := in.NextDue(ctx); ok || err != nil {
		t.Errorf("NextDue reports something due (%v)", err)
	}
}

func TestStats(t *testing.T) {
	clk := newClock()
	in, _ := newInbox(t, WithClock(clk.Now))
	ctx := context.Background()
	first := clk.Now()
	put(t, in, delivery("a1", "A"))
	clk.Advance(time.Second)
	put(t, in, delivery("b1", "B"), delivery("c1", "C"))
	if err := in.Done(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	depth, oldest, err := in.Stats(ctx)
	if err != nil || depth != 2 || !oldest.Equal(first) {
		t.Errorf("Stats = %d, %v, %v; want 2, %v", depth, oldest, err, first)
	}
}

// A new inbox on the same database file sees everything the old one left
// unfinished, in the same order.
func TestRestartResumesUnfinishedDeliveries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	in := New(db)
	put(t, in, delivery("a1", "A"), delivery("a2", "A"), delivery("b1", "B"), delivery("c1", "C"))
	if err := in.Done(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	if err := in.Retry(ctx, "c1", time.Now().Add(-time.Second), "timeout"); err != nil {
		t.Fatal(err)
	}
	in.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	in = New(openDB(t, path))
	defer in.Close()
	if got := ready(t, in); got != "a1 c1" {
		t.Fatalf("after restart: Ready = %s, want a1 c1", got)
	}
	put(t, in, delivery("d1", "A"))
	if err := in.Done(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	ds, err := in.Ready(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := guids(ds); got != "a2 c1" {
		t.Fatalf("Ready = %s, want a2 c1", got)
	}
	if i := slices.IndexFunc(ds, func(d Delivery) bool { return d.GUID == "c1" }); ds[i].Attempts != 1 || ds[i].LastError != "timeout" {
		t.Errorf("c1 = %d attempts, %q", ds[i].Attempts, ds[i].LastError)
	}
}
