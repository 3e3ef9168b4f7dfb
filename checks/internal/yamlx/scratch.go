package yamlx

// Scratch holds the memory the fast path carves trees from, for a caller
// that parses file after file and drops each tree before the next parse:
// the node and Content slabs of one parse are reused by the next, instead
// of being allocated anew and left to the garbage collector. A Scratch is
// not safe for concurrent use. The zero value is ready.
type Scratch struct {
	nodes  [][]Node
	ptrs   [][]*Node
	ni, pi int // slabs handed out since the last Reset
	stack  []*Node
	keyTab []int32
}

// ParseWith is Parse carving the tree from s (from new memory if s is
// nil). The tree is valid until s.Reset; strings in it (Value, Tag) stay
// valid for good.
func ParseWith(src []byte, s *Scratch) (*Node, error) {
	n, ok, line, dups := parseFastWith(src, s)
	if ok {
		if len(dups) == 0 {
			return n, nil
		}
		if e := firstDuplicate(n, dups); e != nil {
			return nil, e
		}
		// (not expected: uniqueKeys declines only for equal texts here)
	}
	return parseV3Hint(src, line)
}

// Reset makes the memory of every tree parsed with s since the last Reset
// available again. Those trees must no longer be used. The slabs they used
// are cleared, so that s keeps no string of theirs alive.
func (s *Scratch) Reset() {
	for _, sl := range s.nodes[:s.ni] {
		clear(sl[:cap(sl)])
	}
	for _, sl := range s.ptrs[:s.pi] {
		clear(sl[:cap(sl)])
	}
	s.ni, s.pi = 0, 0
}

func (s *Scratch) nodeSlab() []Node {
	if s.ni < len(s.nodes) {
		s.ni++
		return s.nodes[s.ni-1][:0]
	}
	sl := make([]Node, 0, fastNodeSlab)
	s.nodes = append(s.nodes, sl)
	s.ni++
	return sl
}

func (s *Scratch) ptrSlab() []*Node {
	if s.pi < len(s.ptrs) {
		s.pi++
		return s.ptrs[s.pi-1][:0]
	}
	sl := make([]*Node, 0, fastPtrSlab)
	s.ptrs = append(s.ptrs, sl)
	s.pi++
	return sl
}
