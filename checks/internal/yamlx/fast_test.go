package yamlx

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// generalMu serialises the tests' use of fastOff.
var generalMu sync.Mutex

// parseGeneral runs Parse with the fast path switched off.
func parseGeneral(src []byte) (n *Node, err error) {
	generalMu.Lock()
	defer generalMu.Unlock()
	fastOff.Store(true)
	defer fastOff.Store(false)
	return Parse(src)
}

// diffNodes describes the first difference between two trees, or "".
func diffNodes(path string, a, b *Node) string {
	if a == nil || b == nil {
		if a == b {
			return ""
		}
		return fmt.Sprintf("%s: fast %v, general %v", path, a, b)
	}
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Line != b.Line || a.Column != b.Column {
		return fmt.Sprintf("%s: fast {%d %s %q %d:%d}, general {%d %s %q %d:%d}", path,
			a.Kind, a.Tag, a.Value, a.Line, a.Column, b.Kind, b.Tag, b.Value, b.Line, b.Column)
	}
	if (a.Content == nil) != (b.Content == nil) || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s (%d:%d): fast has %d children (nil %v), general %d (nil %v)", path,
			a.Line, a.Column, len(a.Content), a.Content == nil, len(b.Content), b.Content == nil)
	}
	for i := range a.Content {
		if d := diffNodes(fmt.Sprintf("%s/%d", path, i), a.Content[i], b.Content[i]); d != "" {
			return d
		}
	}
	return ""
}

// checkFast compares the fast path with the general path on src. Where the
// fast path answers, the general path must accept and build the identical
// tree, or else (a value the fast path cannot judge, such as 2021-02-30)
// Parse must still give the general path's error. It returns whether the
// fast path's answer stands and a description of any divergence.
func checkFast(src []byte) (answered bool, divergence string) {
	fast, ok := parseFast(src)
	if !ok {
		return false, "" // Parse is the general path
	}
	gen, gerr := parseGeneral(src)
	if gerr == nil {
		return true, diffNodes("", fast, gen)
	}
	_, err := Parse(src)
	if err == nil {
		return true, fmt.Sprintf("fast path accepted what the general path rejects: %v", gerr)
	}
	if err.Error() != gerr.Error() {
		return false, fmt.Sprintf("Parse: error %q, general path: error %q", err, gerr)
	}
	return false, ""
}

