package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// nodeIndex maps key paths ("github.app_id", "backends[0].name") to the YAML
// nodes they came from, so that every error can carry a line number.
type nodeIndex struct {
	values map[string]*yaml.Node // path -> value node
	keys   []keyNode             // every mapping key, in document order
}

type keyNode struct {
	path string
	node *yaml.Node
}

func indexNodes(doc *yaml.Node) *nodeIndex {
	idx := &nodeIndex{values: map[string]*yaml.Node{}}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		idx.walk(doc.Content[0], "")
	}
	return idx
}

func (idx *nodeIndex) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinKey(path, k.Value)
			idx.keys = append(idx.keys, keyNode{p, k})
			if _, seen := idx.values[p]; !seen {
				idx.values[p] = v
			}
			idx.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			idx.values[p] = item
			idx.walk(item, p)
		}
	}
}

// line is the line of the value at path, or 0 when the key is absent.
func (idx *nodeIndex) line(path string) int {
	if n, ok := idx.values[path]; ok {
		return n.Line
	}
	return 0
}

// parentOf("github.app_id") is "github"; parentOf("backends[0].name") is "backends[0]".
func parentOf(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

var (
	reNotFound   = regexp.MustCompile(`^line (\d+): field (.+) not found in type \S+$`)
	reUnmarshal  = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	reDuplicate  = regexp.MustCompile(`^line (\d+): mapping key (".*") already defined at line (\d+)$`)
	reAlreadySet = regexp.MustCompile(`^line (\d+): field (.+) already set in type \S+$`)
	reLine       = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// translateTypeError turns yaml.v3's "line 3: cannot unmarshal !!str `x` into
// int" into "line 3, workers: want a whole number, got text "x"".
func translateTypeError(te *yaml.TypeError, idx *nodeIndex) []*FieldError {
	var out []*FieldError
	for _, msg := range te.Errors {
		out = append(out, translateOne(msg, idx))
	}
	return out
}

func translateOne(msg string, idx *nodeIndex) *FieldError {
	if m := reNotFound.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		path := idx.keyPath(line, m[2])
		return &FieldError{Line: line, Key: path, Reason: unknownKeyReason(m[2], knownKeys(parentOf(path))), unjudged: &path}
	}
	if m := reUnmarshal.FindStringSubmatch(msg); m != nil {
		line, tag, value, into := atoi(m[1]), m[2], m[3], m[4]
		path := idx.valuePath(line, tag, value)
		reason := "want " + describeGoType(into) + ", got " + describeTag(tag)
		if value != "" && !strings.Contains(path, "secret") {
			reason += " " + strconv.Quote(value)
		}
		return &FieldError{Line: line, Key: path, Reason: reason, unjudged: &path}
	}
	if m := reDuplicate.FindStringSubmatch(msg); m != nil {
		name, _ := strconv.Unquote(m[2])
		line := atoi(m[1])
		path := idx.keyPath(line, name)
		// yaml.v3 decodes nothing of a mapping with a repeated key.
		parent := parentOf(path)
		return &FieldError{Line: line, Key: path, Reason: "key repeated (first given at line " + m[3] + ")", unjudged: &parent}
	}
	if m := reAlreadySet.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		path := idx.keyPath(line, m[2])
		parent := parentOf(path)
		return &FieldError{Line: line, Key: path, Reason: "key repeated", unjudged: &parent}
	}
	if m := reLine.FindStringSubmatch(msg); m != nil {
		all := ""
		return &FieldError{Line: atoi(m[1]), Reason: m[2], unjudged: &all}
	}
	all := ""
	return &FieldError{Reason: msg, unjudged: &all}
}

// syntaxError reports YAML that does not parse at all.
func syntaxError(name string, err error) error {
	fe := &FieldError{File: name, Reason: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := reLine.FindStringSubmatch(err.Error()); m != nil {
		fe.Line, fe.Reason = atoi(m[1]), "not valid YAML: "+m[2]
	}
	return fe
}

// keyPath finds the path of the key called name on line.
func (idx *nodeIndex) keyPath(line int, name string) string {
	for _, k := range idx.keys {
		if k.node.Line == line && k.node.Value == name {
			return k.path
		}
	}
	return name
}

// valuePath finds the path of the value on line that yaml.v3 complained
// about; its message shows at most the first seven characters of the value.
func (idx *nodeIndex) valuePath(line int, tag, value string) string {
	value = strings.TrimSuffix(value, "...")
	best := ""
	for path, n := range idx.values {
		if n.Line != line || n.ShortTag() != tag || !strings.HasPrefix(n.Value, value) {
			continue
		}
		// Map order is random: prefer the deepest, then the first by name.
		if best == "" || len(path) > len(best) || (len(path) == len(best) && path < best) {
			best = path
		}
	}
	return best
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func describeTag(tag string) string {
	switch tag {
	case "!!str":
		return "text"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "true/false"
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "nothing"
	}
	return tag
}

func describeGoType(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case t == "string":
		return "text"
	case t == "bool":
		return "true/false"
	case strings.HasPrefix(t, "config.") || strings.HasPrefix(t, "struct"):
		return "a mapping"
	}
	return t
}

// knownKeys lists the keys allowed under parent (a path such as "github" or
// "backends[2]"), read from the yaml tags of the file types.
func knownKeys(parent string) []string {
	t := reflect.TypeOf(fileConfig{})
	if parent != "" {
		for _, seg := range strings.Split(parent, ".") {
			if i := strings.IndexByte(seg, '['); i >= 0 {
				seg = seg[:i]
			}
			f, ok := fieldByTag(t, seg)
			if !ok {
				return nil
			}
			t = f.Type
			for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
				t = t.Elem()
			}
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if tag := yamlName(t.Field(i)); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func unknownKeyReason(name string, known []string) string {
	if s := closest(name, known); s != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", s)
	}
	if len(known) == 0 {
		return "unknown key"
	}
	return "unknown key (known here: " + strings.Join(known, ", ") + ")"
}

// closest returns the known key within edit distance 2 of name, if any.
func closest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = slices.Min([]int{prev[j] + 1, cur[j-1] + 1, prev[j-1] + cost})
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
