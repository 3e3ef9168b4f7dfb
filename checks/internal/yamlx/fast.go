package yamlx

// This file holds parseFast, a hand-written parser for the subset of YAML
// that real project.yaml files use. It exists for speed: the general path
// (yaml.v3 events, then conversion) costs about 1.4 ms for an average file,
// this one a few tens of microseconds.
//
// Contract: parseFast either answers (ok == true) with exactly the tree the
// general path would build, positions included, or it declines (ok == false)
// and the general path gives the answer or the error. Whenever anything is
// unusual, ambiguous, erroneous or simply not implemented here, parseFast
// declines. It never reports errors itself.
//
// Accepted subset (everything else declines):
//   - UTF-8 text of YAML-printable characters, an optional leading BOM, LF
//     or CRLF line breaks; no TAB anywhere, no lone CR, no NEL/LS/PS, no
//     BOM after the start;
//   - one document: no directives, no "---" or "..." line;
//   - block mappings whose keys are single-line plain or quoted scalars of
//     at most fastMaxKeyLen bytes, no two with the same text, and none
//     resolving to another type than !!str unless that cannot make two
//     keys equal as Python values (see uniqueKeys);
//   - block sequences, indented or indentless (as a mapping value), with
//     compact nesting ("- a: b", "- - a");
//   - plain scalars, multi-line included; single- and double-quoted scalars,
//     multi-line included, with all YAML escapes; literal and folded block
//     scalars with chomping and indentation indicators;
//   - flow sequences and flow mappings whose entries are single-line
//     scalars, over one or several lines;
//   - comments and blank lines;
//   - no anchors, aliases, tags, "<<", complex keys, nesting deeper than
//     fastMaxDepth.
//
// The scalar algorithms (folding, chomping, escapes) are transcriptions of
// the libyaml scanner as ported by yaml.v3, restricted to the inputs above,
// so that values agree byte for byte with the general path. Positions follow
// yaml.v3: 1-based line, 1-based column counted in characters; a collection
// is at its first key, first "-" or opening bracket; an empty value is at the
// end of the ":" or "-" that introduced it.

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"sync/atomic"
	"unicode/utf8"
)

const (
	// fastMaxDepth bounds the nesting of collections the fast path handles.
	fastMaxDepth = 100
	// fastMaxKeyLen keeps implicit keys well inside YAML's 1024-character
	// limit for the distance between a key's start and its ':'.
	fastMaxKeyLen = 1000
	// fastMaxInput: larger inputs are left to the general path and its
	// limits.
	fastMaxInput = 4 << 20
	// Nodes and Content slices are carved from slabs of these sizes:
	// small enough to waste little at the end of a small file and to come
	// from the allocator's size classes, large enough to amortise.
	fastNodeSlab = 128 // 10 KB
	fastPtrSlab  = 512 // 4 KB
)

// fastOff makes parseFast decline every input. Tests set it to reach the
// general path through Parse.
var fastOff atomic.Bool

type fastParser struct {
	src   []byte
	str   string // string(src): plain values are substrings of it
	pos   int    // current offset in src
	line  int    // 1-based line of pos
	ls    int    // offset of the start of that line
	depth int

	// column cache: rune column ccCol of offset ccPos on the line at ccLS
	ccLS, ccPos, ccCol int
	// indentation cache: indN spaces start at indPos
	indPos, indN int
	// keyEnd cache: for a key at kPos, the ':' is at kColon (if kOK);
	// if no key, a plain scalar there stops at kStop (if >= 0: the end
	// of the line or a comment, with no ": " before)
	kPos, kColon, kStop int
	kOK                 bool

	nodes  []Node  // slab the nodes are carved from
	ptrs   []*Node // slab the Content slices are carved from
	stack  []*Node // children of the collections being built
	buf    []byte  // scratch for scalar values that need building
	keyTab []int32 // hash table for uniqueKeys
	ascii  bool    // src is all ASCII: columns are byte offsets
	// dups are the block mappings built with two keys of the same text
	// (all keys strings): the general path would reject the document.
	dups []*Node
	// unconstructible is set when a plain scalar was made whose int,
	// float or date value cannot be constructed ("+_", 2021-02-30): the
	// general path reports it. Every scalar but a plain one is a !!str.
	unconstructible bool

	scratch *Scratch // where slabs come from, if not nil
}

// parseFast parses src if it lies within the subset described above.
// ok == false means "not answered here", never "invalid".
func parseFast(src []byte) (n *Node, ok bool) {
	n, ok, _ = parseFastLine(src)
	return n, ok
}

// parseFastLine is parseFast that also reports, when it declines, the line
// it had reached (0 if it declined before looking at the structure): a
// hint for where a syntax error is.
func parseFastLine(src []byte) (n *Node, ok bool, line int) {
	n, ok, line, dups := parseFastWith(src, nil)
	if len(dups) > 0 {
		return nil, false, line
	}
	return n, ok, line
}

// parseFastWith is parseFastLine carving nodes from s, if not nil.
//
// When it answers with dups, the tree is what the general path builds up
// to the duplicate keys in those mappings, which the general path reports
// (see firstDuplicate).
func parseFastWith(src []byte, s *Scratch) (n *Node, ok bool, line int, dups []*Node) {
	if len(src) > fastMaxInput || fastOff.Load() {
		return nil, false, 0, nil
	}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		src = src[3:]
	}
	ok, ascii := fastPrecheck(src)
	if !ok {
		return nil, false, 0, nil
	}
	p := fastParser{src: src, str: string(src), line: 1, ascii: ascii, ccLS: -1, kPos: -1, indPos: -1, scratch: s}
	if s != nil {
		p.stack, p.keyTab = s.stack[:0], s.keyTab
		if cap(p.stack) == 0 {
			p.stack = make([]*Node, 0, 64)
		}
	} else {
		p.stack = make([]*Node, 0, 64)
	}
	n, ok = p.document()
	if s != nil {
		s.stack, s.keyTab = p.stack[:0], p.keyTab
	}
	if !ok || p.unconstructible {
		return nil, false, p.line, nil
	}
	return n, ok, p.line, p.dups
}

