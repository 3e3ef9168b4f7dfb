package yamlx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzFastMatchesGeneral checks that whenever the fast path answers, the
// general path accepts the input too and builds the identical tree, and
// that neither panics.
func FuzzFastMatchesGeneral(f *testing.F) {
	for _, tc := range fastSnippets {
		f.Add([]byte(tc.src))
	}
	if files, _ := filepath.Glob(filepath.Join("testdata", "fast", "*.yaml")); len(files) > 0 {
		for _, name := range files {
			if src, err := os.ReadFile(name); err == nil {
				f.Add(src)
			}
		}
	}
	for _, dir := range []string{filepath.Join("..", "..", "testdata", "corpus"), "/work/shared/corpus/project-yaml/real"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, name := range files {
			if src, err := os.ReadFile(name); err == nil && len(src) <= 64<<10 {
				f.Add(src)
			}
		}
		if len(files) > 0 {
			break
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, div := checkFast(src); div != "" {
			t.Fatalf("divergence on %q: %s", src, div)
		}
	})
}

// genYAML turns entropy into a YAML document, mostly well-formed and in
// the fast path's subset, with randomised layout (indentation, compact
// nesting, multi-line plain and quoted scalars, block scalars, flow
// collections, comments, blank lines, CRLF), then sometimes damaged by a
// few random edits, so that both the subset and its edges are exercised.
func genYAML(entropy []byte) []byte {
	g := &gen{r: genRand{b: entropy}}
	for _, c := range entropy {
		g.r.x = g.r.x*31 + uint32(c)
	}
	g.crlf = g.r.n(8) == 0
	base := []int{0, 0, 0, 1, 2}[g.r.n(5)]
	switch g.r.n(6) {
	case 0:
		g.seq(base, 0, false)
	case 1:
		g.scalar(-1, base)
		g.nl()
	default:
		g.mapping(base, 0, false)
	}
	out := g.out
	for edits := []int{0, 0, 0, 1, 1, 2, 3}[g.r.n(7)]; edits > 0 && len(out) > 0; edits-- {
		i := g.r.n(len(out))
		switch g.r.n(4) {
		case 0:
			out = append(out[:i], out[i+1:]...)
		case 1:
			c := " -:#'\"[]{},|>\n\r\t&*!?%\\.0a"[g.r.n(25)]
			out = append(out[:i], append([]byte{c}, out[i:]...)...)
		case 2:
			out = append(out[:i], append([]byte{' '}, out[i:]...)...)
		case 3:
			out[i] = "ab: -#'\"\n"[g.r.n(9)]
		}
	}
	return out
}

type gen struct {
	r    genRand
	out  []byte
	crlf bool
}

var (
	genKeys  = []string{"a", "b", "run", "needs", "outputs", "k y", "'q'", `"d"`, `"e\tf"`, "'it''s'", "é", "x-y", "a:b", "x#y", "-k", `""`, "''", "日本", "1", "true", "~", "<<"}
	genWords = []string{"x", "hello", "r:latest", "1", "-1", "1.5", "0x1F", "true", "~", "null", "2021-01-01", "yes", "a:b", "a#b", "é", "--output", "output/*.csv", "x,y", "[x]", "a'b", `a"b`, "%d", "<<", "!x", "&y", "*z", "?q", "-", ":"}
)

func (g *gen) nl() {
	if g.r.n(12) == 0 {
		g.out = append(g.out, "  "...)
	}
	if g.r.n(10) == 0 {
		g.out = append(g.out, " # c"...)
	}
	if g.crlf {
		g.out = append(g.out, '\r')
	}
	g.out = append(g.out, '\n')
	for g.r.n(6) == 0 {
		if g.r.n(2) == 0 {
			g.out = append(g.out, bytes.Repeat([]byte{' '}, g.r.n(10))...)
			g.out = append(g.out, "# comment"...)
		} else {
			g.out = append(g.out, bytes.Repeat([]byte{' '}, g.r.n(3))...)
		}
		if g.crlf {
			g.out = append(g.out, '\r')
		}
		g.out = append(g.out, '\n')
	}
}