// fastSnippets are tricky inputs. want: 1 = the fast path must answer,
// 0 = it may decline, -1 = it must decline. Every answer is compared with
// the general path.
var fastSnippets = []struct {
	name string
	src  string
	want int
}{
	{"simple", "version: '3.0'\nactions:\n  a:\n    run: r:latest x.R\n", 1},
	{"crlf", "version: '3.0'\r\nactions:\r\n  a:\r\n    run: >\r\n      r:latest\r\n      x.R\r\n", 1},
	{"bom", "\xef\xbb\xbfa: 1\nb: 2\n", 1},
	{"no final newline", "a: b", 1},
	{"top scalar", "hello", 1},
	{"top multi-line scalar", "hello\nworld\n\n  again", 1},
	{"top seq", "- a\n- b\n", 1},
	{"top seq indented", "  - a\n  - b\n", 1},
	{"top map indented", "   a: 1\n   b: 2\n", 1},
	{"null values", "a:\nb: ~\nc: null\nd:   # c\ne:", 1},
	{"null items", "-\n- \n-  # c\n- x\n-", 1},
	{"indentless seq", "a:\n- x\n- y\nb: 1\n", 1},
	{"indentless seq of maps", "a:\n- x: 1\n  y: 2\n- z: 3\nb: 1\n", 1},
	{"indentless seq null item", "a:\n-\n- x\nb:\n-\n", 1},
	{"compact nesting", "- - a\n  - b\n- - - c\n    - d\n  - e\n", 1},
	{"compact map in seq", "- a: 1\n  b: 2\n-   c: 3\n    d:\n      - e\n", 1},
	{"compact map value indentless seq", "- a:\n  - x\n  b: 2\n", 1},
	{"seq item on next line", "-\n  a: 1\n-\n   - b\n-\n  plain\n", 1},
	{"nested", "a:\n  b:\n    c:\n      d: e\n  f: g\nh: i\n", 1},
	{"comments everywhere", "# head\na: 1 # line\n  # indented\n# col0\nb:\n  # before\n  - x # after\n  # between\n  - y\n# foot\n", 1},
	{"comment after key", "a: # c\n  b: 1\n", 1},
	{"blank lines", "\n\na: 1\n\n\nb:\n\n  - x\n\n  - y\n\n\n", 1},
	{"spaces before colon", "a   : 1\n\"b\"  : 2\n", 1},
	{"colon in plain", "a: http://x.y/z\nb: a:b:c\nc: x:\"y\"\n", 1},
	{"hash in plain", "a: b#c\nb: c # d\nc: x#\n", 1},
	{"plain with indicators inside", "a: x - y [z] {w}, v & * ! | > ' \" % @ `\n", 1},
	{"plain leading dash", "a: -1\nb: --output x\n- x: 1\n", -1},
	{"plain leading dash ok", "a: -1\nb: --output x\nc: -x\n", 1},
	{"multi-line plain", "run: cohortextractor:latest generate_cohort\n  --study-definition study_definition\n  --output-dir=output\nb: 1\n", 1},
	{"multi-line plain blank lines", "a: one\n  two\n\n  three\n\n\n   four\n\nb: 2\n", 1},
	{"multi-line plain at key indent", "a: one\nb: two\n", 1},
	{"multi-line plain dedent ok", "a:\n    one\n  two\n three\nb: 1\n", 1},
	{"multi-line plain comment end", "a: one\n  two # c\nb: 1\n", 1},
	{"multi-line plain comment line", "a: one\n  # c\n  two\n", -1},
	{"multi-line plain then key", "a: one\n  b: two\n", -1},
	{"multi-line in seq", "- one\n  two\n- three\n four\n", 1},
	{"multi-line in compact map", "- a: one\n    two\n  b: x\n", 1},
	{"multi-line in compact map too little", "- a: one\n  two\n", -1},
	{"trailing spaces", "a: b   \nc: 'd'   \ne: |  \n  x  \n", 1},
	{"single quoted", "a: 'it''s'\nb: ''\nc: 'x\"y\\n'\n", 1},
	{"double quoted escapes", `a: "x\ty\n\"q\" \\ \0 \a \b \v \f \r \e \  \N \_ \L \P \x41 \u00e9 \U0001F600"` + "\n", 1},
	{"double quoted bad escape", `a: "\q"` + "\n", -1},
	{"double quoted slash escape", `a: "\/"` + "\n", -1},
	{"double quoted surrogate", `a: "\ud800"` + "\n", -1},
	{"quoted multi-line", "a: \"one\n  two\n\n  three  \n   four\"\nb: 'x\n  y\n\n\n  z'\n", 1},
	{"quoted multi-line escaped break", "a: \"one \\\n  two\\\n\n  three\"\n", 1},
	{"quoted multi-line at col 0", "a: \"one\ntwo\"\n", 0},
	{"quoted leading/trailing spaces", "a: '  x  '\nb: \"  \"\n", 1},
	{"quoted key", "'a b': 1\n\"c\\td\": 2\n'': 3\n", 1},
	{"quoted value then colon", "a: 'b': c\n", -1},
	{"literal", "a: |\n  line1\n   more\n\n  line3\n\nb: 1\n", 1},
	{"literal strip keep", "a: |-\n  x\n\n\nb: |+\n  y\n\n\nc: >-\n  z\n\nd: >+\n  w\n\n", 1},
	{"literal indicator", "a: |2\n    x\n  y\nb: >1-\n  z\nc: |-3\n     w\n", 1},
	{"literal indicator in seq", "- |1\n  x\n- >2+\n   y\n\n", 1},
	{"folded", "a: >\n  one\n  two\n\n  three\n    indented\n  four\n\n\n  five\nb: 1\n", 1},
	{"folded more indented", "a: >\n  x\n   y\n  z\n\n   w\n  v\n", 1},
	{"block scalar header comment", "a: | # c\n  x\nb: >- #c\n  y\n", 1},
	{"block scalar empty", "a: |\nb: >\n\nc: |+\n\n", 1},
	{"block scalar at eof", "a: |", 1},
	{"block scalar at eof 2", "a: >\n  x", 1},
	{"block scalar trailing space lines", "a: |\n  x\n     \n  \n  y\n   \nb: 1\n", 1},
	{"block scalar leading blank lines", "a: |\n\n  \n  x\n", 1},
	{"block scalar leading blank lines deeper", "a: |\n      \n  x\n", 0},
	{"block scalar less indented content", "a: |\nb: 1\n", 0},
	{"block scalar with hash lines", "a: |\n  # not a comment\n  x\n# comment\nb: 1\n", 1},
	{"block scalar top", "|\n x\n y\n", 1},
	{"block scalar top indicator", ">2\n   x\n  y\n", 1},
	{"block scalar bad header", "a: |x\n  y\n", -1},
	{"block scalar zero indicator", "a: |0\n  y\n", -1},
	{"block scalar dedent comment", "a: |\n    x\n  # c\n    y\n", -1},
	{"flow seq", "a: [x, 'y', \"z\", 1, -2, a b]\nb: []\nc: [ ]\nd: [x]\n", 1},
	{"flow map", "a: {x: 1, 'y': \"2\", z: w}\nb: {}\nc: { }\n", 1},
	{"flow seq trailing comma", "a: [x, ]\nb: [x,]\nc: {x: y, }\n", 1},
	{"flow seq empty entry", "a: [x, , y]\n", -1},
	{"flow seq only comma", "a: [,]\n", -1},
	{"flow seq multi-line", "a: [x,\n  y]\nb: [\n  x, # c\n  # d\n\n  y,\n  ]\nc: [x\n   , y\n   ]\n", 1},
	{"flow map multi-line", "a: {x: 1,\n  y: 2\n  }\n", 1},
	{"flow seq multi-line col 0", "a: [x,\ny]\n", 1},
	{"flow seq multi-line plain", "a: [x\n  y, z\n\n  w\n\n\n   v\n, u\n  ]\n", 1},
	{"flow seq multi-line plain comment", "a: [x # c\n  y]\n", 0},
	{"flow seq hash", "a: [x#y, z]\n", 1},
	{"flow map multi-line value", "a: {x: y\n  z, w: v}\n", 1},
	{"flow map multi-line key", "a: {x\n  y: z}\n", 0},
	{"flow seq multi-line in seq", "- [a,\n  b]\n- {c: d,\n   e: f}\n", 1},
	{"flow seq comment no space", "a: [x,#c\n  y]\n", 0},
	{"flow seq unclosed", "a: [x,\n  y\n", -1},
	{"flow seq nested", "a: [x, [y]]\n", 0},
	{"flow seq then text", "a: [x] y\n", -1},
	{"flow seq key", "[a]: b\n", -1},
	{"flow colon", "a: [x:y]\n", 0},
	{"flow top", "[a, b]\n", 1},
	{"flow map dup", "a: {x: 1, x: 2}\n", -1},
	{"unicode", "a: é ü 日本\n日本: 'ñ'\nb: [é, ü]\nc: {é: x}\n\"é\": y\n", 1},
	{"unicode columns", "é: [a, ü, c]\nü: {x: ñ}\n", 1},
	{"int key", "2017: a\n2017_b: c\n", 1},
	{"int keys", "2017: a\n2018: b\n0: c\n", 1},
	{"int keys same value", "1: a\n0x1: b\n", -1},
	{"int keys leading zero", "1: a\n01: b\n", -1},
	{"int and float keys", "1: a\n1.0: b\n", -1},
	{"int and bool keys", "1: a\ntrue: b\n", -1},
	{"int keys underscore", "10: a\n1_0: b\n", -1},
	{"one float key", "1.0: a\nb: c\n", 1},
	{"int and str key", "2017: a\n'2017': b\n", -1},
	{"bool and null keys", "true: a\n~: b\n", -1},
	{"value key", "=: a\n", -1},
	{"value value", "a: =\n", 1},
	{"bad date", "a: 2021-02-30\n", 0},
	{"bad int", "a: +_\n", 0},
	{"bad date key", "2021-02-30: a\n", 0},
	{"scalar types", "a: 1\nb: 1.5\nc: true\nd: 2021-01-01\ne: 0x1F\nf: .inf\ng: yes\nh: 4_0\n", 1},
	{"duplicate keys", "a: 1\na: 2\n", -1},
	{"duplicate nested keys", "a:\n  b: 1\n  b: 2\n", -1},
	{"duplicate quoted keys", "a: 1\n'a': 2\n", -1},
	{"many keys", strings.Repeat("k", 0) + manyKeys(40), 1},
	{"many keys dup", manyKeys(40) + "k7: x\n", -1},
	{"anchor", "a: &x 1\nb: *x\n", -1},
	{"merge", "a: &x {b: 1}\nc:\n  <<: *x\n", -1},
	{"merge plain", "<<: {b: 1}\n", -1},
	{"tag", "a: !foo x\n", -1},
	{"tag2", "a: !!str 1\n", -1},
	{"directive", "%YAML 1.2\n---\na: 1\n", -1},
	{"doc start", "---\na: 1\n", 0},
	{"doc end", "a: 1\n...\n", 0},
	{"two docs", "a: 1\n---\nb: 2\n", -1},
	{"complex key", "? a\n: b\n", -1},
	{"tab indent", "a:\n\tb: 1\n", -1},
	{"tab after value", "a: 1\t\n", -1},
	{"lone cr", "a: 1\rb: 2\n", -1},
	{"nul", "a: \x00\n", -1},
	{"c1 control", "a: \xc2\x85\n", -1},
	{"invalid utf8", "a: \xff\n", -1},
	{"bom inside", "a: \xef\xbb\xbfx\n", -1},
	{"bad indentation", "a:\n    b: 1\n  c: 2\n", -1},
	{"bad indentation 2", "a: 1\n  b: 2\n", -1},
	{"bad seq indentation", "a:\n  - x\n - y\n", -1},
	{"seq in map", "a: 1\n- b\n", -1},
	{"map in seq", "- a\nb: 1\n", -1},
	{"mapping values not allowed", "a: b: c\n", -1},
	{"unquoted colon in run", "run: echo a: b\n", -1},
	{"trailing colon", "a: b:\n", -1},
	{"merge conflict", "a: 1\n<<<<<<< HEAD\nb: 2\n=======\nb: 3\n>>>>>>> x\n", -1},
	{"seq value inline", "a: - b\n", -1},
	{"empty", "", -1},
	{"comments only", "# x\n\n# y\n", 0},
	{"spaces only", "   \n  \n", 0},
	{"key too long", strings.Repeat("k", 1100) + ": v\n", -1},
	{"unclosed quote", "a: 'x\n", -1},
	{"unclosed dquote", "a: \"x\n\n", -1},
	{"merge value", "a: <<\n", -1},
	{"question plain", "a: ?x\n", 0},
	{"colon plain", "a: :x\n", 0},
	{"nested null seqs", "- -\n  -\n- - - \n-   -\n", 1},
	{"indentless with col-0 comments", "a:\n# c\n- x\n# d\n\n- y\n# e\nb: 1\n", 1},
	{"value after blank lines", "a:   \n\n   value\nb:\n\n\n  - x\n", 1},
	{"comment after dash", "- # c\n  a: 1\n  b: 2\n- # d\n\n  - x\n", 1},
	{"block scalar items", "- |\n  x\n- y\n- >-\n   z\n\n- |+\n  w\n\n", 1},
	{"block scalar in indentless seq", "a:\n- |\n  x\n- >-\n  y\n   z\nb: 1\n", 1},
	{"block scalar min indent", "- |\n x\n- >\n  y\n", 1},
	{"block scalar then deeper key", "a: |\n  x\n b: 1\n", -1},
	{"flow on next line", "a:\n  [x, y]\nb:\n  {c: d}\n", 1},
	{"quoted on next line", "a:\n  'x\n  y'\nb:\n  \"z\"\n", 1},
	{"quoted key on next line", "a:\n  'x': 1\n  \"y\": 2\n", 1},
	{"key with trailing spaces", "a  :\n  b   : 1\n", 1},
	{"compact seq in compact map", "- a:\n  - x\n  - y\n  b: 1\n", 1},
	{"keys with colons", "a:b: 1\nhttp://x: 2\n", 1},
	{"plain with trailing colon key", "a: b\nc:\n", 1},
	{"crlf block scalar keep", "a: |+\r\n  x\r\n\r\n\r\nb: >\r\n  y\r\n  z\r\n", 1},
	{"crlf quoted", "a: 'x\r\n  y'\r\nb: \"p\\\r\n  q\"\r\n", 1},
	{"crlf flow", "a: [x,\r\n  y]\r\n", 1},
	{"crlf multi-line plain", "a: x\r\n  y\r\n\r\n  z\r\n", 1},
	{"top quoted multi-line", "'a\nb'\n", 1},
	{"top flow multi-line", "[a,\nb]\n", 1},
	{"null value then deeper comment", "a:\n    # comment\nb: 1\n", 1},
	{"crlf trailing colon", "a: b:\r\n", -1},
	{"flow then comment", "a: [x] # c\nb: {y: z}   # d\n", 1},
	{"reserved indicators", "a: @x\n", -1},
	{"percent value", "a: %x\n", -1},
	{"deep", deepMap(150), -1},
	{"deep ok", deepMap(50), 1},
	{"deep seq", strings.Repeat("- ", 150) + "x\n", -1},
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "k%d: v%d\n", i, i)
	}
	return b.String()
}

