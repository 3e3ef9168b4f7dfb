package audit

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRecordConfigAppendsOnlyWhenTheFileChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	configs := func() []string {
		var out []string
		es, err := List(ctx, db.R, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Kind == KindConfigLoaded {
				out = append(out, string(e.Data))
			}
		}
		return out
	}
	steps := []struct {
		name     string
		sum      string
		other    bool // a decision is logged before this start
		headSeq  int64
		recorded int
	}{
		{name: "first start", sum: a, headSeq: 1, recorded: 1},
		{name: "restart, same file", sum: a, headSeq: 1, recorded: 1},
		{name: "restart after decisions, same file", sum: a, other: true, headSeq: 2, recorded: 1},
		{name: "changed file", sum: b, headSeq: 3, recorded: 2},
		{name: "changed back", sum: a, headSeq: 4, recorded: 3},
	}
	for i, s := range steps {
		if s.other {
			appendN(t, db, 1)
		}
		head, err := RecordConfig(ctx, db.W, at.Add(time.Duration(i)*time.Minute), s.sum)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := configs()
		if head.Seq != s.headSeq || len(got) != s.recorded || got[len(got)-1] != `{"sha256":"`+s.sum+`"}` {
			t.Fatalf("%s: head %d, config entries %v; want head %d, %d entries, the last with %s", s.name, head.Seq, got, s.headSeq, s.recorded, s.sum)
		}
		v, err := VerifyChain(ctx, db.R, VerifyOptions{Head: head.Hash})
		if err != nil || v.HeadSeq != head.Seq {
			t.Fatalf("%s: the returned head does not verify as the last entry: %+v, %v", s.name, v, err)
		}
	}
	es, _ := List(ctx, db.R, 0, 1)
	if e := es[0]; e.Actor != "fivesafes" || e.Repo != "" || e.Subject != "config" {
		t.Errorf("config entry %+v, want actor fivesafes, no repo, subject config", e)
	}
}

// Only a hash goes in: a caller passing the file itself, or a value, is refused.
func TestRecordConfigRefusesAnythingButAHash(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	for _, sum := range []string{"", "webhook_secret: 0123456789abcdef", strings.Repeat("A", 64), strings.Repeat("a", 63)} {
		_, err := RecordConfig(context.Background(), db.W, time.Now(), sum)
		if err == nil || (sum != "" && strings.Contains(err.Error(), sum)) {
			t.Errorf("RecordConfig(%q) = %v, want a refusal that does not repeat the value", sum, err)
		}
	}
	if n, err := Verify(context.Background(), db.R); err != nil || n != 0 {
		t.Fatalf("after refusals: %d entries, %v; want none", n, err)
	}
}
