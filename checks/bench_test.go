package checks

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

func benchFiles(b *testing.B) [][]byte {
	names, _ := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	sort.Strings(names)
	if len(names) == 0 {
		b.Skip("no corpus")
	}
	files := make([][]byte, len(names))
	for i, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		files[i] = src
	}
	return files
}

func benchPerFile(b *testing.B, each func([]byte)) {
	files := benchFiles(b)
	total := 0
	for _, f := range files {
		total += len(f)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			each(f)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(files)), "ns/file")
}

// BenchmarkValidateCorpus is the whole check over the real corpus.
func BenchmarkValidateCorpus(b *testing.B) {
	benchPerFile(b, func(src []byte) { Validate(src) })
}

// BenchmarkParseCorpus is the YAML layer alone, for comparison.
func BenchmarkParseCorpus(b *testing.B) {
	benchPerFile(b, func(src []byte) { _, _ = yamlx.Parse(src) })
}

// BenchmarkRenderCorpus is the check-run rendering of every verdict.
func BenchmarkRenderCorpus(b *testing.B) {
	files := benchFiles(b)
	results := make([]Result, len(files))
	for i, f := range files {
		results[i] = Validate(f)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, r := range results {
			Render("project.yaml", r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(files)), "ns/file")
}

// BenchmarkChecksCorpus is the validation on top of the tree: the checks
// of every well-formed corpus file, parsing excluded.
func BenchmarkChecksCorpus(b *testing.B) {
	var trees []*yamlx.Node
	for _, f := range benchFiles(b) {
		if n, err := yamlx.Parse(f); err == nil {
			trees = append(trees, n)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, n := range trees {
			v := validator{}
			v.result(v.pipeline(n))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(trees)), "ns/file")
}