// firstDuplicate is the error the general path's converter reports for a
// tree from the fast path whose mappings dups have duplicate keys: it
// converts pair after pair, each key, then its value, then checks the key
// against the earlier ones, so the first duplicate in that order, against
// the first key of the same text.
func firstDuplicate(root *Node, dups []*Node) *Error {
	flagged := make(map[*Node]bool, len(dups))
	for _, d := range dups {
		flagged[d] = true
	}
	var walk func(n *Node) *Error
	walk = func(n *Node) *Error {
		switch n.Kind {
		case Sequence:
			for _, c := range n.Content {
				if e := walk(c); e != nil {
					return e
				}
			}
		case Mapping:
			var first map[string]*Node
			if flagged[n] {
				first = make(map[string]*Node, len(n.Content)/2)
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				if e := walk(n.Content[i+1]); e != nil {
					return e
				}
				if first != nil {
					k := n.Content[i]
					if f, ok := first[k.Value]; ok {
						return duplicateKey(k, f)
					}
					first[k.Value] = k
				}
			}
		}
		return nil
	}
	return walk(root)
}

// fastPrecheck rejects characters the fast path does not handle: anything
// outside printable ASCII plus LF and CRLF, invalid UTF-8, and characters
// YAML treats specially or forbids (C1 controls, NEL, LS, PS, BOM,
// U+FFFE/U+FFFF); TAB in particular. It also reports whether src is all
// ASCII. (Directives and document markers are rejected where lines start.)
func fastPrecheck(src []byte) (ok, ascii bool) {
	ascii = true
	n := len(src)
	for i := 0; i < n; {
		// Sixteen, then eight bytes at a time while none is below 0x20
		// (LF excepted) or above 0x7E.
		for ; i+16 <= n; i += 16 {
			b := src[i : i+16 : i+16]
			if fastBadBytes(binary.LittleEndian.Uint64(b[:8]))|fastBadBytes(binary.LittleEndian.Uint64(b[8:])) != 0 {
				break
			}
		}
		for ; i+8 <= n; i += 8 {
			if fastBadBytes(binary.LittleEndian.Uint64(src[i:i+8:i+8])) != 0 {
				break
			}
		}
		for end := min(i+8, n); i < end; {
			c := src[i]
			switch {
			case c >= 0x20 && c < 0x7F || c == '\n':
				i++
			case c == '\r':
				if i+1 >= n || src[i+1] != '\n' {
					return false, false
				}
				i++
			case c >= 0x80:
				ascii = false
				r, size := utf8.DecodeRune(src[i:])
				if r == utf8.RuneError || r <= 0x9F || r == 0x2028 || r == 0x2029 ||
					r == 0xFEFF || r == 0xFFFE || r == 0xFFFF {
					return false, false
				}
				i += size
			default:
				return false, false
			}
		}
	}
	return true, ascii
}

// fastBadBytes is non-zero if one of the eight bytes in w is below 0x20
// (LF excepted) or above 0x7E.
func fastBadBytes(w uint64) uint64 {
	const (
		lo7  = 0x7F7F7F7F7F7F7F7F
		high = 0x8080808080808080
		ones = 0x0101010101010101
	)
	// bytes >= 0x7F (a carry out of a byte >= 0x80 only adds to a word
	// already flagged)
	hi := (w | (w + ones)) & high
	// bytes < 0x20 other than LF: exact per byte, no carries
	x := w & lo7
	ctl := ^(x + 0x60*ones) & high
	nl := x ^ 0x0A*ones
	isNL := ^((nl + lo7) | nl) & high
	return hi | ctl&^isNL
}

