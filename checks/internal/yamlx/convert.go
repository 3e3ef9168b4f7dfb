package yamlx

import "go.yaml.in/yaml/v3"

// converter turns a yaml.v3 node tree into a Node tree the way ruamel's
// round-trip constructor builds Python objects: plain scalars typed by the
// YAML 1.2 (or 1.1) resolver, merge keys expanded, aliases shared,
// duplicate keys rejected, scalars that would crash the constructor
// rejected.
type converter struct {
	resolve  func(string) string
	v11      bool
	anchored map[*yaml.Node]converted // anchored nodes already converted
	building map[*yaml.Node]bool      // anchored collections being converted
	expanded int                      // nodes added through aliases and merges
}

type converted struct {
	node *Node
	size int // nodes in the subtree, counting what aliases add
}

func kindName(y *yaml.Node) string {
	switch y.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	}
	return "a scalar"
}

// node converts y at the given nesting depth and returns the node and its
// subtree size.
func (c *converter) node(y *yaml.Node, depth int) (*Node, int, error) {
	if y.Kind == yaml.AliasNode {
		return c.alias(y)
	}
	if y.Anchor != "" {
		if c.building == nil {
			c.anchored = map[*yaml.Node]converted{}
			c.building = map[*yaml.Node]bool{}
		}
		c.building[y] = true
		defer delete(c.building, y)
	}
	var n *Node
	var size int
	var err error
	switch y.Kind {
	case yaml.ScalarNode:
		n, err = c.scalar(y)
		size = 1
	case yaml.MappingNode, yaml.SequenceNode:
		if depth > MaxDepth {
			return nil, 0, errorf(ErrLimit, y.Line, y.Column, "the document nests deeper than %d levels", MaxDepth)
		}
		if err := collectionTag(y); err != nil {
			return nil, 0, err
		}
		if y.Kind == yaml.MappingNode {
			n, size, err = c.mapping(y, depth)
		} else {
			n, size, err = c.sequence(y, depth)
		}
	default:
		err = errorf(ErrSyntax, y.Line, y.Column, "unexpected YAML node")
	}
	if err != nil {
		return nil, 0, err
	}
	if y.Anchor != "" {
		c.anchored[y] = converted{n, size}
	}
	return n, size, nil
}

func (c *converter) alias(y *yaml.Node) (*Node, int, error) {
	target := y.Alias
	if target == nil {
		return nil, 0, errorf(ErrSyntax, y.Line, y.Column, "unknown anchor %q referenced", y.Value)
	}
	if c.building[target] {
		return nil, 0, errorf(ErrLimit, y.Line, y.Column, "alias *%s refers to a node that contains it (a recursive structure)", y.Value)
	}
	done, ok := c.anchored[target]
	if !ok {
		return nil, 0, errorf(ErrSyntax, y.Line, y.Column, "unknown anchor %q referenced", y.Value)
	}
	if err := c.grow(y, done.size); err != nil {
		return nil, 0, err
	}
	return done.node, done.size, nil
}

// grow accounts for n nodes added by expansion.
func (c *converter) grow(at *yaml.Node, n int) error {
	c.expanded += n
	if c.expanded > MaxExpansion {
		return errorf(ErrLimit, at.Line, at.Column,
			"aliases and merge keys expand the document beyond %d nodes (an alias bomb?)", MaxExpansion)
	}
	return nil
}

// collectionTag rejects a scalar tag on a collection, which ruamel cannot
// construct ("expected a scalar node, but found mapping").
func collectionTag(y *yaml.Node) error {
	want := "!!map"
	if y.Kind == yaml.SequenceNode {
		want = "!!seq"
	}
	switch y.Tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary":
		return errorf(ErrValue, y.Line, y.Column, "tag %s cannot be applied to %s", y.Tag, kindName(y))
	case "!!map", "!!seq":
		if y.Tag != want {
			return errorf(ErrValue, y.Line, y.Column, "tag %s cannot be applied to %s", y.Tag, kindName(y))
		}
	}
	return nil
}

func (c *converter) sequence(y *yaml.Node, depth int) (*Node, int, error) {
	n := &Node{Kind: Sequence, Tag: y.Tag, Line: y.Line, Column: y.Column}
	size := 1
	if len(y.Content) > 0 {
		n.Content = make([]*Node, 0, len(y.Content))
	}
	for _, item := range y.Content {
		v, s, err := c.node(item, depth+1)
		if err != nil {
			return nil, 0, err
		}
		n.Content = append(n.Content, v)
		size += s
	}
	return n, size, nil
}

func isMergeKey(k *yaml.Node) bool {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}

