package checks

import (
	"sync"

	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

// pool holds the backing arrays the model of one file is carved from, sized
// by a first pass over the actions, so that building a pipeline of a
// thousand actions takes a handful of allocations instead of thousands.
type pool struct {
	outputs []Output
	paths   []*yamlx.Node
	groups  []OutputGroup
	levels  []levelOutputs
	needs   []string
	words   []string
	edges   []need

	// Working memory that no Result refers to, kept from file to file
	// when the pool is recycled (validatorPools): the arrays above that
	// are not part of the model, and these.
	fields   []actionFields
	built    []builtAction
	index    map[string]int
	runs     map[string]string
	outPaths map[string]bool
}

// validatorPools recycles the working memory of Validate.
var validatorPools = sync.Pool{New: func() any { return new(pool) }}

// release drops what the model owns (it went out with the Result),
// keeping the working memory. That is not cleared (reserve clears what it
// reuses that must start zero): until reused it may keep the last file's
// nodes and model alive, which the recycling of pools bounds.
func (p *pool) release() {
	p.outputs, p.groups, p.needs, p.words = nil, nil, nil, nil
	p.paths, p.levels, p.edges = p.paths[:0], p.levels[:0], p.edges[:0]
	p.fields, p.built = p.fields[:0], p.built[:0]
}

// reuse returns s with room for n, empty.
func reuse[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// reuseMap returns m emptied, or a new map for about n entries.
func reuseMap[K comparable, V any](m map[K]V, n int) map[K]V {
	if m == nil {
		return make(map[K]V, n)
	}
	clear(m)
	return m
}

// carve returns an empty slice with room for n elements from the pool, or
// a new one when the pool is used up. Appending within that room cannot
// touch a neighbour: the capacity is capped.
func carve[T any](from *[]T, n int) []T {
	l := len(*from)
	if n > cap(*from)-l {
		return make([]T, 0, n)
	}
	*from = (*from)[:l+n]
	return (*from)[l : l : l+n]
}

// reserve sizes the pool for the actions mapping and returns each action's
// fields (zero for an action that is not a mapping).
func (p *pool) reserve(actions *yamlx.Node) []actionFields {
	fields := reuse(p.fields, len(actions.Content)/2)[:len(actions.Content)/2]
	clear(fields)
	p.fields = fields
	var nOutputs, nLevels, nNeeds int
	for i := range fields {
		cfg := actions.Content[2*i+1]
		if cfg.Kind != yamlx.Mapping {
			continue
		}
		fields[i] = fieldsOf(cfg)
		f := &fields[i]
		if outputs := f.outputs.val; f.outputs.present() && outputs.Kind == yamlx.Mapping {
			levels, _ := levelsOf(outputs)
			for _, l := range levels {
				if l != nil {
					nLevels++
					nOutputs += len(l.Content) / 2
				}
			}
		}
		if needs := f.needs.val; f.needs.present() && needs.Kind == yamlx.Sequence {
			nNeeds += len(needs.Content)
		}
	}
	n := len(actions.Content) / 2
	p.outputs = make([]Output, 0, nOutputs)
	p.paths = reuse(p.paths, nOutputs)
	p.groups = make([]OutputGroup, 0, nLevels)
	p.levels = reuse(p.levels, nLevels)
	p.needs = make([]string, 0, nNeeds)
	p.words = make([]string, 0, 5*n) // run commands are short; longer ones allocate their own
	p.edges = reuse(p.edges, nNeeds)
	return fields
}