// lineStartOK rejects a line starting at i with a directive or a document
// marker (also the harmless "---x", for simplicity). Every place that
// moves onto a character in column 0 calls it.
func (p *fastParser) lineStartOK(i int) bool {
	src := p.src
	if i >= len(src) {
		return true
	}
	switch src[i] {
	case '%':
		return false
	case '-', '.':
		if i+2 < len(src) && src[i+1] == src[i] && src[i+2] == src[i] {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- helpers

// eol reports whether offset i is at a line break or the end of input.
// Every '\r' is followed by '\n' (fastPrecheck).
func (p *fastParser) eol(i int) bool {
	return i >= len(p.src) || p.src[i] == '\n' || p.src[i] == '\r'
}

// blankz reports whether offset i is at a space, a line break or the end.
func (p *fastParser) blankz(i int) bool {
	return i >= len(p.src) || p.src[i] == ' ' || p.src[i] == '\n' || p.src[i] == '\r'
}

// breakAt consumes the line break at i (which must be one) and moves pos to
// the start of the next line.
func (p *fastParser) breakAt(i int) {
	if i < len(p.src) && p.src[i] == '\r' {
		i++
	}
	if i < len(p.src) {
		i++ // '\n'
		p.line++
		p.ls = i
	}
	p.pos = i
}

// col returns the 0-based column, in characters, of offset i on the current
// line. Successive calls on one line are incremental, so a long line costs
// linear time.
func (p *fastParser) col(i int) int {
	if p.ascii {
		return i - p.ls
	}
	from, c := p.ls, 0
	if p.ccLS == p.ls && p.ccPos <= i {
		from, c = p.ccPos, p.ccCol
	}
	for j := from; j < i; j++ {
		if p.src[j]&0xC0 != 0x80 {
			c++
		}
	}
	p.ccLS, p.ccPos, p.ccCol = p.ls, i, c
	return c
}

func (p *fastParser) newNode(kind Kind, tag, value string, line, col int) *Node {
	if len(p.nodes) == cap(p.nodes) {
		if p.scratch != nil {
			p.nodes = p.scratch.nodeSlab()
		} else {
			p.nodes = make([]Node, 0, fastNodeSlab)
		}
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	n.Kind, n.Tag, n.Value, n.Line, n.Column = kind, tag, value, line, col+1
	return n
}

func (p *fastParser) scalar(tag, value string, line, col int) *Node {
	return p.newNode(Scalar, tag, value, line, col)
}

// plain makes a plain scalar node, or fails for "<<" (a merge key).
func (p *fastParser) plain(value string, line, col int) (*Node, bool) {
	if value == "<<" {
		return nil, false
	}
	tag := ResolvePlain(value)
	switch tag {
	case TagInt, TagFloat, TagTimestamp:
		p.unconstructible = p.unconstructible || !plainConstructible(tag, value)
	}
	return p.newNode(Scalar, tag, value, line, col), true
}

// content moves the children pushed since start into a Content slice.
func (p *fastParser) content(start int) []*Node {
	n := len(p.stack) - start
	if n == 0 {
		return nil
	}
	if cap(p.ptrs)-len(p.ptrs) < n {
		if n > fastPtrSlab/4 {
			s := make([]*Node, n)
			copy(s, p.stack[start:])
			p.stack = p.stack[:start]
			return s
		}
		if p.scratch != nil {
			p.ptrs = p.scratch.ptrSlab()
		} else {
			p.ptrs = make([]*Node, 0, fastPtrSlab)
		}
	}
	l := len(p.ptrs)
	s := p.ptrs[l : l+n : l+n]
	copy(s, p.stack[start:])
	p.ptrs = p.ptrs[:l+n]
	p.stack = p.stack[:start]
	return s
}

// skipEmpty moves pos from the start of a line over blank and comment lines
// to the start of the next line with content, and returns that line's
// indentation, or -1 at the end of input, or -2 for a line the fast path
// does not handle (a directive or document marker).
func (p *fastParser) skipEmpty() int {
	for {
		i := p.pos + p.indentOf(p.pos)
		if i >= len(p.src) {
			p.pos = i
			return -1
		}
		switch p.src[i] {
		case '\n', '\r':
			p.breakAt(i)
		case '#':
			p.toEOL(i)
		default:
			if i == p.pos && !p.lineStartOK(i) {
				return -2
			}
			return i - p.pos
		}
	}
}

// toEOL consumes the rest of the line from i and its line break.
func (p *fastParser) toEOL(i int) {
	j := bytes.IndexByte(p.src[i:], '\n')
	if j < 0 {
		p.pos = len(p.src)
		return
	}
	i += j
	p.line++
	p.pos = i + 1
	p.ls = p.pos
}

// finishLine accepts the rest of the current line from pos if it is
// blank or a comment preceded by a space, and consumes it with its line
// break.
func (p *fastParser) finishLine() bool {
	i := p.pos
	for i < len(p.src) && p.src[i] == ' ' {
		i++
	}
	if p.eol(i) {
		p.breakAt(i)
		return true
	}
	if p.src[i] == '#' && i > p.ls && p.src[i-1] == ' ' {
		p.toEOL(i)
		return true
	}
	return false
}

// indicators are the characters that cannot start a plain scalar (the
// '-', '?', ':' cases that can are handled by plainStart).
var indicators = [256]bool{
	'-': true, '?': true, ':': true, ',': true, '[': true, ']': true, '{': true, '}': true, '#': true,
	'&': true, '*': true, '!': true, '|': true, '>': true, '\'': true, '"': true, '%': true, '@': true, '`': true,
	' ': true, '\n': true, '\r': true, // not indicators, but no plain scalar starts there either
}

// plainStart reports whether a plain scalar in the accepted subset may
// start at i: not an indicator, except '-' followed by a non-blank that is
// not itself special.
func (p *fastParser) plainStart(i int) bool {
	c := p.src[i]
	if !indicators[c] {
		return true
	}
	if c == '-' && !p.blankz(i+1) {
		d := p.src[i+1]
		return d != ',' && d != '[' && d != ']' && d != '{' && d != '}' && d != '#' && d != ':' && d != '?'
	}
	return false
}

// ---------------------------------------------------------------- structure

func (p *fastParser) document() (*Node, bool) {
	ind := p.skipEmpty()
	if ind < 0 {
		return nil, false // empty or comments only: general path
	}
	p.pos += ind
	n, ok := p.node(-1)
	if !ok {
		return nil, false
	}
	if p.skipEmpty() != -1 {
		return nil, false
	}
	return n, true
}

// node parses a block node whose first character is at pos, where pos is
// preceded on its line only by spaces and "- " indicators (so the byte
// offset is the column). bi is the indentation of the enclosing block
// collection, -1 at the top. On success pos is at the start of a line.
func (p *fastParser) node(bi int) (*Node, bool) {
	p.depth++
	if p.depth > fastMaxDepth {
		return nil, false
	}
	var n *Node
	var ok bool
	c := p.pos - p.ls
	switch {
	case p.src[p.pos] == '-' && p.blankz(p.pos+1):
		n, ok = p.sequence(c, false)
	case p.isKey():
		n, ok = p.mapping(c)
	default:
		n, ok = p.inline(bi)
	}
	p.depth--
	return n, ok
}

// isKey reports whether the line from pos starts with an implicit key in
// the accepted subset followed by ':'. It does not consume anything.
func (p *fastParser) isKey() bool {
	_, ok := p.keyEnd()
	return ok
}

// keyEnd is keyEnd0 with a one-entry cache (isKey, then key).
func (p *fastParser) keyEnd() (int, bool) {
	if p.kPos != p.pos {
		p.kPos, p.kStop = p.pos, -1
		p.kColon, p.kOK = p.keyEnd0()
	}
	return p.kColon, p.kOK
}

// keyEnd0 finds the ':' that ends the key starting at pos and returns the
// offset of the ':'.
func (p *fastParser) keyEnd0() (int, bool) {
	i := p.pos
	s := p.src
	switch s[i] {
	case '"', '\'':
		q := s[i]
		i++
		for {
			if p.eol(i) {
				return 0, false
			}
			if s[i] == q {
				if q == '\'' && i+1 < len(s) && s[i+1] == '\'' {
					i += 2
					continue
				}
				break
			}
			if s[i] == '\\' && q == '"' {
				i++
				if p.eol(i) {
					return 0, false
				}
			}
			i++
		}
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i < len(s) && s[i] == ':' && p.blankz(i+1) && i-p.pos <= fastMaxKeyLen {
			return i, true
		}
		return 0, false
	}
	if !p.plainStart(i) {
		return 0, false
	}
	for j := i; ; j++ {
		j = findSpecial(s, j)
		if j >= len(s) {
			p.kStop = j
			return 0, false
		}
		if j-i > fastMaxKeyLen {
			return 0, false
		}
		switch s[j] {
		case ':':
			if p.blankz(j + 1) {
				return j, true
			}
		case '#':
			if s[j-1] == ' ' {
				p.kStop = j // a comment before any ':'
				return 0, false
			}
		default: // end of line
			p.kStop = j
			return 0, false
		}
	}
}

// mapping parses a block mapping whose first key is at pos, column c.
func (p *fastParser) mapping(c int) (*Node, bool) {
	start := len(p.stack)
	line, col := p.line, c
	for {
		k, colon, ok := p.key()
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, k)
		v, ok := p.value(c, colon)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, v)

		ind := p.skipEmpty()
		if ind == -2 {
			return nil, false
		}
		if ind < c {
			break
		}
		if ind > c {
			return nil, false
		}
		p.pos += ind
		if !p.isKey() {
			return nil, false
		}
	}
	dup := false
	if !p.uniqueKeys(start) {
		// Only keys that are all strings are sure to be duplicates
		// when their texts are equal.
		if !p.strKeys(start) {
			return nil, false
		}
		dup = true
	}
	n := p.newNode(Mapping, TagMap, "", line, col)
	n.Content = p.content(start)
	if dup {
		p.dups = append(p.dups, n)
	}
	return n, true
}

// strKeys reports whether the keys pushed since start are all !!str.
func (p *fastParser) strKeys(start int) bool {
	kv := p.stack[start:]
	for i := 0; i < len(kv); i += 2 {
		if kv[i].Kind != Scalar || kv[i].Tag != TagStr {
			return false
		}
	}
	return true
}

// key parses the key at pos (known to satisfy keyEnd) and consumes it and
// its ':'. It returns the offset just after the ':'.
func (p *fastParser) key() (*Node, int, bool) {
	colon, ok := p.keyEnd()
	if !ok {
		return nil, 0, false
	}
	line, col := p.line, p.col(p.pos)
	var k *Node
	switch p.src[p.pos] {
	case '"', '\'':
		v, ok := p.quoted(-1)
		if !ok || p.line != line {
			return nil, 0, false
		}
		k = p.scalar(TagStr, v, line, col)
	default:
		e := colon
		for p.src[e-1] == ' ' {
			e--
		}
		k, ok = p.plain(p.str[p.pos:e], line, col)
		if !ok {
			return nil, 0, false
		}
	}
	p.pos = colon + 1
	return k, p.pos, true
}

// uniqueKeys rejects a mapping with two keys of the same text, or with keys
// that could be equal as Python values. (Deciding and reporting duplicates
// is the general path's job.) Large mappings use
// an open-addressing table over p.keyTab, cleared only as far as used.
func (p *fastParser) uniqueKeys(start int) bool {
	kv := p.stack[start:]
	n := len(kv) / 2
	// Keys of other types than str compare as Python values (1 == 1.0 ==
	// true, 0x1 == 1) and never equal a str. So a single one cannot clash,
	// nor can ints spelled canonically (2017, 2018) with different texts.
	// "=" (the YAML 1.1 value key) turns into a str key in the general path.
	other, nonCanonical := 0, false
	for i := 0; i < len(kv); i += 2 {
		if t := kv[i].Tag; t != TagStr {
			if t == TagValue {
				return false
			}
			other++
			nonCanonical = nonCanonical || t != TagInt || !canonicalInt(kv[i].Value)
			if other > 1 && nonCanonical {
				return false
			}
		}
	}
	if n <= 8 {
		for i := 0; i < len(kv); i += 2 {
			for j := i + 2; j < len(kv); j += 2 {
				if kv[i].Value == kv[j].Value {
					return false
				}
			}
		}
		return true
	}
	size := 16
	for size < 2*n {
		size <<= 1
	}
	if cap(p.keyTab) < size {
		p.keyTab = make([]int32, size)
	} else {
		p.keyTab = p.keyTab[:size]
		clear(p.keyTab)
	}
	mask := uint64(size - 1)
	for i := 0; i < n; i++ {
		k := kv[2*i].Value
		h := maphash.String(fastSeed, k) & mask
		for {
			e := p.keyTab[h]
			if e == 0 {
				p.keyTab[h] = int32(i + 1)
				break
			}
			if kv[2*(e-1)].Value == k {
				return false
			}
			h = (h + 1) & mask
		}
	}
	return true
}

var fastSeed = maphash.MakeSeed()

// canonicalInt reports a decimal integer without sign, underscores or
// leading zeros: two of them are equal exactly when their texts are.
func canonicalInt(v string) bool {
	if v == "" || v[0] == '0' && len(v) > 1 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// value parses the value of a block mapping entry at indentation c, with
// pos just after the ':' (at offset colonEnd).
func (p *fastParser) value(c, colonEnd int) (*Node, bool) {
	i := p.pos
	for i < len(p.src) && p.src[i] == ' ' {
		i++
	}
	if !p.eol(i) && p.src[i] != '#' {
		if i == p.pos {
			return nil, false // cannot happen: keyEnd requires a blank
		}
		p.pos = i
		return p.inline(c)
	}
	// The value, if any, is on a later line.
	line, col := p.line, p.col(colonEnd)
	if !p.finishLine() {
		return nil, false
	}
	ind := p.skipEmpty()
	if ind == -2 {
		return nil, false
	}
	if ind > c {
		p.pos += ind
		return p.node(c)
	}
	if ind == c && p.src[p.pos+ind] == '-' && p.blankz(p.pos+ind+1) {
		p.pos += ind
		p.depth++
		if p.depth > fastMaxDepth {
			return nil, false
		}
		n, ok := p.sequence(c, true)
		p.depth--
		return n, ok
	}
	return p.plain("", line, col)
}

// sequence parses a block sequence whose first '-' is at pos, column c.
// An indentless sequence (a mapping value at the mapping's indentation)
// ends at the first line at column c that is not an entry.
func (p *fastParser) sequence(c int, indentless bool) (*Node, bool) {
	start := len(p.stack)
	line := p.line
	for {
		dashLine := p.line
		i := p.pos + 1
		for i < len(p.src) && p.src[i] == ' ' {
			i++
		}
		var item *Node
		var ok bool
		if p.eol(i) || p.src[i] == '#' {
			p.pos++
			if !p.finishLine() {
				return nil, false
			}
			ind := p.skipEmpty()
			if ind == -2 {
				return nil, false
			}
			if ind > c {
				p.pos += ind
				item, ok = p.node(c)
			} else {
				item, ok = p.plain("", dashLine, c+1)
			}
		} else {
			p.pos = i
			item, ok = p.node(c)
		}
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, item)

		ind := p.skipEmpty()
		if ind == -2 {
			return nil, false
		}
		if ind < c {
			break
		}
		if ind > c {
			return nil, false
		}
		if p.src[p.pos+ind] != '-' || !p.blankz(p.pos+ind+1) {
			if indentless {
				break
			}
			return nil, false
		}
		p.pos += ind
	}
	n := p.newNode(Sequence, TagSeq, "", line, c)
	n.Content = p.content(start)
	return n, true
}

// inline parses a scalar or flow collection starting at pos (not a
// blank) in block context; bi is the indentation of the enclosing block
// collection. On success pos is at the start of a line.
func (p *fastParser) inline(bi int) (*Node, bool) {
	line, col := p.line, p.col(p.pos)
	switch p.src[p.pos] {
	case '"', '\'':
		v, ok := p.quoted(bi)
		if !ok || !p.finishLine() {
			return nil, false
		}
		return p.scalar(TagStr, v, line, col), true
	case '|', '>':
		v, ok := p.blockScalar(bi)
		if !ok {
			return nil, false
		}
		return p.scalar(TagStr, v, line, col), true
	case '[':
		n, ok := p.flowSeq()
		if !ok || !p.finishLine() {
			return nil, false
		}
		return n, true
	case '{':
		n, ok := p.flowMap()
		if !ok || !p.finishLine() {
			return nil, false
		}
		return n, true
	}
	if !p.plainStart(p.pos) {
		return nil, false
	}
	v, ok := p.plainBlock(bi)
	if !ok {
		return nil, false
	}
	return p.plain(v, line, col)
}

// ---------------------------------------------------------------- scalars

// plainLine scans plain-scalar text on the current line from i (not a
// blank). It returns the end of the text (trailing spaces excluded) and the
// offset where scanning stopped: the line break or end, or the '#' of a
// comment. It fails on ": " or a trailing ':', which would make the scalar
// a key.
func (p *fastParser) plainLine(i int) (end, stop int, ok bool) {
	s := p.src
	start := i
	j0 := i
	if i == p.kPos && !p.kOK && p.kStop >= 0 {
		j0 = p.kStop // keyEnd0 scanned this line already
	}
	for j := j0; ; j++ {
		j = findSpecial(s, j)
		if j >= len(s) {
			stop = j
			break
		}
		c := s[j]
		if c == ':' {
			if p.blankz(j + 1) {
				return 0, 0, false
			}
			continue
		}
		if c == '#' && s[j-1] != ' ' {
			continue
		}
		stop = j // a comment or the end of the line
		if c == '\n' && j > start && s[j-1] == '\r' {
			stop = j - 1
		}
		break
	}
	end = stop
	for end > start && s[end-1] == ' ' {
		end--
	}
	return end, stop, true
}

// findSpecial returns the offset of the first ':', '#' or '\n' in s at or
// after i, or len(s). (A '\r' is always followed by '\n'.) It tests eight
// bytes at a time; in each word the lowest flagged byte is exact, which is
// the one it returns.
func findSpecial(s []byte, i int) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(s[i:])
		a, b, c := w^(':'*ones), w^('#'*ones), w^('\n'*ones)
		m := ((a - ones) &^ a) | ((b - ones) &^ b) | ((c - ones) &^ c)
		if m &= high; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case ':', '#', '\n':
			return i
		}
	}
	return i
}

