package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
)

// Fingerprint identifies the work an action would do at a commit. Two jobs
// with the same Sum ran the same command over the same repository files
// and the same upstream work, so a succeeded one can be reused. A job
// records the whole Fingerprint; the parts other than Sum exist so that
// the next plan can say what changed.
type Fingerprint struct {
	// Sum is the hex SHA-256 over Definition, Inputs and Needs.
	Sum string `json:"sum"`
	// Definition is the hex SHA-256 over what project.yaml says of the
	// action itself: its run line (as the argv it runs), its outputs (level,
	// name, pattern, in order), its config and its dummy_data_file name.
	Definition string `json:"definition"`
	// Inputs are the repository files the action reads, as far as its
	// arguments name them: path -> Git blob SHA.
	Inputs map[string]string `json:"inputs,omitempty"`
	// Needs are the Sums of the actions it needs, by name, so that a change
	// upstream changes everything downstream.
	Needs map[string]string `json:"needs,omitempty"`
}

// Fingerprints computes every action's fingerprint at a commit. files is
// the commit's tree: path -> Git blob SHA. It fails with a *CycleError when
// `needs` form a cycle, since a fingerprint covers everything upstream.
func Fingerprints(p *checks.Pipeline, files map[string]string) (map[string]Fingerprint, error) {
	if p == nil {
		return nil, errors.New("cannot fingerprint: no pipeline")
	}
	prints, err := fingerprints(p, newGraph(p), files)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Fingerprint, len(prints))
	for i, f := range prints {
		out[p.Actions[i].Name] = f
	}
	return out, nil
}

// fingerprints returns the fingerprints by action index.
func fingerprints(p *checks.Pipeline, g *graph, files map[string]string) ([]Fingerprint, error) {
	if g.problem != nil {
		return nil, g.problem
	}
	order, ok := g.order(nil)
	if !ok {
		return nil, &CycleError{Cycle: DetectCycle(p)}
	}
	out := make([]Fingerprint, len(order))
	for _, i := range order {
		a := &p.Actions[i]
		f := Fingerprint{Definition: definition(a), Inputs: inputs(a, files)}
		if len(g.deps[i]) > 0 {
			f.Needs = make(map[string]string, len(g.deps[i]))
			for _, d := range g.deps[i] {
				f.Needs[g.names[d]] = out[d].Sum
			}
		}
		f.Sum = sum(f)
		out[i] = f
	}
	return out, nil
}

// The tags name the encoding: changing what goes into a hash means changing
// its tag, which makes every earlier job look changed, as it should.
const (
	definitionTag  = "fivesafes/action-definition/v1"
	fingerprintTag = "fivesafes/fingerprint/v1"
)

func definition(a *checks.Action) string {
	e := newEncoder(definitionTag)
	// The argv, not the raw line: quoting or a block scalar's newline that
	// runs the same command is the same work. The raw line only stands in
	// for a pipeline that was never split.
	if a.RunParts != nil {
		e.strings(a.RunParts)
	} else {
		e.strings([]string{a.Run})
	}
	e.count(len(a.Outputs))
	for _, g := range a.Outputs {
		e.str(string(g.Level))
		e.count(len(g.Outputs))
		for _, o := range g.Outputs {
			e.str(o.Name)
			e.str(o.Path)
		}
	}
	e.str(string(a.Config))
	e.str(a.DummyDataFile)
	return e.sum()
}

func sum(f Fingerprint) string {
	e := newEncoder(fingerprintTag)
	e.str(f.Definition)
	e.pairs(f.Inputs)
	e.pairs(f.Needs)
	return e.sum()
}

// inputs finds the repository files an action's arguments name: an
// argument, or the value of --flag=value, that is a path in the tree
// (./a/../b is read as b), and the dummy_data_file. Reading a file the
// arguments do not name (an import, a path built in code) is not seen:
// such a change needs the action to be requested again.
func inputs(a *checks.Action, files map[string]string) map[string]string {
	var in map[string]string
	add := func(s string) {
		if p, ok := repoPath(s, files); ok {
			if in == nil {
				in = map[string]string{}
			}
			in[p] = files[p]
		}
	}
	if len(a.RunParts) > 1 {
		for _, arg := range a.RunParts[1:] {
			add(arg)
			if strings.HasPrefix(arg, "-") {
				if _, value, ok := strings.Cut(arg, "="); ok {
					add(value)
				}
			}
		}
	}
	if a.DummyDataFile != "" {
		add(a.DummyDataFile)
	}
	return in
}

// repoPath returns the tree path s names, if it names one inside the
// repository.
func repoPath(s string, files map[string]string) (string, bool) {
	if s == "" {
		return "", false
	}
	if _, ok := files[s]; ok {
		return s, true
	}
	c := path.Clean(s)
	if c == s || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	_, ok := files[c]
	return c, ok
}

// changes says everything that differs between the fingerprint a job
// recorded and now: "its inputs changed: analysis/x.py", "its run line,
// outputs or config changed", "a dependency changed: generate_dataset",
// joined by "; ".
func changes(was, now Fingerprint) string {
	var why []string
	if files := changedKeys(was.Inputs, now.Inputs); len(files) > 0 {
		why = append(why, "its inputs changed: "+strings.Join(files, ", "))
	}
	if was.Definition != now.Definition {
		why = append(why, "its run line, outputs or config changed")
	}
	if deps := changedKeys(was.Needs, now.Needs); len(deps) > 0 {
		why = append(why, "a dependency changed: "+strings.Join(deps, ", "))
	}
	if len(why) == 0 {
		return "its fingerprint changed" // only the encoding did (a new tag)
	}
	return strings.Join(why, "; ")
}

// changedKeys lists, sorted, the keys whose values differ, marking those
// only one side has.
func changedKeys(was, now map[string]string) []string {
	keys := slices.Sorted(maps.Keys(now))
	for k := range was {
		if _, ok := now[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		old, inWas := was[k]
		cur, inNow := now[k]
		switch {
		case !inWas:
			out = append(out, k+" (new)")
		case !inNow:
			out = append(out, k+" (removed)")
		case old != cur:
			out = append(out, k)
		}
	}
	return out
}

// encoder writes an unambiguous encoding into a SHA-256: every string
// length-prefixed, every list counted.
type encoder struct {
	h   hash.Hash
	buf [binary.MaxVarintLen64]byte
}

func newEncoder(tag string) *encoder {
	e := &encoder{h: sha256.New()}
	e.str(tag)
	return e
}

func (e *encoder) count(n int) {
	e.h.Write(binary.AppendUvarint(e.buf[:0], uint64(n)))
}

func (e *encoder) str(s string) {
	e.count(len(s))
	e.h.Write([]byte(s))
}

func (e *encoder) strings(ss []string) {
	e.count(len(ss))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) pairs(m map[string]string) {
	e.count(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e.str(k)
		e.str(m[k])
	}
}

func (e *encoder) sum() string { return hex.EncodeToString(e.h.Sum(nil)) }