func (c *converter) mapping(y *yaml.Node, depth int) (*Node, int, error) {
	n := &Node{Kind: Mapping, Tag: y.Tag, Line: y.Line, Column: y.Column}
	size := 1

	// Merge keys first, as ruamel's flatten_mapping does.
	var sources []*Node
	for i := 0; i+1 < len(y.Content); i += 2 {
		if !isMergeKey(y.Content[i]) {
			continue
		}
		if len(sources) > 0 {
			k := y.Content[i]
			return nil, 0, errorf(ErrDuplicateKey, k.Line, k.Column, "found duplicate key \"<<\" (a mapping may have only one merge key; list several anchors in it instead: <<: [*a, *b])")
		}
		srcs, s, err := c.mergeSources(y.Content[i+1], depth)
		if err != nil {
			return nil, 0, err
		}
		sources = append(sources, srcs...)
		size += s
	}

	pairs := make([]*Node, 0, len(y.Content))
	var seen map[keyID]int // built for large mappings only
	for i := 0; i+1 < len(y.Content); i += 2 {
		if isMergeKey(y.Content[i]) {
			continue
		}
		k, ks, err := c.node(y.Content[i], depth+1)
		if err != nil {
			return nil, 0, err
		}
		if k.Kind == Scalar && k.Tag == TagValue {
			k = &Node{Kind: Scalar, Tag: TagStr, Value: k.Value, Line: k.Line, Column: k.Column}
		}
		v, vs, err := c.node(y.Content[i+1], depth+1)
		if err != nil {
			return nil, 0, err
		}
		if first := findKey(pairs, k, &seen); first != nil {
			return nil, 0, duplicateKey(k, first)
		}
		pairs = append(pairs, k, v)
		size += ks + vs
	}

	// Merged keys come after the mapping's own, the first source winning.
	if len(sources) > 0 {
		for _, src := range sources {
			for j := 0; j+1 < len(src.Content); j += 2 {
				k := src.Content[j]
				if findKey(pairs, k, &seen) != nil {
					continue
				}
				pairs = append(pairs, k, src.Content[j+1])
			}
		}
	}
	if len(pairs) > 0 {
		n.Content = pairs
	}
	return n, size, nil
}

// findKey returns the key in pairs equal to k (as Python compares dict
// keys), or nil. seen indexes pairs once a mapping grows large.
func findKey(pairs []*Node, k *Node, seen *map[keyID]int) *Node {
	if k.Kind == Scalar && k.Tag == TagStr && len(pairs) <= 32 && *seen == nil {
		for i := 0; i < len(pairs); i += 2 {
			if p := pairs[i]; p.Kind == Scalar && (p.Tag == TagStr || p.Tag == TagValue) && p.Value == k.Value {
				return p
			}
		}
		if !allStrings(pairs) {
			return findKeySlow(pairs, k)
		}
		return nil
	}
	id, ok := keyOf(k)
	if !ok {
		return nil
	}
	if len(pairs) <= 32 && *seen == nil {
		return findKeySlow(pairs, k)
	}
	if *seen == nil {
		*seen = make(map[keyID]int, len(pairs))
		for i := 0; i < len(pairs); i += 2 {
			if pid, ok := keyOf(pairs[i]); ok {
				if _, dup := (*seen)[pid]; !dup {
					(*seen)[pid] = i
				}
			}
		}
	}
	if i, ok := (*seen)[id]; ok {
		return pairs[i]
	}
	(*seen)[id] = len(pairs)
	return nil
}

func allStrings(pairs []*Node) bool {
	for i := 0; i < len(pairs); i += 2 {
		if p := pairs[i]; p.Kind != Scalar || p.Tag != TagStr {
			return false
		}
	}
	return true
}

func findKeySlow(pairs []*Node, k *Node) *Node {
	id, ok := keyOf(k)
	if !ok {
		return nil
	}
	for i := 0; i < len(pairs); i += 2 {
		if pid, ok := keyOf(pairs[i]); ok && pid == id {
			return pairs[i]
		}
	}
	return nil
}

func duplicateKey(k, first *Node) *Error {
	return errorf(ErrDuplicateKey, k.Line, k.Column,
		"found duplicate key %q (first defined at line %d, column %d); a key may appear only once in a mapping",
		Str(k), first.Line, first.Column)
}

// mergeSources returns the mappings a "<<" value merges in, and the size it
// adds to the mapping.
func (c *converter) mergeSources(v *yaml.Node, depth int) ([]*Node, int, error) {
	n, size, err := c.node(v, depth+1)
	if err != nil {
		return nil, 0, err
	}
	switch n.Kind {
	case Mapping:
		return []*Node{n}, size, nil
	case Sequence:
		for _, item := range n.Content {
			if item.Kind != Mapping {
				return nil, 0, errorf(ErrValue, item.Line, item.Column,
					"expected a mapping for merging, but found %s", kindText(item.Kind))
			}
		}
		return n.Content, size, nil
	}
	return nil, 0, errorf(ErrValue, v.Line, v.Column,
		"expected a mapping or list of mappings for merging, but found %s", kindText(n.Kind))
}

func kindText(k Kind) string {
	switch k {
	case Mapping:
		return "a mapping"
	case Sequence:
		return "a sequence"
	}
	return "a scalar"
}