func deepMap(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%sk:\n", strings.Repeat(" ", i))
	}
	return b.String()
}

func TestFastSnippets(t *testing.T) {
	for _, tc := range fastSnippets {
		t.Run(tc.name, func(t *testing.T) {
			answered, div := checkFast([]byte(tc.src))
			if div != "" {
				t.Fatalf("divergence on %q: %s", tc.src, div)
			}
			switch {
			case tc.want == 1 && !answered:
				t.Errorf("fast path declined %q", tc.src)
			case tc.want == -1 && answered:
				t.Errorf("fast path answered %q", tc.src)
			}
		})
	}
}

// TestFastRegressions replays testdata/fast/*.yaml: documents that
// combine the subset's features (answer_*.yaml, which the fast path must
// answer) and inputs that once made it diverge.
func TestFastRegressions(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fast", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no testdata/fast/*.yaml")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		answered, div := checkFast(src)
		if div != "" {
			t.Errorf("%s: %s", f, div)
		}
		if !answered && strings.HasPrefix(filepath.Base(f), "answer_") {
			t.Errorf("%s: fast path declined", f)
		}
	}
}

// corpusFiles returns the real-world project.yaml corpus: the copy in
// checks/testdata/corpus, else the shared one.
func corpusFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	for _, dir := range []string{
		filepath.Join("..", "..", "testdata", "corpus"),
		"/work/shared/corpus/project-yaml/real",
	} {
		var names []string
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				names = append(names, path)
			}
			return nil
		})
		if len(names) == 0 {
			continue
		}
		files := make(map[string][]byte, len(names))
		for _, name := range names {
			src, err := os.ReadFile(name)
			if err != nil {
				tb.Fatal(err)
			}
			files[name] = src
		}
		return files
	}
	tb.Skip("no project.yaml corpus found (checks/testdata/corpus)")
	return nil
}

