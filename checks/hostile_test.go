package checks

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestHostileInputs: each is rejected with a message that says what is
// wrong, never a crash or a hang.
func TestHostileInputs(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("version: '5.0'\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&bomb, "l%d: &l%d [*l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d]\n", i, i, i-1)
	}
	bomb.WriteString("actions: {}\n")

	big := bytes.Repeat([]byte("# padding padding padding padding padding padding\n"), 10<<20/50)
	deep := "version: '5.0'\nactions:\n  a:\n    run: python:v2 a.py\n    config: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n"
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*131 + i/7)
	}
	cases := map[string]struct {
		src  []byte
		rule string
		msg  string
	}{
		"alias bomb":     {[]byte(bomb.String()), ruleYAMLLimit, "aliases and merge keys expand the document beyond 1048576 nodes (an alias bomb?)"},
		"10 MB":          {big, ruleFileTooLarge, "project.yaml is 10.0 MiB, larger than the 4 MiB this check reads"},
		"deep nesting":   {[]byte(deep), ruleYAMLLimit, "nests deeper than 200 levels"},
		"binary junk":    {junk, ruleYAMLEncoding, "the file contains a NUL byte, so it is not a text file (is it binary?); project.yaml must be UTF-8 text"},
		"NUL byte":       {[]byte("version: '5.0'\nactions:\x00\n"), ruleYAMLEncoding, "NUL byte"},
		"latin-1":        {[]byte("version: '5.0'\n# caf\xe9\n"), ruleYAMLEncoding, "invalid UTF-8 (byte 0xe9); save project.yaml as UTF-8 text"},
		"utf-16":         {[]byte("\xff\xfev\x00e\x00r\x00"), ruleYAMLEncoding, "invalid UTF-8"},
		"control char":   {[]byte("version: '5.0'\x1b[0m\n"), ruleYAMLEncoding, "unacceptable character #x001b: control characters are not allowed in YAML; remove it"},
		"recursive":      {[]byte("version: '5.0'\nactions:\n  a: &a\n    run: python:v2 a.py\n    config: *a\n"), ruleYAMLLimit, "refers to a node that contains it"},
		"huge line":      {append([]byte("version: '"), bytes.Repeat([]byte("9"), 3<<20)...), ruleYAMLSyntax, "invalid YAML"},
		"many documents": {bytes.Repeat([]byte("---\na: 1\n"), 10000), ruleYAMLSyntax, "expected a single document"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := Validate(tc.src)
			if r.Valid || len(r.Problems) == 0 {
				t.Fatal("accepted")
			}
			p := r.Problems[0]
			if p.Rule != tc.rule || !strings.Contains(p.Message, tc.msg) {
				t.Errorf("got [%s] %q\nwant [%s] containing %q", p.Rule, p.Message, tc.rule, tc.msg)
			}
			if p.Line < 0 || p.Column < 0 {
				t.Errorf("position %d:%d", p.Line, p.Column)
			}
		})
	}
}

// TestReportsEveryError: after the reference's first error, the further
// errors a researcher would otherwise meet one push at a time.
func TestReportsEveryError(t *testing.T) {
	src := v5(`  a:
    run: python a.py
    needs: [zzz, yyy]
    outputs:
      moderately_sensitive:
        x: out/x.pdf
        y: out/y.rds
        z: out/z.csv
  b:
    run: r:v2 b.R
    outputs:
      highly_sensitive:
        z: out/z.csv
        w: /abs.csv
`)
	r := Validate([]byte(src))
	var got []string
	for _, p := range r.Errors() {
		got = append(got, fmt.Sprintf("%d:%d %s", p.Line, p.Column, p.Message))
	}
	want := []string{
		"8:12 Output path out/x.pdf is invalid: out/x.pdf is not an allowed file type for moderately_sensitive outputs",
		"9:12 Output path out/y.rds is invalid: out/y.rds is not an allowed file type for moderately_sensitive outputs",
		"4:10 Action command python must have a version specified in the form :vN (e.g. python:v2)",
		"16:12 Output path /abs.csv is invalid: is an absolute path",
		"15:12 Output path out/z.csv is not unique",
		"5:13 Action `a` references an unknown action in its `needs` list: zzz",
		"5:18 Action `a` references an unknown action in its `needs` list: yyy",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors\n got %q\nwant %q", got, want)
	}
}
