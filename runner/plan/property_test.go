package plan

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/fivesafes/fivesafes/checks"
)

// randomRun builds a random pipeline whose needs form a DAG (written in
// shuffled file order, with repeated needs), a random workspace history and
// a random request.
type randomRun struct {
	req   Request
	index map[string]int         // file position
	deps  map[string][]string    // each need once
	last  map[string]PriorJob    // = req.Latest
	sums  map[string]Fingerprint // at req.Files
}

func newRandomRun(seed uint64, size uint8) randomRun {
	rng := rand.New(rand.NewPCG(seed, uint64(size)))
	n := 1 + int(size)%25
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("a%02d", i)
	}
	files := map[string]string{}
	actions := make([]checks.Action, n)
	for i, name := range names { // a DAG: a name only needs names before it
		a := act(name, fmt.Sprintf("python:v2 analysis/%s.py", name))
		files["analysis/"+name+".py"] = fmt.Sprint("blob-", rng.IntN(3))
		for j := range i {
			if rng.IntN(4) == 0 {
				a.Needs = append(a.Needs, names[j])
				if rng.IntN(5) == 0 {
					a.Needs = append(a.Needs, names[j])
				}
			}
		}
		actions[i] = a
	}
	rng.Shuffle(n, func(i, j int) { actions[i], actions[j] = actions[j], actions[i] })
	p := pipeline(actions...)

	// History: fingerprints at a tree where some blobs differ.
	then := map[string]string{}
	for path, blob := range files {
		then[path] = blob
		if rng.IntN(4) == 0 {
			then[path] = "blob-old"
		}
	}
	thenSums, err := Fingerprints(p, then)
	if err != nil {
		panic(err)
	}
	states := []JobState{Pending, Running, Succeeded, Succeeded, Failed}
	latest := map[string]PriorJob{}
	for _, name := range names {
		if k := rng.IntN(len(states) + 2); k < len(states) {
			latest[name] = PriorJob{ID: "old-" + name, State: states[k], Fingerprint: thenSums[name]}
		}
	}
	req := Request{Pipeline: p, Files: files, Latest: latest, Force: rng.IntN(4) == 0, All: rng.IntN(6) == 0}
	if !req.All {
		for range 1 + rng.IntN(3) {
			req.Actions = append(req.Actions, names[rng.IntN(n)])
		}
	}
	r := randomRun{req: req, index: map[string]int{}, deps: map[string][]string{}, last: latest}
	for i, a := range p.Actions {
		r.index[a.Name] = i
		for _, d := range a.Needs {
			if !slices.Contains(r.deps[a.Name], d) {
				r.deps[a.Name] = append(r.deps[a.Name], d)
			}
		}
	}
	r.sums, _ = Fingerprints(p, files)
	return r
}

