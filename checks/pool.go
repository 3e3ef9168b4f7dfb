package checks

import "github.com/fivesafes/fivesafes/checks/internal/yamlx"

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
	fields := make([]actionFields, len(actions.Content)/2)
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
	p.paths = make([]*yamlx.Node, 0, nOutputs)
	p.groups = make([]OutputGroup, 0, nLevels)
	p.levels = make([]levelOutputs, 0, nLevels)
	p.needs = make([]string, 0, nNeeds)
	p.words = make([]string, 0, 5*n) // run commands are short; longer ones allocate their own
	p.edges = make([]need, 0, nNeeds)
	return fields
}