// indentOf is indentAt(p.src, i), remembered for the last i (a line's
// indentation is looked at by a scalar that might continue on it, then by
// the collection that goes on there).
func (p *fastParser) indentOf(i int) int {
	if i != p.indPos {
		p.indPos, p.indN = i, indentAt(p.src, i)
	}
	return p.indN
}

// indentAt counts the spaces starting at i.
func indentAt(s []byte, i int) int {
	n := 0
	for i+n+8 <= len(s) {
		w := binary.LittleEndian.Uint64(s[i+n:]) ^ (' ' * 0x0101010101010101)
		if w != 0 {
			return n + bits.TrailingZeros64(w)/8
		}
		n += 8
	}
	for i+n < len(s) && s[i+n] == ' ' {
		n++
	}
	return n
}

// plainBlock scans a plain scalar in block context starting at pos,
// multi-line continuation lines included, and leaves pos at the start of
// the line after it.
func (p *fastParser) plainBlock(bi int) (string, bool) {
	start := p.pos
	end, stop, ok := p.plainLine(start)
	if !ok {
		return "", false
	}
	if stop < len(p.src) && p.src[stop] == '#' {
		p.toEOL(stop)
		return p.str[start:end], true
	}
	// Look for continuation lines.
	p.breakAt(stop)
	built := false
	for {
		// Count empty lines; find the next line with content.
		empties := 0
		var ind int
		for {
			i := p.pos + p.indentOf(p.pos)
			if i < len(p.src) && (p.src[i] == '\n' || p.src[i] == '\r') {
				p.breakAt(i)
				empties++
				continue
			}
			ind = i - p.pos
			break
		}
		i := p.pos + ind
		if ind == 0 && !p.lineStartOK(i) {
			return "", false
		}
		if i >= len(p.src) || ind <= bi || p.src[i] == '#' {
			// Not a continuation: the scalar ended before the empty
			// lines; pos stays at the start of this line.
			break
		}
		if !p.plainStart(i) {
			return "", false
		}
		e, st, ok := p.plainLine(i)
		if !ok {
			return "", false
		}
		if !built {
			p.buf = append(p.buf[:0], p.src[start:end]...)
			built = true
		}
		if empties == 0 {
			p.buf = append(p.buf, ' ')
		} else {
			for ; empties > 0; empties-- {
				p.buf = append(p.buf, '\n')
			}
		}
		p.buf = append(p.buf, p.src[i:e]...)
		if st < len(p.src) && p.src[st] == '#' {
			p.toEOL(st)
			break
		}
		p.breakAt(st)
	}
	if !built {
		return p.str[start:end], true
	}
	return string(p.buf), true
}

