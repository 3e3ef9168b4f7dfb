// Package checks validates a study's project.yaml as OpenSAFELY's reference
// library does (shared/pipeline-spec.md), turns the result into the
// `fivesafes / project.yaml` check run, and models the pipeline the runner
// plans jobs from.
package checks

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/fivesafes/fivesafes/checks/internal/pyconv"
	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

// Validate checks a project.yaml the way OpenSAFELY's reference library
// does (see shared/pipeline-spec.md) and goes on to find the further
// problems it would only report one push at a time. It is a pure function
// of the bytes.
func Validate(src []byte) Result {
	if len(src) > MaxFileBytes {
		return Result{Problems: []Problem{{
			Line: 0, Message: fmt.Sprintf("project.yaml is %.1f MiB, larger than the %d MiB this check reads; "+
				"a pipeline file is normally a few kilobytes", float64(len(src))/(1<<20), MaxFileBytes>>20),
			Severity: SeverityError, Rule: ruleFileTooLarge,
		}}}
	}
	s := scratchPool.Get().(*yamlx.Scratch)
	defer func() {
		s.Reset() // the Result holds no node: the tree can go
		scratchPool.Put(s)
	}()
	root, err := yamlx.ParseWith(src, s)
	if err != nil {
		return Result{Problems: []Problem{yamlProblem(err)}}
	}
	pl := validatorPools.Get().(*pool)
	v := validator{pool: *pl}
	r := v.result(v.pipeline(root))
	*pl = v.pool
	pl.release()
	validatorPools.Put(pl)
	return r
}

// scratchPool recycles the memory parse trees are carved from.
var scratchPool = sync.Pool{New: func() any { return new(yamlx.Scratch) }}

func yamlProblem(err error) Problem {
	var ye *yamlx.Error
	if !errors.As(err, &ye) {
		return Problem{Message: "invalid YAML: " + err.Error(), Severity: SeverityError, Rule: ruleYAMLSyntax}
	}
	rule, prefix := ruleYAMLSyntax, "invalid YAML: "
	switch ye.Kind {
	case yamlx.ErrDuplicateKey:
		rule = ruleYAMLDuplicate
	case yamlx.ErrEncoding:
		rule, prefix = ruleYAMLEncoding, ""
	case yamlx.ErrLimit:
		rule = ruleYAMLLimit
	case yamlx.ErrValue:
		rule = ruleYAMLValue
	}
	return Problem{Line: ye.Line, Column: ye.Column, Message: prefix + ye.Msg, Severity: SeverityError, Rule: rule}
}

// validator runs the reference's checks in the reference's order and
// records every problem instead of stopping at the first, so the first one
// recorded is the reference's error.
type validator struct {
	problems []Problem
	seen     map[Problem]bool
	version  version
	errors   int
	pool     pool
	index    map[string]int // string action name -> position
}

func (v *validator) add(n *yamlx.Node, sev Severity, rule, msg string) {
	p := Problem{Message: msg, Severity: sev, Rule: rule}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	if v.seen == nil {
		v.seen = map[Problem]bool{}
	}
	if v.seen[p] {
		return
	}
	v.seen[p] = true
	v.problems = append(v.problems, p)
	if sev == SeverityError {
		v.errors++
	}
}

func (v *validator) errorf(n *yamlx.Node, rule, format string, args ...any) {
	v.add(n, SeverityError, rule, fmt.Sprintf(format, args...))
}

func (v *validator) warnf(n *yamlx.Node, rule, format string, args ...any) {
	v.add(n, SeverityWarning, rule, fmt.Sprintf(format, args...))
}

// result orders errors before warnings and attaches the pipeline only to a
// valid file.
func (v *validator) result(p *Pipeline) Result {
	r := Result{Valid: v.errors == 0}
	if len(v.problems) > 0 {
		r.Problems = make([]Problem, 0, len(v.problems))
		for _, sev := range []Severity{SeverityError, SeverityWarning} {
			for _, pr := range v.problems {
				if pr.Severity == sev {
					r.Problems = append(r.Problems, pr)
				}
			}
		}
	}
	if r.Valid {
		r.Pipeline = p
	}
	return r
}

// version is float(version) and what it switches on (features.py).
type version struct {
	known bool // false when version is missing or not a number
	value float64
}

func (ver version) atLeast(x float64) bool { return ver.known && ver.value >= x }

func (ver version) uniqueOutputPaths() bool    { return !ver.known || ver.value >= 2 }
func (ver version) expectationsRequired() bool { return ver.known && ver.value == 3 }
func (ver version) noCohortExtractor() bool    { return ver.atLeast(4) }
func (ver version) noRunAll() bool             { return ver.atLeast(5) }
func (ver version) noLatestTag() bool          { return ver.atLeast(5) }

// lookup returns the key and value of a string key in a mapping.
func lookup(m *yamlx.Node, key string) (k, val *yamlx.Node, ok bool) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if c := m.Content[i]; c.IsString() && c.Value == key {
			return c, m.Content[i+1], true
		}
	}
	return nil, nil, false
}

func kindOf(n *yamlx.Node) string {
	switch {
	case n == nil || n.IsNull():
		return "empty"
	case n.Kind == yamlx.Mapping:
		return "a mapping"
	case n.Kind == yamlx.Sequence:
		return "a list"
	}
	switch n.Tag {
	case yamlx.TagStr:
		return "a string"
	case yamlx.TagInt, yamlx.TagFloat:
		return "a number"
	case yamlx.TagBool:
		return "a boolean"
	case yamlx.TagTimestamp:
		return "a date"
	}
	return "a " + n.Tag + " value"
}

