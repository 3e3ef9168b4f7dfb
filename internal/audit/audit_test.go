package audit

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/store"
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func appendN(t *testing.T, db *store.DB, n int) []Entry {
	t.Helper()
	var out []Entry
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for i := range n {
		e, err := Append(context.Background(), db.W, at.Add(time.Duration(i)*time.Second),
			"run.requested", "ana", "ana/study", "run-1", map[string]any{"actions": []string{"a"}, "i": i})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestAppendChainsEntriesAndVerifyAcceptsThem(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	es := appendN(t, db, 3)
	if es[0].Seq != 1 || es[0].PrevHash != genesis || es[1].PrevHash != es[0].Hash || es[2].PrevHash != es[1].Hash {
		t.Fatalf("chain not linked: %+v", es)
	}
	n, err := Verify(context.Background(), db.R)
	if err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v; want 3, nil", n, err)
	}
	got, err := List(context.Background(), db.R, 1, 10)
	if err != nil || len(got) != 2 || got[0].Hash != es[1].Hash || string(got[1].Data) != string(es[2].Data) {
		t.Fatalf("List after 1 = %+v, %v", got, err)
	}
}

func TestAppendIsPartOfTheCallersTransaction(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := context.Background()
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Append(ctx, tx, time.Now(), "run.requested", "ana", "ana/study", "run-1", nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n, err := Verify(ctx, db.R); err != nil || n != 0 {
		t.Fatalf("after rollback: %d entries, %v; want none", n, err)
	}
}

func TestTheLogRefusesUpdatesAndDeletes(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	appendN(t, db, 1)
	for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`} {
		if _, err := db.W.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		tamper string
		want   string
	}{
		"changed data":   {`UPDATE audit_log SET data = '{"actions":["b"]}' WHERE seq = 2`, "entry 2 (run.requested, 2026-11-25T09:00:01Z) was changed after it was written"},
		"removed entry":  {`DELETE FROM audit_log WHERE seq = 2`, "entry 2 was removed (the log goes from entry 1 to entry 3)"},
		"rewritten link": {`UPDATE audit_log SET prev_hash = hash WHERE seq = 3`, "entry 3 (run.requested, 2026-11-25T09:00:02Z) was changed after it was written"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := openDB(t)
			appendN(t, db, 3)
			// Someone with the database file can drop the guards; Verify still sees it.
			for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`, tc.tamper} {
				if _, err := db.W.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Verify(context.Background(), db.R)
			if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want %q", err, tc.want)
			}
		})
	}
}
