package checks

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzValidate: Validate never panics, its verdict agrees with its
// problems, positions lie inside the file, and the report stays within
// GitHub's limits. Seeded from the corpus; findings live in testdata/fuzz.
func FuzzValidate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil && len(src) <= 32<<10 {
			f.Add(src)
		}
	}
	for _, s := range []string{
		"", "~", "- a", "version: 3\nactions: {a: {run: 'x:v1', outputs: {highly_sensitive: {o: a.csv}}}}\nexpectations: {population_size: 1}\n",
		"a: &a [*a]", "<<: {x: 1}", "version: '5'\nactions:\n  a: &x\n    run: ehrql:v1 generate-dataset --output o/d:csv\n    outputs: {highly_sensitive: {d: 'o/d/*.csv'}}\n  b: *x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		r := Validate(src)
		errs := r.Errors()
		if r.Valid != (len(errs) == 0) {
			t.Fatalf("valid=%v with %d errors: %+v", r.Valid, len(errs), errs)
		}
		if r.Valid != (r.Pipeline != nil) {
			t.Fatalf("valid=%v but pipeline %v", r.Valid, r.Pipeline)
		}
		lines := bytes.Count(src, []byte("\n")) + bytes.Count(src, []byte("\r")) + 1
		for _, p := range r.Problems {
			if p.Line < 0 || p.Line > lines || p.Column < 0 || (p.Line == 0 && p.Column != 0) {
				t.Fatalf("position %d:%d in a file of %d lines: %+v", p.Line, p.Column, lines, p)
			}
			if p.Message == "" || p.Rule == "" || (p.Severity != SeverityError && p.Severity != SeverityWarning) {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		rep := Render("project.yaml", r)
		if len(rep.Summary) > maxOutputText || !utf8.ValidString(rep.Summary) || len(rep.Annotations) != len(r.Problems) {
			t.Fatalf("report out of bounds")
		}
		if (rep.Conclusion == ConclusionSuccess) != r.Valid {
			t.Fatalf("conclusion %s for valid=%v", rep.Conclusion, r.Valid)
		}
	})
}