// quoted scans a single- or double-quoted scalar at pos, possibly
// multi-line, and leaves pos after the closing quote. Continuation lines
// must be indented more than bi.
func (p *fastParser) quoted(bi int) (string, bool) {
	s := p.src
	single := s[p.pos] == '\''
	q := s[p.pos]
	start := p.pos + 1
	// Fast path: closed on the same line, nothing to unescape.
	for i := start; i < len(s); i++ {
		c := s[i]
		if c == q {
			if single && i+1 < len(s) && s[i+1] == '\'' {
				break
			}
			p.pos = i + 1
			return p.str[start:i], true
		}
		if c == '\\' && !single || c == '\n' || c == '\r' {
			break
		}
	}
	// General case: a transcription of yaml_parser_scan_flow_scalar.
	b := p.buf[:0]
	i := start
	var ws []byte
	leadingBreak := false
	trailing := 0
	for {
		if i >= len(s) {
			return "", false
		}
		leadingBlanks := false
		for i < len(s) && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' {
			c := s[i]
			if single && c == '\'' && i+1 < len(s) && s[i+1] == '\'' {
				b = append(b, '\'')
				i += 2
			} else if c == q {
				break
			} else if !single && c == '\\' && i+1 < len(s) && (s[i+1] == '\n' || s[i+1] == '\r') {
				p.breakAt(i + 1)
				i = p.pos
				leadingBlanks = true
				break
			} else if !single && c == '\\' {
				if i+1 >= len(s) {
					return "", false
				}
				code := 0
				switch e := s[i+1]; {
				case doubleQuotedEscapes[e] != "":
					b = append(b, doubleQuotedEscapes[e]...)
				case e == 'x':
					code = 2
				case e == 'u':
					code = 4
				case e == 'U':
					code = 8
				default:
					return "", false
				}
				i += 2
				if code > 0 {
					v := 0
					for k := 0; k < code; k++ {
						if i+k >= len(s) {
							return "", false
						}
						d := s[i+k]
						switch {
						case d >= '0' && d <= '9':
							v = v<<4 + int(d-'0')
						case d >= 'a' && d <= 'f':
							v = v<<4 + int(d-'a'+10)
						case d >= 'A' && d <= 'F':
							v = v<<4 + int(d-'A'+10)
						default:
							return "", false
						}
					}
					if v >= 0xD800 && v <= 0xDFFF || v > 0x10FFFF {
						return "", false
					}
					b = utf8.AppendRune(b, rune(v))
					i += code
				}
			} else {
				b = append(b, c)
				i++
			}
		}
		if i >= len(s) {
			return "", false
		}
		if s[i] == q {
			break
		}
		// Consume blanks and line breaks.
		for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r') {
			if s[i] == ' ' {
				if !leadingBlanks {
					ws = append(ws, ' ')
				}
				i++
				continue
			}
			p.breakAt(i)
			i = p.pos
			if !leadingBlanks {
				ws = ws[:0]
				leadingBreak = true
				leadingBlanks = true
			} else {
				trailing++
			}
		}
		if leadingBlanks {
			// A continuation line: must be indented past the block
			// collection (yaml.v3 does not check; stay on safe ground).
			if i < len(s) && (i-p.ls <= bi || i == p.ls && !p.lineStartOK(i)) {
				return "", false
			}
			if leadingBreak {
				if trailing == 0 {
					b = append(b, ' ')
				}
			}
			for ; trailing > 0; trailing-- {
				b = append(b, '\n')
			}
			leadingBreak = false
		} else {
			b = append(b, ws...)
			ws = ws[:0]
		}
	}
	p.pos = i + 1
	p.buf = b
	return string(b), true
}