func (g *gen) sp(n int) {
	g.out = append(g.out, bytes.Repeat([]byte{' '}, max(n, 0))...)
}

// mapping writes a block mapping at indentation n; if compact, the first
// key goes where the output is (after "- ").
func (g *gen) mapping(n, depth int, compact bool) {
	for i, k := 0, 1+g.r.n(4); i < k; i++ {
		if i > 0 || !compact {
			g.sp(n)
		}
		g.out = append(g.out, genKeys[g.r.n(len(genKeys))]...)
		if g.r.n(10) == 0 {
			g.out = append(g.out, ' ')
		}
		g.out = append(g.out, ':')
		g.value(n, depth)
	}
}

// value writes what follows "key:" in a mapping at indentation n.
func (g *gen) value(n, depth int) {
	switch c := g.r.n(10); {
	case c < 4 || depth > 4:
		g.out = append(g.out, ' ')
		g.scalar(n, n+1+g.r.n(3))
		g.nl()
	case c < 6:
		g.nl()
		g.mapping(n+1+g.r.n(4), depth+1, false)
	case c < 8:
		g.nl()
		g.seq(n+g.r.n(4), depth+1, false)
	default:
		g.nl()
	}
}

// seq writes a block sequence at indentation n.
func (g *gen) seq(n, depth int, compact bool) {
	for i, k := 0, 1+g.r.n(4); i < k; i++ {
		if i > 0 || !compact {
			g.sp(n)
		}
		g.out = append(g.out, '-')
		switch c := g.r.n(10); {
		case c < 4 || depth > 4:
			g.out = append(g.out, ' ')
			g.scalar(n, n+1+g.r.n(3))
			g.nl()
		case c < 6:
			w := 1 + g.r.n(3)
			g.sp(w)
			g.mapping(n+1+w, depth+1, true)
		case c < 7:
			w := 1 + g.r.n(2)
			g.sp(w)
			g.seq(n+1+w, depth+1, true)
		case c < 9:
			g.nl()
			if g.r.n(2) == 0 {
				g.mapping(n+1+g.r.n(3), depth+1, false)
			} else {
				g.seq(n+1+g.r.n(3), depth+1, false)
			}
		default:
			g.nl()
		}
	}
}

