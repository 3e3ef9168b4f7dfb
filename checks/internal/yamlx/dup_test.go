package yamlx

import (
	"fmt"
	"testing"
)

// TestFastDuplicatesMatchGeneral checks that a document the fast path
// reads but for duplicate keys gets the general path's error: the same
// duplicate, in the general path's order (key, value, then the check).
func TestFastDuplicatesMatchGeneral(t *testing.T) {
	for i, src := range []string{
		"a: 1\na: 2\n",
		"a: 1\nb: 2\na: 3\nb: 4\n",
		"a: 1\na: 2\nc:\n  x: 1\n  x: 2\n",     // the outer duplicate comes first
		"a:\n  x: 1\n  x: 2\na: 3\n",           // the inner one, in a's value, first
		"- a: 1\n  a: 2\n- b: 1\n  b: 1\n",     // in sequence order
		"'a': 1\n\"a\": 2\n",                   // quoting does not matter
		"1: a\n1: b\n",                         // int keys: the general path alone
		"a: 1\nb:\n  - c: 1\n    c: 2\na: 1\n", // nested in a list, before a's duplicate
		"x:\n  a: 1\n  a: 2\ny: [a, b\n",       // a syntax error after: the general path
		"x:\n  a: 1\n  a: 2\ny: 2021-02-30\n",  // an unconstructible date after
	} {
		if _, ok, _, dups := parseFastWith([]byte(src), nil); i < 6 && (!ok || len(dups) == 0) {
			t.Errorf("%q: the fast path did not read it", src)
		}
		_, fast := Parse([]byte(src))
		_, general := parseV3([]byte(src))
		if fmt.Sprint(fast) != fmt.Sprint(general) {
			t.Errorf("%q: Parse says %v, the general path %v", src, fast, general)
		}
		if fast == nil {
			t.Errorf("%q: no error", src)
		}
	}
}
