package yamlx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDebugDeclines(t *testing.T) {
	dir := os.Getenv("DBGDIR")
	if dir == "" {
		t.Skip()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		src, _ := os.ReadFile(f)
		if _, ok := parseFast(src); ok {
			continue
		}
		if _, err := parseGeneral(src); err != nil {
			continue
		}
		lines := bytes.SplitAfter(src, []byte("\n"))
		for n := 1; n <= len(lines); n++ {
			pre := bytes.Join(lines[:n], nil)
			if g, err := parseGeneral(pre); err != nil || g == nil {
				continue
			}
			if _, ok := parseFast(pre); !ok {
				lo := max(n-3, 0)
				t.Logf("%s line %d:\n%s", filepath.Base(f), n, bytes.Join(lines[lo:n], nil))
				break
			}
		}
	}
}

func TestDebugSlowGeneral(t *testing.T) {
	if os.Getenv("DBGSLOW") == "" {
		t.Skip()
	}
	files := corpusFiles(t)
	for name, src := range files {
		if _, ok := parseFast(src); ok {
			continue
		}
		t0 := time.Now()
		_, err := Parse(src)
		t.Logf("%v %d %s: %v", time.Since(t0), len(src), filepath.Base(name), err)
	}
}
