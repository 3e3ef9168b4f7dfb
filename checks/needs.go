package checks

import (
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

// crossAction runs the checks that need every action built: T7-T11.
func (v *validator) crossAction(actions *yamlx.Node, built []builtAction) {
	if v.version.noCohortExtractor() { // T7
		for i := range built {
			if b := &built[i]; b.parts != nil && strings.HasPrefix(b.parts[0], "cohortextractor") {
				v.errorf(b.runNode, ruleCohortExtractor, "Action %s uses cohortextractor actions, which are not supported in this version.", b.name)
			}
		}
	}
	if v.version.noLatestTag() { // T8
		for i := range built {
			if b := &built[i]; b.parts != nil && strings.HasSuffix(b.parts[0], ":latest") {
				v.errorf(b.runNode, ruleRunLatest, "Action %s uses `%s`, which is not supported. Provide a version e.g. `:v2` instead", b.name, b.parts[0])
			}
		}
	}
	v.pool.runs = reuseMap(v.pool.runs, len(built))
	runs := v.pool.runs // T9
	for i := range built {
		b := &built[i]
		if b.parts == nil {
			continue
		}
		if first, dup := runs[b.model.Run]; dup {
			v.errorf(b.runNode, ruleRunDuplicate, "Action %s has the same 'run' command as other actions: %s", b.name, first)
		} else {
			runs[b.model.Run] = b.name
		}
	}
	if v.version.uniqueOutputPaths() { // T10
		v.pool.outPaths = reuseMap(v.pool.outPaths, cap(v.pool.outputs))
		paths := v.pool.outPaths
		for i := range built {
			for _, lo := range built[i].outputs {
				for _, path := range lo.paths {
					if paths[path.Value] {
						v.errorf(path, rulePathNotUnique, "Output path %s is not unique", path.Value)
					}
					paths[path.Value] = true
				}
			}
		}
	}
	for i := range built { // T11
		b := &built[i]
		for _, e := range b.needs {
			switch {
			case e.Kind != yamlx.Scalar:
				v.errorf(e, ruleTypeError, "a `needs` entry of action %s is %s, not an action name", b.name, kindOf(e))
			case !v.known(e.Value) && !strings.Contains(e.Value, " "): // A13 reported a space
				v.errorf(e, ruleNeedsUnknown, "Action `%s` references an unknown action in its `needs` list: %s", b.name, e.Value)
			}
		}
	}
}

// known reports whether name is the name of an action (Python's `in` on
// the actions mapping).
func (v *validator) known(name string) bool {
	_, ok := v.index[name]
	return ok
}

// needsGraph warns about what the reference accepts but no runner can
// plan: an action that needs itself, a cycle of needs, a repeated entry.
func (v *validator) needsGraph(built []builtAction) {
	var edges [][]need // built when an action needs another
	for i := range built {
		b := &built[i]
		for k, e := range b.needs {
			if !e.IsString() {
				continue
			}
			if repeated(b.needs[:k], e.Value) {
				v.warnf(e, ruleNeedsRepeated, "Action %s lists %s more than once in its `needs`", b.name, e.Value)
				continue
			}
			j, ok := v.index[e.Value]
			switch {
			case !ok:
			case j == i:
				v.warnf(e, ruleNeedsSelf, "Action %s needs itself; the reference accepts this, but it can never run: remove %s from its `needs`", b.name, e.Value)
			default:
				if edges == nil {
					edges = make([][]need, len(built))
				}
				if edges[i] == nil {
					edges[i] = carve(&v.pool.edges, len(b.needs)-k)
				}
				edges[i] = append(edges[i], need{to: j, entry: e})
			}
		}
	}
	if edges == nil {
		return // no action needs another
	}
	for _, scc := range components(edges) {
		if len(scc) < 2 {
			continue
		}
		cycle, last := shortestCycle(edges, scc)
		if cycle == nil {
			continue
		}
		names := make([]string, len(cycle)+1)
		for k, i := range cycle {
			names[k] = built[i].name
		}
		names[len(cycle)] = names[0]
		v.warnf(last, ruleNeedsCycle, "`needs` form a cycle: %s; the reference accepts this, but these actions can never run: break the cycle",
			strings.Join(names, " -> "))
	}
}

// need is an edge of the needs graph and the entry that makes it.
type need struct {
	to    int
	entry *yamlx.Node
}

func repeated(earlier []*yamlx.Node, name string) bool {
	for _, e := range earlier {
		if e.IsString() && e.Value == name {
			return true
		}
	}
	return false
}

// components returns the strongly connected components of the graph that
// have two nodes or more (Tarjan), each listing its nodes.
func components(edges [][]need) [][]int {
	n := len(edges)
	index, low := make([]int, n), make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	next := 0
	var visit func(u int)
	visit = func(u int) {
		index[u], low[u] = next, next
		next++
		stack = append(stack, u)
		onStack[u] = true
		for _, e := range edges[u] {
			w := e.to
			if index[w] < 0 {
				visit(w)
				low[u] = min(low[u], low[w])
			} else if onStack[w] {
				low[u] = min(low[u], index[w])
			}
		}
		if low[u] == index[u] {
			if stack[len(stack)-1] == u { // a component of one node: not a cycle
				stack = stack[:len(stack)-1]
				onStack[u] = false
				return
			}
			var scc []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == u {
					break
				}
			}
			out = append(out, scc)
		}
	}
	for u := range n {
		if index[u] < 0 {
			visit(u)
		}
	}
	return out
}

// shortestCycle returns the shortest cycle through the first (in file
// order) node of a strongly connected component, and the needs entry that
// closes it.
func shortestCycle(edges [][]need, scc []int) ([]int, *yamlx.Node) {
	start := slices.Min(scc)
	in := make(map[int]bool, len(scc))
	for _, u := range scc {
		in[u] = true
	}
	prev := map[int]int{start: -1}
	queue := []int{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, e := range edges[u] {
			w := e.to
			if !in[w] {
				continue
			}
			if w == start {
				var path []int
				for x := u; x != -1; x = prev[x] {
					path = append(path, x)
				}
				slices.Reverse(path)
				return path, e.entry
			}
			if _, seen := prev[w]; !seen {
				prev[w] = u
				queue = append(queue, w)
			}
		}
	}
	return nil, nil // unreachable: a component of two or more nodes has a cycle through each
}