// scalar writes a scalar whose continuation lines, if any, are indented by
// cont (block indentation bi).
func (g *gen) scalar(bi, cont int) {
	w := func() string { return genWords[g.r.n(len(genWords))] }
	brk := func() {
		for b := []int{1, 1, 1, 2, 3}[g.r.n(5)]; b > 0; b-- {
			if g.r.n(8) == 0 {
				g.out = append(g.out, ' ')
			}
			if g.crlf {
				g.out = append(g.out, '\r')
			}
			g.out = append(g.out, '\n')
		}
		g.sp(cont + g.r.n(2))
	}
	switch g.r.n(9) {
	case 0, 1: // plain, maybe multi-line
		g.out = append(g.out, w()...)
		for g.r.n(3) == 0 {
			if g.r.n(2) == 0 {
				g.out = append(g.out, ' ')
			} else {
				brk()
			}
			g.out = append(g.out, w()...)
		}
	case 2: // single-quoted
		g.out = append(g.out, '\'')
		for i := g.r.n(4); i >= 0; i-- {
			g.out = append(g.out, []string{"a", "it''s", " ", "x y", "é", "#", ": ", "\\"}[g.r.n(8)]...)
			if g.r.n(4) == 0 {
				brk()
			}
		}
		g.out = append(g.out, '\'')
	case 3: // double-quoted
		g.out = append(g.out, '"')
		for i := g.r.n(4); i >= 0; i-- {
			g.out = append(g.out, []string{"a", `\"`, `\\`, `\t`, `\n`, `\x41`, `\u00e9`, `\U0001F600`, " ", `\ `, `\0`, `\N`, `\_`, "'", "#", ": "}[g.r.n(16)]...)
			switch g.r.n(6) {
			case 0:
				brk()
			case 1:
				g.out = append(g.out, '\\')
				brk()
			}
		}
		g.out = append(g.out, '"')
	case 4, 5: // block scalar
		g.out = append(g.out, []string{"|", ">", "|-", ">-", "|+", ">+", "|1", ">2", "|2-", ">-1", "|+2"}[g.r.n(11)]...)
		if g.r.n(6) == 0 {
			g.out = append(g.out, " # c"...)
		}
		ind := cont + g.r.n(2)
		for i := g.r.n(5); i >= 0; i-- {
			if g.crlf {
				g.out = append(g.out, '\r')
			}
			g.out = append(g.out, '\n')
			switch g.r.n(6) {
			case 0: // empty or whitespace-only line
				g.sp(g.r.n(ind + 3))
			case 1:
				g.sp(ind + 1 + g.r.n(2))
				g.out = append(g.out, w()...)
			default:
				g.sp(ind)
				g.out = append(g.out, w()...)
				if g.r.n(3) == 0 {
					g.out = append(g.out, ' ')
					g.out = append(g.out, w()...)
				}
			}
		}
		if g.r.n(4) == 0 {
			if g.crlf {
				g.out = append(g.out, '\r')
			}
			g.out = append(g.out, '\n')
		}
		// g.nl() by the caller ends the last line; a trailing blank line
		// above exercises chomping.
		_ = bi
	case 6, 7: // flow sequence
		g.out = append(g.out, '[')
		for i := g.r.n(4); i >= 0; i-- {
			if g.r.n(5) == 0 {
				brk()
			}
			switch g.r.n(4) {
			case 0:
				g.out = append(g.out, "'q, r'"...)
			case 1:
				g.out = append(g.out, `"d"`...)
			default:
				g.out = append(g.out, []string{"a", "b c", "1", "é", "x#y", "-1", "~"}[g.r.n(7)]...)
			}
			if i > 0 || g.r.n(5) == 0 {
				g.out = append(g.out, ","...)
				g.sp(g.r.n(2))
			}
		}
		g.out = append(g.out, ']')
	case 8: // flow mapping
		g.out = append(g.out, '{')
		for i := g.r.n(3); i >= 0; i-- {
			if g.r.n(5) == 0 {
				brk()
			}
			g.out = append(g.out, []string{"a", "b", "'c'", `"d"`, "é"}[g.r.n(5)]...)
			g.out = append(g.out, ": "...)
			g.out = append(g.out, []string{"x", "1", "'y'", "z w", "~"}[g.r.n(5)]...)
			if i > 0 {
				g.out = append(g.out, ", "...)
			}
		}
		g.out = append(g.out, '}')
	}
}

type genRand struct {
	b []byte
	i int
	x uint32
}

// n returns a number in [0, k) drawn from the entropy, then from a simple
// generator seeded by it once the entropy is used up.
func (r *genRand) n(k int) int {
	if r.i < len(r.b) {
		v := int(r.b[r.i])
		r.i++
		return v % k
	}
	r.x = r.x*1664525 + 1013904223
	return int(r.x>>16) % k
}

// FuzzFastGenerated is FuzzFastMatchesGeneral on structured inputs.
func FuzzFastGenerated(f *testing.F) {
	for i := 0; i < 64; i++ {
		f.Add([]byte{byte(i), byte(i * 7), byte(i * 13), byte(i * 31)})
	}
	f.Fuzz(func(t *testing.T, entropy []byte) {
		src := genYAML(entropy)
		if _, div := checkFast(src); div != "" {
			t.Fatalf("divergence on %q: %s", src, div)
		}
	})
}

// TestFastGenerated runs the structured differential test on a fixed set
// of generated documents.
func TestFastGenerated(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	answered := 0
	for i := 0; i < n; i++ {
		e := []byte{byte(i), byte(i >> 8), byte(i >> 16)}
		src := genYAML(e)
		ok, div := checkFast(src)
		if div != "" {
			t.Fatalf("divergence on %q: %s", src, div)
		}
		if ok {
			answered++
		}
	}
	t.Logf("fast path answered %d of %d generated documents", answered, n)
}
