package checks

import (
	"strings"
	"unicode/utf8"
)

// Python path semantics (CPython 3.12) that decide output path rules.

// purePosix is pathlib.PurePosixPath(p): root ("", "/" or exactly "//")
// and the components, with empty and "." components dropped.
type purePosix struct {
	root  string
	parts []string
}

func parsePosix(p string) purePosix {
	var pp purePosix
	if strings.HasPrefix(p, "/") {
		pp.root = "/"
		if strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///") {
			pp.root = "//"
		}
	}
	for part := range strings.SplitSeq(p, "/") {
		if part != "" && part != "." {
			pp.parts = append(pp.parts, part)
		}
	}
	return pp
}

func (pp purePosix) String() string {
	if pp.root == "" && len(pp.parts) == 0 {
		return "."
	}
	return pp.root + strings.Join(pp.parts, "/")
}

// name is the last component, "" for "." or "/".
func (pp purePosix) name() string {
	if len(pp.parts) == 0 {
		return ""
	}
	return pp.parts[len(pp.parts)-1]
}

func (pp purePosix) parent() purePosix {
	if len(pp.parts) == 0 {
		return pp
	}
	return purePosix{root: pp.root, parts: pp.parts[:len(pp.parts)-1]}
}

func (pp purePosix) withName(name string) purePosix {
	parts := append(append([]string(nil), pp.parts[:len(pp.parts)-1]...), name)
	return purePosix{root: pp.root, parts: parts}
}

// pathShape is what the path rules need to know about a pattern, found in
// one pass over its bytes.
type pathShape struct {
	backslash, doubleStar, question, bracket bool
	// plain: relative, with no empty or "." component (so no "//", "./" or
	// trailing "/"): PurePosixPath leaves such a path as it is.
	plain     bool
	dotDot    bool // a ".." component
	nameStart int  // where the last component starts
}

func shapeOf(p string) pathShape {
	s := pathShape{
		backslash:  strings.IndexByte(p, '\\') >= 0,
		doubleStar: strings.Contains(p, "**"),
		question:   strings.IndexByte(p, '?') >= 0,
		bracket:    strings.IndexByte(p, '[') >= 0,
		plain:      p != "" && p[0] != '/',
	}
	for start := 0; ; {
		end := strings.IndexByte(p[start:], '/')
		last := end < 0
		if last {
			end = len(p)
		} else {
			end += start
		}
		switch p[start:end] {
		case "", ".":
			s.plain = false
		case "..":
			s.dotDot = true
		}
		if last {
			s.nameStart = start
			return s
		}
		start = end + 1
	}
}

// pathString is str(PurePosixPath(p)).
func pathString(p string) string {
	if shapeOf(p).plain {
		return p
	}
	return parsePosix(p).String()
}

// suffixOf is PurePath.suffix of a last component: from its last dot,
// unless that dot is its first or last character.
func suffixOf(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i > 0 && i < len(name)-1 {
		return name[i:]
	}
	return ""
}

// normpath is posixpath.normpath(p).
func normpath(p string) string {
	if p == "" {
		return "."
	}
	root := ""
	if strings.HasPrefix(p, "/") {
		root = "/"
		if strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///") {
			root = "//"
		}
	}
	var comps []string
	for comp := range strings.SplitSeq(p, "/") {
		switch {
		case comp == "" || comp == ".":
		case comp != ".." || (root == "" && len(comps) == 0) || (len(comps) > 0 && comps[len(comps)-1] == ".."):
			comps = append(comps, comp)
		case len(comps) > 0:
			comps = comps[:len(comps)-1]
		}
	}
	out := root + strings.Join(comps, "/")
	if out == "" {
		return "."
	}
	return out
}

// windowsAbsolute is PureWindowsPath(p).is_absolute() for a path that has
// no backslash and does not start with "/" (UNC paths do): a drive and a
// root, "C:/", where the drive letter may be any character at all.
func windowsAbsolute(p string) bool {
	_, n1 := utf8.DecodeRuneInString(p)
	return n1 > 0 && len(p) >= n1+2 && p[n1] == ':' && p[n1+1] == '/'
}

// fnmatch is fnmatch.fnmatch(name, pat) on POSIX: a case-sensitive full
// match in which * matches any run of characters (including "/"), ? any one
// character and [...] a character class, as fnmatch.translate builds them.
func fnmatch(name, pat string) bool {
	return globMatch([]rune(name), compileGlob([]rune(pat)))
}