func TestFastCorpus(t *testing.T) {
	files := corpusFiles(t)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var answered, bytesAll, bytesAnswered int
	var declined []string
	for _, name := range names {
		src := files[name]
		bytesAll += len(src)
		ok, div := checkFast(src)
		if div != "" {
			t.Errorf("%s: %s", filepath.Base(name), div)
		}
		if ok {
			answered++
			bytesAnswered += len(src)
		} else if n, err := parseGeneral(src); err == nil && n != nil {
			declined = append(declined, filepath.Base(name))
		}
	}
	t.Logf("fast path answered %d of %d corpus files (%.1f%%), %.1f%% of bytes",
		answered, len(names), 100*float64(answered)/float64(len(names)),
		100*float64(bytesAnswered)/float64(bytesAll))
	for _, name := range declined {
		t.Logf("declined although the general path accepts: %s", name)
	}
	if answered*100 < len(names)*95 {
		t.Errorf("fast path coverage below 95%%")
	}
}

// TestFastLinear feeds large hostile inputs and checks the time grows
// linearly and nothing panics.
func TestFastLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	gens := map[string]func(n int) []byte{
		"junk": func(n int) []byte {
			b := make([]byte, n)
			x := uint32(1)
			for i := range b {
				x = x*1664525 + 1013904223
				b[i] = " -:#'\"[]{},|>\nab"[x>>28]
			}
			return b
		},
		"long line": func(n int) []byte { return bytes.Repeat([]byte("ab "), n/3) },
		"long flow": func(n int) []byte {
			return append(append([]byte("a: ["), bytes.Repeat([]byte("é, "), n/4)...), "x]\n"...)
		},
		"many keys": func(n int) []byte {
			var b bytes.Buffer
			for i := 0; b.Len() < n; i++ {
				fmt.Fprintf(&b, "key%d: value\n", i)
			}
			return b.Bytes()
		},
		"long plain": func(n int) []byte {
			return append([]byte("a: x\n"), bytes.Repeat([]byte("  word word\n"), n/12)...)
		},
		"unclosed quotes": func(n int) []byte { return bytes.Repeat([]byte("- 'x\n"), n/5) },
		"deep seq":        func(n int) []byte { return bytes.Repeat([]byte("- "), n/2) },
	}
	best := func(src []byte) time.Duration {
		d := time.Duration(1 << 62)
		for i := 0; i < 3; i++ {
			t0 := time.Now()
			parseFast(src)
			d = min(d, time.Since(t0))
		}
		return d
	}
	for name, gen := range gens {
		d1, d2 := best(gen(3<<18)), best(gen(3<<20))
		t.Logf("%s: 0.75 MB %v, 3 MB %v", name, d1, d2)
		// 4 times the input; allow for noise, not for quadratic growth
		if d2 > 12*d1+100*time.Millisecond {
			t.Errorf("%s: superlinear: 0.75 MB %v, 3 MB %v", name, d1, d2)
		}
	}
	// Beyond the size limit the fast path declines at once.
	if _, ok := parseFast(bytes.Repeat([]byte("a"), 10<<20)); ok {
		t.Errorf("10 MB input answered")
	}
}