// check holds a plan to the rules of Make.
func (r randomRun) check(t *testing.T, plan Plan) {
	t.Helper()
	requested := map[string]bool{}
	if r.req.All {
		for _, a := range r.req.Pipeline.Actions {
			requested[a.Name] = true
		}
	}
	for _, a := range r.req.Actions {
		requested[a] = true
	}
	placed := map[string]bool{}
	runs := map[string]bool{} // needed by a step that runs
	for _, s := range plan.Steps {
		if placed[s.Action] {
			t.Fatalf("%s planned twice", s.Action)
		}
		// Every step comes after everything it needs that is in the plan.
		for _, d := range r.deps[s.Action] {
			if _, inPlan := plan.Step(d); inPlan && !placed[d] {
				t.Errorf("%s before %s, which it needs", s.Action, d)
			}
		}
		placed[s.Action] = true
		if s.Requested != requested[s.Action] {
			t.Errorf("%s: Requested %v", s.Action, s.Requested)
		}
		if s.Fingerprint.Sum != r.sums[s.Action].Sum {
			t.Errorf("%s: fingerprint is not the one at the commit", s.Action)
		}
		prior, seen := r.last[s.Action]
		underWay := seen && (prior.State == Pending || prior.State == Running)
		reusable := seen && prior.State == Succeeded && prior.Fingerprint.Sum == s.Fingerprint.Sum
		var want Decision
		switch {
		case underWay:
			want = Wait
		case requested[s.Action] || r.req.Force || !reusable:
			want = Run
		default:
			want = Reuse
		}
		if s.Decision != want {
			t.Errorf("%s: %s (%s), want %s", s.Action, s.Decision, s.Reason, want)
		}
		if (s.Decision == Wait) != (s.WaitsOn != "") || (underWay && s.WaitsOn != prior.ID) {
			t.Errorf("%s: %s waiting on %q", s.Action, s.Decision, s.WaitsOn)
		}
		if s.Reason == "" {
			t.Errorf("%s: no reason", s.Action)
		}
		switch {
		case s.Decision == Run && !slices.Equal(s.Needs, r.deps[s.Action]):
			t.Errorf("%s runs needing %q, want %q", s.Action, s.Needs, r.deps[s.Action])
		case s.Decision != Run && s.Needs != nil:
			t.Errorf("%s: %s with needs %q", s.Action, s.Decision, s.Needs)
		}
		if s.Decision == Run {
			for _, d := range s.Needs {
				runs[d] = true
			}
		}
	}
	// Involved: exactly the requested actions and the needs of steps that run.
	for name := range requested {
		if !placed[name] {
			t.Errorf("requested %s is not in the plan", name)
		}
	}
	for name := range placed {
		if !requested[name] && !runs[name] {
			t.Errorf("%s is in the plan, but nothing that runs needs it", name)
		}
	}
	// Among steps free to go, file order: each is the first free one.
	done := map[string]bool{}
	for k, s := range plan.Steps {
		for _, later := range plan.Steps[k+1:] {
			free := true
			for _, d := range r.deps[later.Action] {
				if _, inPlan := plan.Step(d); inPlan && !done[d] {
					free = false
				}
			}
			if free && r.index[later.Action] < r.index[s.Action] {
				t.Errorf("%s placed before %s, which was free to go and earlier in the file", s.Action, later.Action)
			}
		}
		done[s.Action] = true
	}
	if plan.NothingToDo() != (len(plan.ToRun()) == 0) {
		t.Error("NothingToDo disagrees with ToRun")
	}
}

// reaches reports whether from needs to, directly or not, in the DAG.
func (r randomRun) reaches(from, to string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(a string) bool {
		if a == to {
			return true
		}
		if seen[a] {
			return false
		}
		seen[a] = true
		return slices.ContainsFunc(r.deps[a], walk)
	}
	return walk(from)
}

func FuzzMake(f *testing.F) {
	for seed := range uint64(40) {
		f.Add(seed, uint8(seed*7))
	}
	f.Fuzz(func(t *testing.T, seed uint64, size uint8) {
		r := newRandomRun(seed, size)
		plan, err := Make(r.req)
		if err != nil {
			t.Fatalf("Make: %v", err)
		}
		r.check(t, plan)
		again, err := Make(r.req)
		if err != nil || !reflect.DeepEqual(again, plan) {
			t.Fatalf("a second plan differs: %v\n%q\n%q", err, lines(again), lines(plan))
		}
	})
}

// FuzzCycle closes a random DAG into a cycle: planning must fail and name
// a real cycle.
func FuzzCycle(f *testing.F) {
	for seed := range uint64(20) {
		f.Add(seed, uint8(seed*11))
	}
	f.Fuzz(func(t *testing.T, seed uint64, size uint8) {
		r := newRandomRun(seed, size)
		p := r.req.Pipeline
		// The first action in the file needs the last: a cycle whenever
		// there is a path back, a self-reference when they are one.
		first, last := &p.Actions[0], p.Actions[len(p.Actions)-1].Name
		first.Needs = append(first.Needs, last)
		// The rest was a DAG, so there is a cycle when the last action
		// reaches the first through needs.
		closes := r.reaches(last, first.Name)
		_, err := Make(r.req)
		var cycle *CycleError
		if errors.As(err, &cycle) != closes {
			t.Fatalf("error %v, closes a cycle: %v", err, closes)
		}
		if !closes {
			return
		}
		c := cycle.Cycle
		if len(c) < 2 || c[0] != c[len(c)-1] {
			t.Fatalf("cycle %q does not end where it starts", c)
		}
		for k := 0; k+1 < len(c); k++ {
			a, _ := p.Action(c[k])
			if !slices.Contains(a.Needs, c[k+1]) {
				t.Errorf("cycle %q: %s does not need %s", c, c[k], c[k+1])
			}
		}
	})
}