type globKind uint8

const (
	globLiteral globKind = iota
	globStar
	globAny
	globClass
	globNever
)

type globElem struct {
	kind   globKind
	r      rune
	negate bool
	chars  []rune    // class members
	ranges [][2]rune // class ranges
}

func compileGlob(pat []rune) []globElem {
	var out []globElem
	n := len(pat)
	for i := 0; i < n; {
		c := pat[i]
		i++
		switch c {
		case '*':
			if len(out) == 0 || out[len(out)-1].kind != globStar {
				out = append(out, globElem{kind: globStar})
			}
		case '?':
			out = append(out, globElem{kind: globAny})
		case '[':
			j := i
			if j < n && pat[j] == '!' {
				j++
			}
			if j < n && pat[j] == ']' {
				j++
			}
			for j < n && pat[j] != ']' {
				j++
			}
			if j >= n {
				out = append(out, globElem{kind: globLiteral, r: '['})
				continue
			}
			out = append(out, compileClass(pat, i, j))
			i = j + 1
		default:
			out = append(out, globElem{kind: globLiteral, r: c})
		}
	}
	return out
}

// compileClass follows fnmatch.translate for pat[i:j] (between brackets):
// hyphens split it into chunks, adjacent chunks form ranges, empty ranges
// are dropped, a leading "!" negates.
func compileClass(pat []rune, i, j int) globElem {
	var chunks [][]rune
	k := i + 1
	if pat[i] == '!' {
		k = i + 2
	}
	for {
		h := -1
		for m := k; m < j; m++ {
			if pat[m] == '-' {
				h = m
				break
			}
		}
		if h < 0 {
			break
		}
		chunks = append(chunks, append([]rune(nil), pat[i:h]...))
		i = h + 1
		k = h + 3
	}
	if chunk := pat[i:j]; len(chunk) > 0 {
		chunks = append(chunks, append([]rune(nil), chunk...))
	} else if len(chunks) > 0 {
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], '-')
	} else {
		chunks = append(chunks, nil)
	}
	for m := len(chunks) - 1; m > 0; m-- {
		prev, cur := chunks[m-1], chunks[m]
		if len(prev) > 0 && len(cur) > 0 && prev[len(prev)-1] > cur[0] {
			chunks[m-1] = append(append([]rune(nil), prev[:len(prev)-1]...), cur[1:]...)
			chunks = append(chunks[:m], chunks[m+1:]...)
		}
	}
	e := globElem{kind: globClass}
	if len(chunks) > 0 && len(chunks[0]) > 0 && chunks[0][0] == '!' {
		e.negate = true
		chunks[0] = chunks[0][1:]
	}
	for m, chunk := range chunks {
		lo, hi := 0, len(chunk)
		if m > 0 && len(chunk) > 0 && len(chunks[m-1]) > 0 {
			e.ranges = append(e.ranges, [2]rune{chunks[m-1][len(chunks[m-1])-1], chunk[0]})
			lo = 1
		}
		if m < len(chunks)-1 && hi > lo {
			hi--
		}
		e.chars = append(e.chars, chunk[lo:hi]...)
	}
	if !e.negate && len(e.chars) == 0 && len(e.ranges) == 0 {
		return globElem{kind: globNever}
	}
	return e
}

func (e globElem) matches(r rune) bool {
	switch e.kind {
	case globLiteral:
		return r == e.r
	case globAny:
		return true
	case globClass:
		in := false
		for _, c := range e.chars {
			if c == r {
				in = true
			}
		}
		for _, rg := range e.ranges {
			if rg[0] <= r && r <= rg[1] {
				in = true
			}
		}
		return in != e.negate
	}
	return false
}

// globMatch matches with single-star backtracking, which is exact because
// a star matches any character.
func globMatch(name []rune, pat []globElem) bool {
	ni, pi := 0, 0
	starPi, starNi := -1, 0
	for ni < len(name) || pi < len(pat) {
		if pi < len(pat) {
			e := pat[pi]
			if e.kind == globStar {
				starPi, starNi = pi, ni
				pi++
				continue
			}
			if ni < len(name) && e.matches(name[ni]) {
				ni++
				pi++
				continue
			}
		}
		if starPi >= 0 && starNi < len(name) {
			starNi++
			pi, ni = starPi+1, starNi
			continue
		}
		return false
	}
	return true
}