const (
	runAll   = "run_all"
	docsLink = "https://docs.opensafely.org/actions-pipelines/"
)

// pipeline checks the document (Pipeline.build) and returns the model.
func (v *validator) pipeline(root *yamlx.Node) *Pipeline {
	if root.IsNull() {
		v.errorf(root, ruleTypeError, "project.yaml is empty: it must be a mapping with `version` and `actions` (see %s)", docsLink)
		return nil
	}
	if root.Kind != yamlx.Mapping {
		v.errorf(root, ruleTypeError, "project.yaml must be a mapping with `version` and `actions`, but it is %s (see %s)", kindOf(root), docsLink)
		return nil
	}
	v.keywordKeys(root, "the top level of project.yaml", "", []string{"cls"}, "version, actions, expectations")

	var unexpected []string
	var firstUnexpected *yamlx.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if !k.IsString() || k.Value == "cls" {
			continue
		}
		switch k.Value {
		case "version", "actions", "expectations":
		default:
			unexpected = append(unexpected, k.Value)
			if firstUnexpected == nil {
				firstUnexpected = k
			}
		}
	}
	if len(unexpected) > 0 { // T1
		v.errorf(firstUnexpected, ruleUnexpectedKey, "Unexpected parameters (%s) in project", strings.Join(unexpected, ", "))
	}

	p := &Pipeline{}
	v.versionOf(root, p)

	actionsKey, actions, ok := lookup(root, "actions")
	if !ok || actions.Kind != yamlx.Mapping { // T5
		at := root
		if ok {
			at = actions
			if actions.IsNull() {
				at = actionsKey
			}
		}
		v.errorf(at, ruleActionsNotDict, "Project `actions` section must be a dictionary of key/value pairs")
		actions = nil
	}
	var built []builtAction
	if actions != nil {
		n := len(actions.Content) / 2
		p.Actions = make([]Action, n)
		built = reuse(v.pool.built, n)[:n]
		v.pool.built = built
		fields := v.pool.reserve(actions)
		v.pool.index = reuseMap(v.pool.index, n)
		v.index = v.pool.index
		for i := n - 1; i >= 0; i-- {
			if k := actions.Content[2*i]; k.IsString() {
				v.index[k.Value] = i
			}
		}
		for i := range n { // T6
			v.action(&built[i], &p.Actions[i], actions.Content[2*i], actions.Content[2*i+1], &fields[i])
		}
		v.crossAction(actions, built) // T7-T11
	}
	p.Expectations = v.expectations(root) // T12
	v.needsGraph(built)
	return p
}

// keywordKeys reports the keys Python cannot pass as keyword arguments:
// a non-string key ("keywords must be strings") or one that clashes with a
// parameter of the build method. The reference crashes on both. The place
// is where+id, e.g. "action " + "a".
func (v *validator) keywordKeys(m *yamlx.Node, where, id string, clashes []string, allowed string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		switch {
		case !k.IsString():
			v.errorf(k, ruleTypeError, "key %s in %s%s is %s, not text; keys there must be one of: %s",
				yamlx.Str(k), where, id, kindOf(k), allowed)
		case contains(clashes, k.Value):
			v.errorf(k, ruleTypeError, "`%s` is not allowed in %s%s; use only: %s", k.Value, where, id, allowed)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// versionOf checks `version` (T2-T4) and sets v.version.
func (v *validator) versionOf(root *yamlx.Node, p *Pipeline) {
	key, val, ok := lookup(root, "version")
	if !ok || val.IsNull() { // T2
		at := root
		if ok {
			at = key
		}
		v.errorf(at, ruleVersionMissing, "Project file must have a `version` attribute specifying which version of the project configuration format it uses (current latest version is 5)")
		return
	}
	f, status := pyFloat(val)
	switch status {
	case floatInvalid: // T3
		v.errorf(val, ruleVersionNaN, "`version` must be a number between 1 and 5")
		return
	case floatOverflow:
		v.errorf(val, ruleOverflowError, "`version` %s is far too large; use a version between 1 and 5, e.g. '5.0'", val.Value)
		v.version = version{known: true, value: 5}
		return
	}
	if f != 5 && !(f > 5) {
		v.warnf(val, ruleOldVersion, "Your project file is using an old version (%s); consider updating to version 5", pyconv.FloatRepr(f))
	}
	if f > 5 { // T4
		v.errorf(val, ruleValueError, "`version` is %s, but the latest version of the project.yaml format is 5; use a version between 1 and 5, e.g. '5.0'", pyconv.FloatRepr(f))
		f = 5
	}
	v.version = version{known: true, value: f}
	p.Version = f
}

type floatStatus uint8

const (
	floatOK floatStatus = iota
	floatInvalid
	floatOverflow
)

// pyFloat is Python's float() of the value n loads as.
func pyFloat(n *yamlx.Node) (float64, floatStatus) {
	if n.Kind != yamlx.Scalar {
		return 0, floatInvalid
	}
	switch n.Tag {
	case yamlx.TagStr:
		if f, ok := pyconv.Float(n.Value); ok {
			return f, floatOK
		}
	case yamlx.TagFloat:
		if f, ok := yamlx.FloatValue(n.Value); ok {
			return f, floatOK
		}
	case yamlx.TagInt:
		if i, ok := yamlx.IntValue(n.Value); ok {
			if f, ok := pyconv.IntToFloat(i); ok {
				return f, floatOK
			}
			return 0, floatOverflow
		}
	case yamlx.TagBool:
		if b, ok := yamlx.BoolValue(n.Value); ok && b {
			return 1, floatOK
		}
		return 0, floatOK
	}
	return math.NaN(), floatInvalid
}
