package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
)

// finisherLog records what a TaskFinisher heard.
type finisherLog struct {
	mu    sync.Mutex
	ended []jobs.Update
	after int
}

func (f *finisherLog) FinishTask(_ context.Context, tx *sql.Tx, t jobs.Task, u jobs.Update, _ time.Time) (func(), error) {
	// Write in the same transaction, as a release store does.
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS finished (task TEXT)`); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`INSERT INTO finished VALUES (?)`, t.ID); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, u)
	return func() { f.mu.Lock(); f.after++; f.mu.Unlock() }, nil
}

func (f *fixture) queue(id string) {
	f.t.Helper()
	tx, err := f.db.W.BeginTx(context.Background(), nil)
	if err != nil {
		f.f("begin: %v", err)
	}
	defer tx.Rollback()
	if err := jobs.QueueTask(context.Background(), tx, jobs.NewTask{ID: id, Backend: "tpp", Kind: jobs.PrepareRelease,
		Payload: map[string]any{"id": "rel-1", "files": []string{"output/a.csv"}}}, f.now); err != nil {
		f.f("queue: %v", err)
	}
	if err := tx.Commit(); err != nil {
		f.f("commit: %v", err)
	}
	f.st.Wake("tpp")
}

func TestTasksOfOtherStoresEndThroughTheirFinisher(t *testing.T) {
	f := newFixture(t)
	log := &finisherLog{}
	f.st.HandleTasks(jobs.PrepareRelease, log)
	f.queue("prepare-rel-1")
	f.queue("prepare-rel-1") // twice is once
	c := f.claim("tpp")
	if c.Task.Kind != jobs.PrepareRelease || c.Job.ID != "" || !json.Valid(c.Task.Payload) {
		t.Fatalf("claimed %+v", c.Task)
	}
	f.noClaim("tpp")
	f.update(c, jobs.Update{Attempt: 1, Seq: 1, Stage: jobs.Executing}) // a heartbeat ends nothing
	if len(log.ended) != 0 {
		t.Fatal("a heartbeat ended the task")
	}
	f.update(c, jobs.Update{Attempt: 1, Seq: 2, Status: jobs.Succeeded, Result: json.RawMessage(`[{"path":"output/a.csv"}]`)})
	if len(log.ended) != 1 || string(log.ended[0].Result) != `[{"path":"output/a.csv"}]` || log.after != 1 {
		t.Fatalf("finisher heard %+v (after %d)", log.ended, log.after)
	}
	var n int
	if err := f.db.R.QueryRow(`SELECT count(*) FROM finished`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the finisher's write: %d, %v", n, err)
	}
	if a := f.update(c, jobs.Update{Attempt: 1, Seq: 3, Status: jobs.Succeeded}); !a.Cancel || len(log.ended) != 1 {
		t.Fatalf("an update after the end: cancel=%v, finisher heard %d", a.Cancel, len(log.ended))
	}
}

func TestASilentAgentsTaskEndsInternalError(t *testing.T) {
	f := newFixture(t, jobs.WithLease(time.Minute), jobs.WithMaxAttempts(2))
	log := &finisherLog{}
	f.st.HandleTasks(jobs.PrepareRelease, log)
	f.queue("prepare-rel-1")
	for range 2 {
		f.claim("tpp")
		f.now = f.now.Add(2 * time.Minute)
		if _, err := f.st.ExpireLeases(context.Background(), f.now); err != nil {
			t.Fatal(err)
		}
	}
	if len(log.ended) != 1 || log.ended[0].Status != jobs.InternalError {
		t.Fatalf("finisher heard %+v, want one internal_error", log.ended)
	}
	f.noClaim("tpp")
}

func TestDroppedTasksAreNotHandedOut(t *testing.T) {
	f := newFixture(t)
	f.queue("upload-rel-1")
	tx, err := f.db.W.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.DropTasks(context.Background(), tx, []string{"upload-rel-1"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	f.noClaim("tpp")
}
