package yamlx

import (
	"math/big"
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/pyconv"
	"go.yaml.in/yaml/v3"
)

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
		srcs, s, err := c.mergeSources(y, y.Content[i+1], depth)
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
func (c *converter) mergeSources(m, v *yaml.Node, depth int) ([]*Node, int, error) {
	target := v
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		target = v.Alias
	}
	switch target.Kind {
	case yaml.MappingNode:
		n, s, err := c.node(v, depth+1)
		if err != nil {
			return nil, 0, err
		}
		return []*Node{n}, s, nil
	case yaml.SequenceNode:
		if err := collectionTag(target); err != nil {
			return nil, 0, err
		}
		if v.Kind == yaml.AliasNode {
			if _, s, err := c.alias(v); err != nil {
				return nil, 0, err
			} else if err := c.grow(v, 0); err != nil {
				_ = s
				return nil, 0, err
			}
		}
		var out []*Node
		size := 0
		for _, item := range target.Content {
			it := item
			if it.Kind == yaml.AliasNode && it.Alias != nil {
				it = it.Alias
			}
			if it.Kind != yaml.MappingNode {
				return nil, 0, errorf(ErrValue, item.Line, item.Column,
					"expected a mapping for merging, but found %s", kindName(it))
			}
			n, s, err := c.node(item, depth+2)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, n)
			size += s
		}
		return out, size, nil
	}
	return nil, 0, errorf(ErrValue, v.Line, v.Column,
		"expected a mapping or list of mappings for merging, but found %s", kindName(target))
}

// scalar types a scalar and rejects values ruamel's constructor fails on.
func (c *converter) scalar(y *yaml.Node) (*Node, error) {
	n := &Node{Kind: Scalar, Value: y.Value, Line: y.Line, Column: y.Column}
	switch {
	case y.Style&yaml.TaggedStyle != 0 && y.Tag != "!":
		n.Tag = y.Tag
		if err := checkTagged(n); err != nil {
			return nil, err
		}
		return n, nil
	case y.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		n.Tag = TagStr
		return n, nil
	}
	n.Tag = c.resolve(y.Value)
	if c.v11 {
		canonical11(n)
	}
	if !plainConstructible(n.Tag, n.Value) {
		return nil, notConstructible(n)
	}
	return n, nil
}

// plainConstructible is checkConstructible for a plain scalar the resolver
// typed, whose form the resolver's pattern already guarantees: an int or a
// float needs a digit (ruamel drops underscores first, so "+_" and "._"
// are left with none), a date must exist.
func plainConstructible(tag, value string) bool {
	switch tag {
	case TagInt:
		s := strings.ReplaceAll(value, "_", "")
		s = strings.TrimLeft(s, "+-")
		if len(s) >= 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'o' || s[1] == 'x') {
			s = s[2:]
		}
		return s != ""
	case TagFloat:
		for i := 0; i < len(value) && value[i] != 'e' && value[i] != 'E'; i++ {
			if isDigitByte(value[i]) || value[i] == 'i' || value[i] == 'I' || value[i] == 'n' || value[i] == 'N' {
				return true
			}
		}
		return false
	case TagTimestamp:
		return validDate(parseTimestamp(value))
	}
	return true
}

// checkTagged checks an explicitly tagged scalar against its tag.
func checkTagged(n *Node) error {
	switch n.Tag {
	case "!!map", "!!seq":
		return errorf(ErrValue, n.Line, n.Column, "tag %s cannot be applied to a scalar", n.Tag)
	case TagNull:
		return nil
	}
	return checkConstructible(n)
}

// checkConstructible fails for the values of a core type that ruamel's
// constructor crashes on: "_" as an int, "._" as a float, 2021-02-30.
func checkConstructible(n *Node) error {
	ok := true
	switch n.Tag {
	case TagInt:
		_, ok = IntValue(n.Value)
	case TagFloat:
		_, ok = FloatValue(n.Value)
	case TagBool:
		_, ok = BoolValue(n.Value)
	case TagTimestamp:
		ok = validDate(parseTimestamp(n.Value))
	default:
		return nil
	}
	if !ok {
		return notConstructible(n)
	}
	return nil
}

func notConstructible(n *Node) *Error {
	return errorf(ErrValue, n.Line, n.Column, "%q cannot be read as %s; put it in quotes if it is text", n.Value, typeName(n.Tag))
}

func typeName(tag string) string {
	switch tag {
	case TagInt:
		return "an integer"
	case TagFloat:
		return "a number"
	case TagBool:
		return "a boolean"
	case TagTimestamp:
		return "a date"
	}
	return tag
}

func validDate(t timestamp) bool {
	if !t.ok || t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[t.month]
	if t.month == 2 && t.year%4 == 0 && (t.year%100 != 0 || t.year%400 == 0) {
		days = 29
	}
	if t.day > days {
		return false
	}
	return !t.hasTime || (t.hour <= 23 && t.minute <= 59 && t.second <= 59)
}

// canonical11 rewrites the value of a YAML 1.1 number or boolean to the
// YAML 1.2 spelling of the same value, so that the rest of the code needs
// to know only one set of rules.
func canonical11(n *Node) {
	switch n.Tag {
	case TagBool:
		if b, ok := BoolValue(n.Value); ok {
			n.Value = map[bool]string{true: "true", false: "false"}[b]
		}
	case TagInt:
		if v, ok := int11(n.Value); ok {
			n.Value = v.String()
		}
	case TagFloat:
		if strings.Contains(n.Value, ":") {
			if f, ok := sexagesimalFloat(n.Value); ok {
				n.Value = pyconv.FloatRepr(f)
			}
		}
	}
}

func int11(value string) (*big.Int, bool) {
	s := strings.ReplaceAll(value, "_", "")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	var v *big.Int
	ok := false
	switch {
	case s == "":
	case strings.HasPrefix(s, "0b"), strings.HasPrefix(s, "0x"):
		return IntValue(value)
	case strings.Contains(s, ":"):
		v, ok = new(big.Int), true
		for _, part := range strings.Split(s, ":") {
			d, good := new(big.Int).SetString(part, 10)
			if !good {
				return nil, false
			}
			v.Mul(v, big.NewInt(60)).Add(v, d)
		}
	case s[0] == '0':
		v, ok = new(big.Int).SetString(s, 8)
	default:
		v, ok = new(big.Int).SetString(s, 10)
	}
	if !ok {
		return nil, false
	}
	if neg {
		v.Neg(v)
	}
	return v, true
}

func sexagesimalFloat(value string) (float64, bool) {
	s := strings.ReplaceAll(value, "_", "")
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	total := 0.0
	for _, part := range strings.Split(s, ":") {
		f, ok := pyconv.Float(part)
		if !ok {
			return 0, false
		}
		total = total*60 + f
	}
	return sign * total, true
}
