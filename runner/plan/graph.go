package plan

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
)

// CycleError says that `needs` form a cycle, which no job can ever get out
// of. The validator only warns (the reference library accepts cycles), so
// the planner is where they are refused.
type CycleError struct {
	// Cycle names the actions in order, each needing the next, ending with
	// the first again: [a b c a]; a self-reference is [a a].
	Cycle []string
}

func (e *CycleError) Error() string {
	if len(e.Cycle) == 2 {
		return fmt.Sprintf("cannot plan: action %s needs itself (%s); remove %s from its `needs`",
			e.Cycle[0], strings.Join(e.Cycle, " -> "), e.Cycle[0])
	}
	return fmt.Sprintf("cannot plan: `needs` form a cycle: %s; break the cycle", strings.Join(e.Cycle, " -> "))
}

// DetectCycle returns a cycle of `needs` in p, or nil if there is none.
// When there are several, it names the shortest cycle through the first
// action, in file order, that lies on one: the same cycle the validator
// warns about first. Needs of unknown actions are ignored.
func DetectCycle(p *checks.Pipeline) []string {
	g := newGraph(p)
	if _, ok := g.order(nil); ok {
		return nil
	}
	for start := range g.names {
		if c := g.shortestCycle(start); c != nil {
			names := make([]string, len(c)+1)
			for k, i := range c {
				names[k] = g.names[i]
			}
			names[len(c)] = names[0]
			return names
		}
	}
	return nil // unreachable: order failed, so some action is on a cycle
}

// graph is a pipeline's `needs` by action index (file order).
type graph struct {
	names []string
	index map[string]int
	// deps[i] lists the actions i needs, each once, in the order first
	// written: a repeated entry is harmless.
	deps [][]int
	// problem is the first thing that makes the pipeline unplannable apart
	// from a cycle: a need of an unknown action, or two actions with one
	// name. Neither passes validation; the planner refuses them anyway.
	problem error
}

func newGraph(p *checks.Pipeline) *graph {
	g := &graph{
		names: make([]string, len(p.Actions)),
		index: make(map[string]int, len(p.Actions)),
		deps:  make([][]int, len(p.Actions)),
	}
	for i := range p.Actions {
		name := p.Actions[i].Name
		g.names[i] = name
		if _, dup := g.index[name]; dup {
			g.fail(fmt.Errorf("cannot plan: project.yaml has two actions named %s", name))
			continue
		}
		g.index[name] = i
	}
	for i := range p.Actions {
		for _, need := range p.Actions[i].Needs {
			j, ok := g.index[need]
			switch {
			case !ok:
				g.fail(fmt.Errorf("cannot plan: action %s needs %s, which is not an action in project.yaml", g.names[i], need))
			case !slices.Contains(g.deps[i], j):
				g.deps[i] = append(g.deps[i], j)
			}
		}
	}
	return g
}

func (g *graph) fail(err error) {
	if g.problem == nil {
		g.problem = err
	}
}

// order returns the actions where include is true (every action when
// include is nil), each after the included actions it needs, and among
// those free to go next, the first in file order. ok is false when a cycle
// among them leaves some out.
func (g *graph) order(include []bool) (order []int, ok bool) {
	in := func(i int) bool { return include == nil || include[i] }
	waiting := make([]int, len(g.names)) // how many included deps are not yet placed
	dependants := make([][]int, len(g.names))
	ready := &minHeap{}
	want := 0
	for i := range g.names {
		if !in(i) {
			continue
		}
		want++
		for _, d := range g.deps[i] {
			if in(d) {
				waiting[i]++
				dependants[d] = append(dependants[d], i)
			}
		}
		if waiting[i] == 0 {
			heap.Push(ready, i)
		}
	}
	order = make([]int, 0, want)
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, i)
		for _, d := range dependants[i] {
			if waiting[d]--; waiting[d] == 0 {
				heap.Push(ready, d)
			}
		}
	}
	return order, len(order) == want
}

// shortestCycle returns the shortest cycle of needs from start back to
// itself (breadth first, needs in written order), or nil.
func (g *graph) shortestCycle(start int) []int {
	prev := map[int]int{start: -1}
	queue := []int{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, w := range g.deps[u] {
			if w == start {
				var path []int
				for x := u; x != -1; x = prev[x] {
					path = append(path, x)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := prev[w]; !seen {
				prev[w] = u
				queue = append(queue, w)
			}
		}
	}
	return nil
}

type minHeap []int

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