// blockScalar scans a literal or folded block scalar whose indicator is at
// pos; bi is the indentation of the enclosing block collection. It is a
// transcription of yaml_parser_scan_block_scalar. pos ends at the start of
// the first line after the scalar.
func (p *fastParser) blockScalar(bi int) (string, bool) {
	s := p.src
	literal := s[p.pos] == '|'
	i := p.pos + 1
	chomp, incr := 0, 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		chomp = 1
		if s[i] == '-' {
			chomp = -1
		}
		i++
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if s[i] == '0' {
				return "", false
			}
			incr = int(s[i] - '0')
			i++
		}
	} else if i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if s[i] == '0' {
			return "", false
		}
		incr = int(s[i] - '0')
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			chomp = 1
			if s[i] == '-' {
				chomp = -1
			}
			i++
		}
	}
	p.pos = i
	if !p.blankz(i) || !p.finishLine() {
		return "", false
	}
	indent := 0
	if incr > 0 {
		if bi >= 0 {
			indent = bi + incr
		} else {
			indent = incr
		}
	}
	b := p.buf[:0]
	trailing := 0
	first := true
	// breaks is yaml_parser_scan_block_scalar_breaks: eat indentation and
	// empty lines, determine the indentation if needed; returns the column
	// reached on the current line.
	breaks := func() (int, bool) {
		maxIndent := 0
		for {
			j := p.pos
			for j < len(s) && s[j] == ' ' && (indent == 0 || j-p.ls < indent) {
				j++
			}
			c := j - p.ls
			if c > maxIndent {
				maxIndent = c
			}
			p.pos = j
			if j >= len(s) || (s[j] != '\n' && s[j] != '\r') {
				break
			}
			p.breakAt(j)
			trailing++
		}
		if indent == 0 {
			if first && p.pos < len(s) && p.pos-p.ls < maxIndent {
				// Leading empty lines indented more than the first content
				// line: an error in YAML; leave it to the general path.
				return 0, false
			}
			indent = max(maxIndent, bi+1, 1)
		}
		first = false
		return p.pos - p.ls, true
	}
	c, ok := breaks()
	if !ok {
		return "", false
	}
	leadingBreak, leadingBlank := false, false
	for c == indent && p.pos < len(s) {
		trailingBlank := s[p.pos] == ' '
		if !literal && leadingBreak && !leadingBlank && !trailingBlank {
			if trailing == 0 {
				b = append(b, ' ')
			}
		} else if leadingBreak {
			b = append(b, '\n')
		}
		leadingBreak = false
		for ; trailing > 0; trailing-- {
			b = append(b, '\n')
		}
		leadingBlank = s[p.pos] == ' '
		j := p.pos
		for j < len(s) && s[j] != '\n' && s[j] != '\r' {
			j++
		}
		b = append(b, s[p.pos:j]...)
		if j < len(s) {
			p.breakAt(j)
			leadingBreak = true
		} else {
			p.pos = j
		}
		if c, ok = breaks(); !ok {
			return "", false
		}
	}
	if chomp != -1 && leadingBreak {
		b = append(b, '\n')
	}
	if chomp == 1 {
		for ; trailing > 0; trailing-- {
			b = append(b, '\n')
		}
	}
	// Hand the rest of the current line back to the caller.
	if p.pos < len(s) {
		p.pos = p.ls
	}
	p.buf = b
	return string(b), true
}

