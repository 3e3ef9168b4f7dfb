package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// canonicalHash is the package comment's encoding, written again from the
// words so that a change to the code's encoding fails here.
func canonicalHash(prevHash string, seq int64, at, kind, actor, repo, subject, data string) string {
	var b strings.Builder
	for _, f := range []string{prevHash, fmt.Sprint(seq), at, kind, actor, repo, subject, data} {
		fmt.Fprintf(&b, "%d:%s\n", len(f), f)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func TestExportWritesEveryEntryAsStoredOneALine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	at := time.Date(2026, 12, 3, 9, 41, 0, 123456000, time.UTC)
	var want []Entry
	for i, f := range []struct {
		kind, actor, repo, subject string
		data                       any
	}{
		{"config.loaded", "fivesafes", "", "config", map[string]string{"sha256": strings.Repeat("a", 64)}},
		{"run.requested", "ana", "ana/study", "run-1", map[string]any{"actions": []string{"a", "b"}, "note": "<b>&\u00e9\n"}},
		{"job.state", "tpp", "ana/study", "run-1/\"a\"\t\\", nil},
		{"release.review", "ben", "ana/study", "rel-1", []int{1, 2}},
	} {
		tx, err := db.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		e, err := Append(ctx, tx, at.Add(time.Duration(i)*time.Second), f.kind, f.actor, f.repo, f.subject, f.data)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}

	var out bytes.Buffer
	n, err := Export(ctx, db.R, &out, 0)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("Export = %d, %v; want %d entries", n, err, len(want))
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &keys); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		if got := slices.Sorted(func(yield func(string) bool) {
			for k := range keys {
				if !yield(k) {
					return
				}
			}
		}); !slices.Equal(got, []string{"actor", "at", "data", "hash", "kind", "prev_hash", "repo", "seq", "subject"}) {
			t.Errorf("line %d has keys %v", i+1, got)
		}
		var got Entry
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if got.Seq != w.Seq || !got.At.Equal(w.At) || got.Kind != w.Kind || got.Actor != w.Actor || got.Repo != w.Repo ||
			got.Subject != w.Subject || string(got.Data) != string(w.Data) || got.PrevHash != w.PrevHash || got.Hash != w.Hash {
			t.Errorf("line %d decodes to\n%+v\nwant\n%+v", i+1, got, w)
		}
		var raw struct{ At string }
		json.Unmarshal([]byte(line), &raw)
		if h := canonicalHash(got.PrevHash, got.Seq, raw.At, got.Kind, got.Actor, got.Repo, got.Subject, string(got.Data)); h != got.Hash {
			t.Errorf("line %d: the fields as exported hash to %s, not %s", i+1, h, got.Hash)
		}
	}

	out.Reset()
	if n, err := Export(ctx, db.R, &out, 2); err != nil || n != 2 || !strings.HasPrefix(out.String(), `{"seq":3,`) {
		t.Errorf("Export after 2 = %d, %v:\n%s", n, err, out.String())
	}
}

func TestExportStopsAtDataThatIsNotJSON(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	appendN(t, db, 3)
	tamper(t, db, `UPDATE audit_log SET data = '{"actions":' WHERE seq = 2`)
	var out bytes.Buffer
	n, err := Export(context.Background(), db.R, &out, 0)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "entry 2: its data is not JSON") {
		t.Fatalf("Export = %d, %v; want 1 entry, then an error about entry 2", n, err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportReportsAWriteError(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	appendN(t, db, 400) // more than the 64 KiB buffer: the error comes mid-walk
	n, err := Export(context.Background(), db.R, failingWriter{}, 0)
	if err == nil || !strings.Contains(err.Error(), "disk full") || n >= 400 {
		t.Fatalf("Export = %d, %v; want the write error before the end", n, err)
	}
}
