package checks

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestDumpProblems(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, os.Getenv("PAT")))
	for _, f := range files {
		src, _ := os.ReadFile(f)
		r := Validate(src)
		if r.Valid && os.Getenv("ALL") == "" {
			continue
		}
		fmt.Printf("== %s valid=%v problems=%d\n", filepath.Base(f), r.Valid, len(r.Problems))
		for i, p := range r.Problems {
			if i >= 8 {
				break
			}
			fmt.Printf("  %d:%d %s [%s] %q\n", p.Line, p.Column, p.Severity, p.Rule, p.Message)
		}
	}
}