// ---------------------------------------------------------------- flow

// flowScalar scans one scalar inside a flow collection at pos. A quoted
// scalar must end on its line; a plain value may continue on later lines
// (folded like any plain scalar), a plain key may not and stops before
// ": ".
func (p *fastParser) flowScalar(key bool) (*Node, bool) {
	s := p.src
	line, col := p.line, p.col(p.pos)
	if s[p.pos] == '"' || s[p.pos] == '\'' {
		v, ok := p.quoted(-1)
		if !ok || p.line != line {
			return nil, false
		}
		return p.scalar(TagStr, v, line, col), true
	}
	if !p.plainStart(p.pos) {
		return nil, false
	}
	start := p.pos
	end, stop, ok := p.flowPlainLine(start, key)
	if !ok {
		return nil, false
	}
	p.pos = stop
	if key || !p.eol(stop) {
		return p.plain(p.str[start:end], line, col)
	}
	// Continuation lines: a transcription of the folding in
	// yaml_parser_scan_plain_scalar (no indentation rule in flow context).
	built := false
	for p.eol(p.pos) {
		save, saveLine, saveLS := p.pos, p.line, p.ls
		empties := -1
		i := p.pos
		for p.eol(i) {
			if i >= len(s) {
				break
			}
			p.breakAt(i)
			empties++
			i = p.pos
			for i < len(s) && s[i] == ' ' {
				i++
			}
		}
		if i == p.ls && !p.lineStartOK(i) {
			return nil, false
		}
		if i >= len(s) || s[i] == ',' || s[i] == ']' || s[i] == '}' || s[i] == '#' {
			// The scalar ended before these line breaks.
			p.pos, p.line, p.ls = save, saveLine, saveLS
			break
		}
		if !p.plainStart(i) {
			return nil, false
		}
		e, st, ok := p.flowPlainLine(i, false)
		if !ok {
			return nil, false
		}
		if !built {
			p.buf = append(p.buf[:0], s[start:end]...)
			built = true
		}
		if empties == 0 {
			p.buf = append(p.buf, ' ')
		}
		for ; empties > 0; empties-- {
			p.buf = append(p.buf, '\n')
		}
		p.buf = append(p.buf, s[i:e]...)
		p.pos = st
	}
	if !built {
		return p.plain(p.str[start:end], line, col)
	}
	return p.plain(string(p.buf), line, col)
}

