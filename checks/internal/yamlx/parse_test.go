package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// render prints a tree compactly: strings quoted, other scalars as
// tag(value), mappings {k: v}, sequences [a, b].
func render(n *Node) string {
	if n == nil {
		return "<nil>"
	}
	switch n.Kind {
	case Mapping:
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, render(n.Content[i])+": "+render(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case Sequence:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = render(c)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	if n.Tag == TagStr {
		return fmt.Sprintf("%q", n.Value)
	}
	return strings.TrimPrefix(n.Tag, "!!") + "(" + n.Value + ")"
}

func TestParseTrees(t *testing.T) {
	cases := map[string]struct{ src, want string }{
		"types": {"a: 1\nb: 1.5\nc: true\nd: 2021-01-01\ne: 0x1F\nf: .inf\ng: yes\nh: 4_0\ni: ~\nj:\nk: '1'\n",
			`{"a": int(1), "b": float(1.5), "c": bool(true), "d": timestamp(2021-01-01), "e": int(0x1F), "f": float(.inf), "g": "yes", "h": int(4_0), "i": null(~), "j": null(), "k": "1"}`},
		"int keys":        {"2017: a\ntrue: b\n~: c\n", `{int(2017): "a", bool(true): "b", null(~): "c"}`},
		"bom and crlf":    {"\xef\xbb\xbfa: 1\r\nb: |\r\n  x\r\n", `{"a": int(1), "b": "x\n"}`},
		"merge":           {"base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n  z: 4\n", `{"base": {"x": int(1), "y": int(2)}, "m": {"y": int(3), "z": int(4), "x": int(1)}}`},
		"merge list":      {"a: &a {x: 1}\nb: &b {x: 2, y: 2}\nm:\n  <<: [*a, *b]\n", `{"a": {"x": int(1)}, "b": {"x": int(2), "y": int(2)}, "m": {"x": int(1), "y": int(2)}}`},
		"merge inline":    {"m: {<<: {x: 1, w: 0}, x: 2}\n", `{"m": {"x": int(2), "w": int(0)}}`},
		"merge of merge":  {"a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b}\n", `{"a": {"x": int(1)}, "b": {"y": int(2), "x": int(1)}, "c": {"y": int(2), "x": int(1)}}`},
		"merge empty seq": {"m:\n  <<: []\n  <<: {x: 1}\n", `{"m": {"x": int(1)}}`},
		"quoted merge":    {"\"<<\": x\n", `{"<<": "x"}`},
		"alias":           {"a: &a [1, x]\nb: *a\n", `{"a": [int(1), "x"], "b": [int(1), "x"]}`},
		"alias key":       {"a: &k key\n*k : v\n", `{"a": "key", "key": "v"}`},
		"merge value":     {"a: <<\nb: =\n=: c\n", `{"a": merge(<<), "b": value(=), "=": "c"}`},
		"tags":            {"a: !!str 5\nb: !!int \"0x1F\"\nc: !foo x\nd: !!float 1\ne: !!null x\nf: !!bool yes\ng: !bar {k: 1}\n", `{"a": "5", "b": int(0x1F), "c": !foo(x), "d": float(1), "e": null(x), "f": bool(yes), "g": {"k": int(1)}}`},
		"yaml 1.2":        {"%YAML 1.2\n---\na: yes\nb: 017\n", `{"a": "yes", "b": int(017)}`},
		"yaml 1.1":        {"%YAML 1.1\n---\na: yes\nb: 017\nc: 1:30\nd: 0o17\n", `{"a": bool(true), "b": int(15), "c": int(90), "d": "0o17"}`},
		"top scalar":      {"hello\n", `"hello"`},
		"top list":        {"- a\n- 1\n", `["a", int(1)]`},
		"explicit empty":  {"---\n", `null()`},
		"tilde":           {"~\n", `null(~)`},
		"doc end":         {"a: 1\n...\n", `{"a": int(1)}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, err := parseV3([]byte(tc.src))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := render(n); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if n2, err := Parse([]byte(tc.src)); err != nil || render(n2) != tc.want {
				t.Errorf("Parse disagrees with the general path: %s, %v", render(n2), err)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n\n# another\n", "\n\n", "\xef\xbb\xbf"} {
		n, err := Parse([]byte(src))
		if n != nil || err != nil {
			t.Errorf("Parse(%q) = %s, %v; want nil, nil", src, render(n), err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]struct {
		src          string
		kind         ErrorKind
		line, column int
		msg          string
	}{
		"duplicate":               {"a: 1\nb: 2\na: 3\n", ErrDuplicateKey, 3, 1, `found duplicate key "a" (first defined at line 1, column 1)`},
		"duplicate nested":        {"x:\n  run: a\n  run: b\n", ErrDuplicateKey, 3, 3, `found duplicate key "run" (first defined at line 2, column 3)`},
		"duplicate quoted":        {"a: 1\n'a': 2\n", ErrDuplicateKey, 2, 1, `found duplicate key "a"`},
		"duplicate int float":     {"1: a\n1.0: b\n", ErrDuplicateKey, 2, 1, `found duplicate key "1.0"`},
		"duplicate bool int":      {"true: a\n1: b\n", ErrDuplicateKey, 2, 1, `found duplicate key "1"`},
		"duplicate hex":           {"0x10: a\n16: b\n", ErrDuplicateKey, 2, 1, `found duplicate key "16"`},
		"duplicate null":          {"~: a\nnull: b\n", ErrDuplicateKey, 2, 1, `found duplicate key "None"`},
		"duplicate nan":           {".nan: a\n.NaN: b\n", ErrDuplicateKey, 2, 1, `found duplicate key "nan"`},
		"duplicate in flow":       {"a: {x: 1, x: 2}\n", ErrDuplicateKey, 1, 11, `found duplicate key "x"`},
		"duplicate many keys":     {manyKeys(100) + "k42: again\n", ErrDuplicateKey, 101, 1, `found duplicate key "k42" (first defined at line 43, column 1)`},
		"duplicate merge key":     {"a: &a {x: 1}\nm:\n  <<: *a\n  <<: *a\n", ErrDuplicateKey, 4, 3, `found duplicate key "<<"`},
		"merge scalar":            {"m:\n  <<: 1\n", ErrValue, 2, 7, "expected a mapping or list of mappings for merging, but found a scalar"},
		"merge list of scalars":   {"m:\n  <<: [1]\n", ErrValue, 2, 8, "expected a mapping for merging, but found a scalar"},
		"recursive alias":         {"a: &a [*a]\n", ErrLimit, 1, 8, "recursive"},
		"unknown alias":           {"a: *nope\n", ErrSyntax, 1, 0, "unknown anchor 'nope' referenced"},
		"two documents":           {"a: 1\n---\nb: 2\n", ErrSyntax, 2, 1, "expected a single document in the stream, but found another document"},
		"two documents bad":       {"a: 1\n---\nb: [\n", ErrSyntax, 2, 1, "expected a single document"},
		"content after end":       {"a: 1\n...\nb: 2\n", ErrSyntax, 3, 1, "expected a single document"},
		"text after a scalar":     {"x: 1\n'a' b\n", ErrSyntax, 2, 1, "could not find expected ':'"},
		"text after top scalar":   {" '000'0000", ErrSyntax, 1, 0, "did not find expected <document start>"},
		"mapping values":          {"a: 1\nb: echo x: y\n", ErrSyntax, 2, 10, "mapping values are not allowed here"},
		"mapping values in plain": {"a:\n  run: r:v2 x\n    km: out/x.csv\n", ErrSyntax, 3, 7, "mapping values are not allowed here"},
		"bad indentation":         {"a:\n  b:\n    c: 1\n   d: 2\n", ErrSyntax, 4, 4, "did not find expected key"},
		"merge conflict":          {"a: 1\n<<<<<<< HEAD\nb: 2\n", ErrSyntax, 2, 1, "could not find expected ':'"},
		"tab":                     {"a:\n\tb: 1\n", ErrSyntax, 2, 1, "TAB"},
		"unclosed quote":          {"a: 1\nb: 'x\nc: 2\n", ErrSyntax, 2, 0, "found unexpected end of stream"},
		"control character":       {"a: 1\nb: x\x07y\n", ErrEncoding, 2, 5, "#x0007"},
		"nul":                     {"a: \x00\n", ErrEncoding, 1, 4, "NUL byte"},
		"invalid utf-8":           {"a: é\nb: \xff\n", ErrEncoding, 2, 4, "invalid UTF-8"},
		"c1 control":              {"a: \xc2\x80\n", ErrEncoding, 1, 4, "#x0080"},
		"non-character":           {"a: \xef\xbf\xbe\n", ErrEncoding, 1, 4, "#xfffe"},
		"bad int":                 {"a: +_\n", ErrValue, 1, 4, `"+_" cannot be read as an integer`},
		"bad float":               {"a: ._\n", ErrValue, 1, 4, `"._" cannot be read as a number`},
		"bad date":                {"a: 2021-02-30\n", ErrValue, 1, 4, "cannot be read as a date"},
		"bad time":                {"a: 2021-02-03 25:00:00\n", ErrValue, 1, 4, "cannot be read as a date"},
		"bad explicit int":        {"a: !!int abc\n", ErrValue, 1, 4, "cannot be read as an integer"},
		"bad explicit bool":       {"a: !!bool maybe\n", ErrValue, 1, 4, "cannot be read as a boolean"},
		"scalar tag on mapping":   {"a: !!str {b: 1}\n", ErrValue, 1, 4, "tag !!str cannot be applied to a mapping"},
		"map tag on sequence":     {"a: !!map [1]\n", ErrValue, 1, 4, "tag !!map cannot be applied to a sequence"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, err := Parse([]byte(tc.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %s, %v; want a *yamlx.Error", render(n), err)
			}
			if e.Kind != tc.kind || e.Line != tc.line || e.Column != tc.column || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got kind %d at %d:%d %q\nwant kind %d at %d:%d containing %q", e.Kind, e.Line, e.Column, e.Msg, tc.kind, tc.line, tc.column, tc.msg)
			}
		})
	}
}

// TestParseHostile: an alias bomb, deep nesting and large junk all end
// quickly with an error instead of exhausting memory or the stack.
func TestParseHostile(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&bomb, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	var mergeBomb strings.Builder
	mergeBomb.WriteString("m0: &m0 {k0: 0}\n")
	for i := 1; i < 3000; i++ {
		fmt.Fprintf(&mergeBomb, "m%d: &m%d {<<: *m%d, k%d: %d}\n", i, i, i-1, i, i)
	}
	cases := map[string]struct {
		src  string
		kind ErrorKind
		msg  string
	}{
		"billion laughs": {bomb.String(), ErrLimit, "alias bomb"},
		"merge chain":    {mergeBomb.String(), ErrLimit, "alias bomb"},
		"deep flow":      {strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5), ErrLimit, "nests deeper"},
		"deep block":     {deepMap(MaxDepth + 5), ErrLimit, "nests deeper"},
		"binary":         {"\x7fELF\x02\x01\x01\x00\x00\x00", ErrEncoding, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.kind || !strings.Contains(e.Msg, tc.msg) {
				t.Fatalf("got %v, want kind %d containing %q", err, tc.kind, tc.msg)
			}
		})
	}
	// Within the limit, a modest use of aliases is fine.
	ok := "a: &a {x: [1, 2, 3]}\n" + strings.Repeat("b: *a\n", 1)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	// Junk that is valid UTF-8 gets a syntax error, not a panic.
	junk := bytes.Repeat([]byte("]:{-? &*!|>'\"%@`,\n"), 1000)
	if _, err := Parse(junk); err == nil {
		t.Fatal("junk parsed")
	}
}

func TestStr(t *testing.T) {
	cases := map[string]string{
		"2017": "2017", "0x10": "16", "0o17": "15", "1_000": "1000", "-0": "0",
		"1e3": "1000.0", "3.0": "3.0", "1.5": "1.5", ".inf": "inf", "-.inf": "-inf", ".nan": "nan", "1e16": "1e+16", "0.00001": "1e-05",
		"true": "True", "FALSE": "False", "~": "None", "": "None",
		"2021-01-01": "2021-01-01", "2021-1-2 3:04:05.5": "2021-01-02 03:04:05.500000",
		"name": "name",
	}
	for in, want := range cases {
		n := &Node{Kind: Scalar, Tag: ResolvePlain(in), Value: in}
		if got := Str(n); got != want {
			t.Errorf("Str(%q as %s) = %q, want %q", in, n.Tag, got, want)
		}
	}
}
