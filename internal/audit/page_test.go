package audit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/store"
)

func TestPageFiltersNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, e := range []struct{ repo, subject string }{{"o/a", "r1"}, {"o/b", "r2"}, {"o/a", "j1"}, {"o/a", "r1"}, {"o/b", "r3"}} {
		tx, _ := db.W.Begin()
		if _, err := Append(ctx, tx, time.Unix(int64(i), 0), "k", "ana", e.repo, e.subject, map[string]any{"i": i}); err != nil {
			t.Fatal(err)
		}
		tx.Commit()
	}
	seqs := func(q Query) []int64 {
		es, err := Page(ctx, db.R, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for name, tc := range map[string]struct {
		q    Query
		want []int64
	}{
		"everything":            {Query{Limit: 10}, []int64{5, 4, 3, 2, 1}},
		"a page":                {Query{Limit: 2}, []int64{5, 4}},
		"the next page":         {Query{Before: 4, Limit: 2}, []int64{3, 2}},
		"one repository":        {Query{Repo: "o/a", Limit: 10}, []int64{4, 3, 1}},
		"a run and its job":     {Query{Subjects: []string{"r1", "j1"}, Limit: 10}, []int64{4, 3, 1}},
		"an unknown repository": {Query{Repo: "o/z", Limit: 10}, nil},
		"no limit is nothing":   {Query{}, nil},
	} {
		if got := seqs(tc.q); len(got) != len(tc.want) || (len(got) > 0 && (got[0] != tc.want[0] || got[len(got)-1] != tc.want[len(tc.want)-1])) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}