// flowPlainLine scans plain text inside a flow collection on one line from
// i. It returns the end of the text (trailing spaces excluded) and where it
// stopped: ',', ']', '}', a comment, a line break or, for a key, ": ".
func (p *fastParser) flowPlainLine(i int, key bool) (end, stop int, ok bool) {
	s := p.src
	end = i
	for ; i < len(s); i++ {
		switch s[i] {
		case ',', ']', '}', '\n', '\r':
			return end, i, true
		case ' ':
			continue
		case ':':
			if key && i+1 < len(s) && s[i+1] == ' ' {
				return end, i, true
			}
			return 0, 0, false
		case '?', '[', '{':
			return 0, 0, false
		case '#':
			if s[i-1] == ' ' {
				return end, i, true
			}
		}
		end = i + 1
	}
	return end, i, true
}

// flowSkip moves pos over spaces, line breaks and comments between the
// tokens of a flow collection (yaml.v3 has no indentation rule inside
// them). It fails at the end of input.
func (p *fastParser) flowSkip() bool {
	for {
		i := p.pos
		for i < len(p.src) && p.src[i] == ' ' {
			i++
		}
		if i >= len(p.src) {
			return false
		}
		switch p.src[i] {
		case '\n', '\r':
			p.breakAt(i)
			continue
		case '#':
			if i == p.pos && i > p.ls {
				return false // a comment needs a space before it
			}
			p.toEOL(i)
			continue
		}
		if i == p.ls && !p.lineStartOK(i) {
			return false
		}
		p.pos = i
		return true
	}
}

// flowSeq scans "[a, b, ...]", possibly over several lines, with scalar
// entries.
func (p *fastParser) flowSeq() (*Node, bool) {
	line, col := p.line, p.col(p.pos)
	start := len(p.stack)
	p.pos++
	for {
		if !p.flowSkip() {
			return nil, false
		}
		if p.src[p.pos] == ']' {
			// "[]" or a trailing comma
			p.pos++
			n := p.newNode(Sequence, TagSeq, "", line, col)
			n.Content = p.content(start)
			return n, true
		}
		n, ok := p.flowScalar(false)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, n)
		if !p.flowSkip() {
			return nil, false
		}
		switch p.src[p.pos] {
		case ']':
			p.pos++
			n := p.newNode(Sequence, TagSeq, "", line, col)
			n.Content = p.content(start)
			return n, true
		case ',':
			p.pos++
		default:
			return nil, false
		}
	}
}

// flowMap scans "{a: b, ...}", possibly over several lines, with scalar
// keys and values.
func (p *fastParser) flowMap() (*Node, bool) {
	line, col := p.line, p.col(p.pos)
	start := len(p.stack)
	p.pos++
	for {
		if !p.flowSkip() {
			return nil, false
		}
		if p.src[p.pos] == '}' {
			p.pos++
			if !p.uniqueKeys(start) {
				return nil, false
			}
			n := p.newNode(Mapping, TagMap, "", line, col)
			n.Content = p.content(start)
			return n, true
		}
		k, ok := p.flowScalar(true)
		if !ok {
			return nil, false
		}
		// "key: value" on one line
		for p.pos < len(p.src) && p.src[p.pos] == ' ' {
			p.pos++
		}
		if p.pos+1 >= len(p.src) || p.src[p.pos] != ':' || p.src[p.pos+1] != ' ' {
			return nil, false
		}
		p.pos += 2
		for p.pos < len(p.src) && p.src[p.pos] == ' ' {
			p.pos++
		}
		if p.eol(p.pos) || p.src[p.pos] == '#' {
			return nil, false
		}
		v, ok := p.flowScalar(false)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, k, v)
		if !p.flowSkip() {
			return nil, false
		}
		switch p.src[p.pos] {
		case '}':
			p.pos++
			if !p.uniqueKeys(start) {
				return nil, false
			}
			n := p.newNode(Mapping, TagMap, "", line, col)
			n.Content = p.content(start)
			return n, true
		case ',':
			p.pos++
		default:
			return nil, false
		}
	}
}

// doubleQuotedEscapes maps the character after a backslash in a
// double-quoted scalar to what it stands for (YAML 1.2 §5.7); \x, \u and \U
// take hex digits and are handled apart.
var doubleQuotedEscapes = [256]string{
	'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", 'n': "\n", 'v': "\v", 'f': "\f", 'r': "\r",
	'e': "\x1b", ' ': " ", '"': "\"", '\'': "'", '\\': "\\",
	'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
}
