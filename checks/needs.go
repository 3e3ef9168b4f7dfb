package checks

import (
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

// crossAction runs the checks that need every action built: T7-T11.
func (v *validator) crossAction(actions *yamlx.Node, built []*builtAction) {
	if v.version.noCohortExtractor() { // T7
		for _, b := range built {
			if b.parts != nil && strings.HasPrefix(b.parts[0], "cohortextractor") {
				v.errorf(b.runNode, ruleCohortExtractor, "Action %s uses cohortextractor actions, which are not supported in this version.", b.name)
			}
		}
	}
	if v.version.noLatestTag() { // T8
		for _, b := range built {
			if b.parts != nil && strings.HasSuffix(b.parts[0], ":latest") {
				v.errorf(b.runNode, ruleRunLatest, "Action %s uses `%s`, which is not supported. Provide a version e.g. `:v2` instead", b.name, b.parts[0])
			}
		}
	}
	runs := make(map[string]string, len(built)) // T9
	for _, b := range built {
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
		paths := make(map[string]bool)
		for _, b := range built {
			for _, lo := range b.outputs {
				for _, e := range lo.entries {
					if paths[e.path.Value] {
						v.errorf(e.path, rulePathNotUnique, "Output path %s is not unique", e.path.Value)
					}
					paths[e.path.Value] = true
				}
			}
		}
	}
	names := make(map[string]bool, len(actions.Content)/2) // T11
	for i := 0; i < len(actions.Content); i += 2 {
		if k := actions.Content[i]; k.IsString() {
			names[k.Value] = true
		}
	}
	for _, b := range built {
		for _, e := range b.needs {
			switch {
			case e.Kind != yamlx.Scalar:
				v.errorf(e, ruleTypeError, "a `needs` entry of action %s is %s, not an action name", b.name, kindOf(e))
			case !names[e.Value] && !strings.Contains(e.Value, " "): // A13 reported a space
				v.errorf(e, ruleNeedsUnknown, "Action `%s` references an unknown action in its `needs` list: %s", b.name, e.Value)
			}
		}
	}
}

// needsGraph warns about what the reference accepts but no runner can
// plan: an action that needs itself, a cycle of needs, a repeated entry.
func (v *validator) needsGraph(built []*builtAction) {
	index := make(map[string]int, len(built))
	for i, b := range built {
		if b.key.IsString() {
			index[b.name] = i
		}
	}
	edges := make([][]int, len(built))
	via := make([]map[int]*yamlx.Node, len(built)) // the entry behind each edge
	for i, b := range built {
		var seen map[string]bool
		for _, e := range b.needs {
			if !e.IsString() {
				continue
			}
			if seen[e.Value] {
				v.warnf(e, ruleNeedsRepeated, "Action %s lists %s more than once in its `needs`", b.name, e.Value)
				continue
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[e.Value] = true
			j, ok := index[e.Value]
			switch {
			case !ok:
			case j == i:
				v.warnf(e, ruleNeedsSelf, "Action %s needs itself; the reference accepts this, but it can never run: remove %s from its `needs`", b.name, e.Value)
			default:
				edges[i] = append(edges[i], j)
				if via[i] == nil {
					via[i] = map[int]*yamlx.Node{}
				}
				via[i][j] = e
			}
		}
	}
	for _, scc := range components(edges) {
		if len(scc) < 2 {
			continue
		}
		cycle := shortestCycle(edges, scc)
		names := make([]string, len(cycle)+1)
		for k, i := range cycle {
			names[k] = built[i].name
		}
		names[len(cycle)] = names[0]
		last := cycle[len(cycle)-1]
		v.warnf(via[last][cycle[0]], ruleNeedsCycle, "`needs` form a cycle: %s; the reference accepts this, but these actions can never run: break the cycle",
			strings.Join(names, " -> "))
	}
}

// components returns the strongly connected components of the graph
// (Tarjan), each listing its nodes.
func components(edges [][]int) [][]int {
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
		for _, w := range edges[u] {
			if index[w] < 0 {
				visit(w)
				low[u] = min(low[u], low[w])
			} else if onStack[w] {
				low[u] = min(low[u], index[w])
			}
		}
		if low[u] == index[u] {
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
// order) node of a strongly connected component, as a node list.
func shortestCycle(edges [][]int, scc []int) []int {
	start := scc[0]
	in := map[int]bool{}
	for _, u := range scc {
		in[u] = true
		start = min(start, u)
	}
	prev := map[int]int{start: -1}
	queue := []int{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, w := range edges[u] {
			if !in[w] {
				continue
			}
			if w == start {
				var path []int
				for x := u; x != -1; x = prev[x] {
					path = append(path, x)
				}
				for l, r := 0, len(path)-1; l < r; l, r = l+1, r-1 {
					path[l], path[r] = path[r], path[l]
				}
				return path
			}
			if _, seen := prev[w]; !seen {
				prev[w] = u
				queue = append(queue, w)
			}
		}
	}
	return []int{start}
}
