package yamlx

import (
	"sort"
	"testing"
)

func corpusList(b *testing.B) [][]byte {
	files := corpusFiles(b)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	list := make([][]byte, len(names))
	for i, name := range names {
		list[i] = files[name]
	}
	return list
}

func benchCorpus(b *testing.B, parse func([]byte)) {
	list := corpusList(b)
	total := 0
	for _, src := range list {
		total += len(src)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, src := range list {
			parse(src)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(list)), "ns/file")
}

// BenchmarkParseFastCorpus: the fast path alone over every corpus file.
func BenchmarkParseFastCorpus(b *testing.B) {
	benchCorpus(b, func(src []byte) { parseFast(src) })
}

// BenchmarkParseCorpus: Parse (fast path, general path where it declines).
func BenchmarkParseCorpus(b *testing.B) {
	benchCorpus(b, func(src []byte) { _, _ = Parse(src) })
}

// BenchmarkParseGeneralCorpus: the general path alone, for comparison.
func BenchmarkParseGeneralCorpus(b *testing.B) {
	fastOff.Store(true)
	defer fastOff.Store(false)
	benchCorpus(b, func(src []byte) { _, _ = Parse(src) })
}
