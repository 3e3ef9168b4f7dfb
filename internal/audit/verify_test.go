package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/store"
)

// tamper drops the guards, as anyone with the database file can, and runs qs.
func tamper(t *testing.T, db *store.DB, qs ...string) {
	t.Helper()
	for _, q := range append([]string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}, qs...) {
		if _, err := db.W.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestVerifyChainNamesTheFirstBadEntry(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	appendN(t, db, 5)
	tamper(t, db, `UPDATE audit_log SET actor = 'mallory' WHERE seq IN (3, 4)`)
	v, err := VerifyChain(context.Background(), db.R, VerifyOptions{})
	var b *BrokenError
	if !errors.As(err, &b) || !errors.Is(err, ErrBroken) {
		t.Fatalf("VerifyChain = %v, want a *BrokenError wrapping ErrBroken", err)
	}
	want := BrokenError{Seq: 3, Kind: "run.requested", At: "2026-11-25T09:00:02Z", Problem: "was changed after it was written"}
	if *b != want {
		t.Errorf("BrokenError = %+v, want %+v", *b, want)
	}
	if v.Entries != 2 {
		t.Errorf("Entries = %d, want the 2 that held", v.Entries)
	}
}

// The time is hashed as stored: the same instant spelled another way is a change.
func TestVerifyChainHashesTheTimeAsStored(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	appendN(t, db, 3)
	tamper(t, db, `UPDATE audit_log SET at = '2026-11-25T09:00:01+00:00' WHERE seq = 2`)
	_, err := VerifyChain(context.Background(), db.R, VerifyOptions{})
	if want := "entry 2 (run.requested, 2026-11-25T09:00:01+00:00) was changed after it was written"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("VerifyChain = %v, want %q", err, want)
	}
}

func TestVerifyChainChecksARecordedHead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	es := appendN(t, db, 6)
	cases := map[string]struct {
		head    string
		headSeq int64
		err     string
	}{
		"no head":                         {head: "", headSeq: 0},
		"the last entry":                  {head: es[5].Hash, headSeq: 6},
		"an entry the log has grown past": {head: es[2].Hash, headSeq: 3},
		"written in capitals":             {head: strings.ToUpper(es[5].Hash), headSeq: 6},
		"a hash the log lacks": {head: strings.Repeat("ab", 32),
			err: "entry 7 is missing: the log ends at entry 6 (run.requested, 2026-11-25T09:00:05Z), and the recorded head " + strings.Repeat("ab", 32) + " is not in it"},
		"not a hash": {head: "abc", err: `recorded head "abc" is not an entry hash: want 64 hex digits`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, err := VerifyChain(ctx, db.R, VerifyOptions{Head: tc.head})
			if tc.err == "" {
				if err != nil || v.Entries != 6 || v.Head != es[5].Hash || v.HeadSeq != tc.headSeq {
					t.Fatalf("VerifyChain = %+v, %v; want 6 entries, head %s, head seq %d", v, err, es[5].Hash, tc.headSeq)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("VerifyChain = %v, want %q", err, tc.err)
			}
			if errors.Is(err, ErrBroken) != strings.HasPrefix(tc.err, "entry") {
				t.Errorf("errors.Is(%v, ErrBroken) = %v: a bad flag is not a broken log", err, errors.Is(err, ErrBroken))
			}
		})
	}
}

func TestVerifyChainOfAnEmptyLog(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	v, err := VerifyChain(context.Background(), db.R, VerifyOptions{})
	if err != nil || v.Entries != 0 || v.Head != genesis {
		t.Fatalf("VerifyChain = %+v, %v; want 0 entries, head %s", v, err, genesis)
	}
	_, err = VerifyChain(context.Background(), db.R, VerifyOptions{Head: strings.Repeat("0", 63) + "1"})
	var b *BrokenError
	if !errors.As(err, &b) || b.Seq != 1 || !strings.Contains(b.Problem, "the log is empty") {
		t.Fatalf("VerifyChain with a head = %v, want entry 1 missing from an empty log", err)
	}
}

func TestBrokenErrorShowsStrangeFieldsQuoted(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		b    BrokenError
		want string
	}{
		"plain":    {BrokenError{Seq: 4, Kind: "job.state", At: "2026-12-03T09:41:00Z", Problem: "was changed"}, "entry 4 (job.state, 2026-12-03T09:41:00Z) was changed"},
		"escape":   {BrokenError{Seq: 4, Kind: "job\x1b[2J", At: "", Problem: "was changed"}, `entry 4 ("job\x1b[2J", "") was changed`},
		"long":     {BrokenError{Seq: 4, Kind: strings.Repeat("k", 70), At: "t", Problem: "was changed"}, `entry 4 ("` + strings.Repeat("k", 64) + `...", t) was changed`},
		"missing":  {BrokenError{Seq: 9, Problem: "was removed"}, "entry 9 was removed"},
		"bad utf8": {BrokenError{Seq: 4, Kind: "a\xffb", At: "t", Problem: "was changed"}, `entry 4 ("a\xffb", t) was changed`},
	}
	for name, tc := range cases {
		if got := tc.b.Error(); got != ErrBroken.Error()+": "+tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}

const benchEntries = 100_000

// benchLog is a log of benchEntries entries, shaped like job state changes.
func benchLog(b *testing.B) *store.DB {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, b.TempDir()+"/audit.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for i := range benchEntries {
		data := map[string]any{"status": "executing", "job": fmt.Sprintf("job-%d", i), "backend": "tpp", "attempt": 1}
		if _, err := Append(ctx, tx, at.Add(time.Duration(i)*time.Millisecond), "job.state", "tpp", "ana/study", fmt.Sprintf("run-%d", i/10), data); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkVerifyChain walks a log of 100,000 entries.
func BenchmarkVerifyChain(b *testing.B) {
	db := benchLog(b)
	b.ReportAllocs()
	for b.Loop() {
		v, err := VerifyChain(context.Background(), db.R, VerifyOptions{})
		if err != nil || v.Entries != benchEntries {
			b.Fatalf("VerifyChain = %+v, %v", v, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchEntries, "ns/entry")
}

// BenchmarkExport writes a log of 100,000 entries.
func BenchmarkExport(b *testing.B) {
	db := benchLog(b)
	b.ReportAllocs()
	for b.Loop() {
		n, err := Export(context.Background(), db.R, io.Discard, 0)
		if err != nil || n != benchEntries {
			b.Fatalf("Export = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchEntries, "ns/entry")
}
