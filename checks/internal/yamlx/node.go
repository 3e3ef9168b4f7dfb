// Package yamlx parses YAML into a small position-annotated tree with the
// semantics OpenSAFELY's reference loader (ruyaml, YAML 1.2) gives a
// project.yaml: YAML 1.2 core-schema typing, merge keys and aliases expanded,
// duplicate keys rejected at any depth, hard limits against hostile input.
package yamlx

// Kind is the shape of a node.
type Kind uint8

const (
	Scalar Kind = iota + 1
	Mapping
	Sequence
)

// Resolved tags. Any other tag (e.g. "!foo", "!!python/name:x") is kept as
// written and means "not a plain value of a known type".
const (
	TagStr       = "!!str"
	TagInt       = "!!int"
	TagFloat     = "!!float"
	TagBool      = "!!bool"
	TagNull      = "!!null"
	TagTimestamp = "!!timestamp"
	TagMap       = "!!map"
	TagSeq       = "!!seq"
)

// Node is one YAML value. Mapping content is key, value, key, value ... in
// document order after merge keys were expanded; Sequence content is the items.
type Node struct {
	Kind    Kind
	Tag     string
	Value   string // scalar text after quoting, escapes and folding were applied
	Line    int    // 1-based
	Column  int    // 1-based
	Content []*Node
}
