package web

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAgo(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0:                           "just now",
		59 * time.Second:            "just now",
		time.Minute:                 "1 minute ago",
		5*time.Minute + time.Second: "5 minutes ago",
		time.Hour:                   "1 hour ago",
		47 * time.Hour:              "47 hours ago",
		48 * time.Hour:              "2 days ago",
		400 * 24 * time.Hour:        "400 days ago",
		-3 * time.Minute:            "3 minutes from now",
		-10 * time.Second:           "in less than a minute",
	} {
		if got := ago(d); got != want {
			t.Errorf("ago(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		-time.Second:                  "0s",
		0:                             "0s",
		400 * time.Millisecond:        "0s",
		12 * time.Second:              "12s",
		3*time.Minute + 4*time.Second: "3m 04s",
		2*time.Hour + 5*time.Minute + 59*time.Second: "2h 05m",
		50 * time.Hour: "2d 2h",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 bytes", 1: "1 byte", 1023: "1023 bytes", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 2 << 40: "2.0 TiB", 5000 << 40: "5000.0 TiB"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestValidRepo(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"octo-org/study": true, "a/b": true, "Octo/my.repo_2": true, "a-b/.github": true,
		"": false, "octo": false, "a/b/c": false, "/b": false, "a/": false, "-a/b": false, "a b/c": false,
		"a/..": false, "a/.": false, strings.Repeat("a", 40) + "/b": false, "a/" + strings.Repeat("b", 101): false,
		"<x>/y": false, "a/b?c": false,
	} {
		if got := validRepo(s); got != want {
			t.Errorf("validRepo(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		data string
		want []field
	}{
		"in the object's order":  {`{"z":1,"a":"x","m":true}`, []field{{"z", "1"}, {"a", "x"}, {"m", "true"}}},
		"big numbers as written": {`{"n":12345678901234567890,"f":1.50}`, []field{{"n", "12345678901234567890"}, {"f", "1.50"}}},
		"lists of words":         {`{"by":["ana","ben"],"none":[],"mixed":[1,"a",false]}`, []field{{"by", "ana, ben"}, {"none", "none"}, {"mixed", "1, a, false"}}},
		"objects as JSON":        {`{"files":[{"path":"a"}],"o":{"k": "v"}}`, []field{{"files", `[{"path":"a"}]`}, {"o", `{"k":"v"}`}}},
		"null":                   {`{"x":null}`, []field{{"x", "null"}}},
		"no data":                {``, nil},
		"empty":                  {`{}`, nil},
		"not an object":          {`[1,2]`, []field{{"data", "[1,2]"}}},
		"not JSON":               {`{"a":`, []field{{"data", `{"a":`}}},
	}
	for name, tc := range cases {
		if got := fields(json.RawMessage(tc.data)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: fields(%s) = %q, want %q", name, tc.data, got, tc.want)
		}
	}

	long := fields(json.RawMessage(`{"reason":"` + strings.Repeat("é", 400) + `"}`))
	if n := len([]rune(long[0].Value)); n != maxFieldValue+1 || !strings.HasSuffix(long[0].Value, "…") {
		t.Errorf("a long value is %d characters, want %d and an ellipsis", n, maxFieldValue+1)
	}

	var many strings.Builder
	many.WriteString("{")
	for i := range 40 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"k` + strings.Repeat("x", i) + `":1`)
	}
	many.WriteString("}")
	if got := fields(json.RawMessage(many.String())); len(got) != maxFields+1 || got[maxFields].Key != "…" {
		t.Errorf("40 fields shown as %d, want %d and a note", len(got), maxFields+1)
	}
}

func TestKindWords(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]string{
		"run.requested":         "run requested",
		"job.state":             "job changed state",
		"release.file_received": "file received",
		"release.something_new": "release something new",
	} {
		if got := kind(k); got != want {
			t.Errorf("kind(%q) = %q, want %q", k, got, want)
		}
	}
}
