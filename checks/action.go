package checks

import (
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

// builtAction is one action as far as it could be checked, with the nodes
// later checks point at.
type builtAction struct {
	key     *yamlx.Node
	name    string        // str(action_id)
	runNode *yamlx.Node   // the run value when it is a string
	parts   []string      // its shell split, when that worked and is not empty
	needs   []*yamlx.Node // entries that passed A13 (strings, lists, mappings)
	outputs []levelOutputs
	model   *Action
}

// levelOutputs is one privacy level of an action's outputs.
type levelOutputs struct {
	level PrivacyLevel
	value *yamlx.Node   // the level's mapping
	paths []*yamlx.Node // its path values that are strings, in file order
}

var actionKeys = []string{"run", "outputs", "needs", "config", "dummy_data_file"}

const actionKeysText = "run, outputs, needs, config, dummy_data_file"

// field is a key of a mapping and its value; the zero field is absent.
type field struct{ key, val *yamlx.Node }

func (f field) present() bool { return f.key != nil }

// actionFields are an action's known keys, found in one pass; odd is set
// when it has any other key.
type actionFields struct {
	run, outputs, needs, config, dummy field
	odd                                bool
}

func fieldsOf(cfg *yamlx.Node) actionFields {
	var f actionFields
	for i := 0; i+1 < len(cfg.Content); i += 2 {
		k := cfg.Content[i]
		if !k.IsString() {
			f.odd = true
			continue
		}
		fld := field{k, cfg.Content[i+1]}
		switch k.Value {
		case "run":
			f.run = fld
		case "outputs":
			f.outputs = fld
		case "needs":
			f.needs = fld
		case "config":
			f.config = fld
		case "dummy_data_file":
			f.dummy = fld
		default:
			f.odd = true
		}
	}
	return f
}

// action runs the per-action checks A1-A15 in the reference's order.
func (v *validator) action(b *builtAction, model *Action, key, cfg *yamlx.Node, fields *actionFields) {
	*b = builtAction{key: key, name: yamlx.Str(key), model: model}
	*model = Action{Name: b.name, Line: key.Line, Column: key.Column}
	id := b.name

	if key.IsString() && key.Value == runAll { // A1
		if v.version.noRunAll() {
			v.errorf(key, ruleRunAll, "`run_all` is a reserved action name and is not allowed for user-defined actions.")
		} else {
			v.warnf(key, ruleRunAll, "`run_all` is a reserved action name; user-defined actions with this name are ignored and will raise an error in later versions.")
		}
	}
	if cfg.Kind != yamlx.Mapping { // A2
		v.errorf(key, ruleActionNotDict, "Configuration for action %s must be a dictionary of key/value pairs", id)
		return
	}
	f := *fields
	if !f.run.present() { // A3
		v.errorf(key, ruleActionMissing, "Action %s must contain a configuration for 'run'", id)
	}
	if !f.outputs.present() { // A4
		v.errorf(key, ruleActionMissing, "Action %s must contain a configuration for 'outputs'", id)
	}
	if f.odd {
		v.keywordKeys(cfg, "action ", id, []string{"action_id", "cls"}, actionKeysText)
		v.unexpectedKeys(cfg, actionKeys, ruleActionUnexpected, "in action ", id) // A5
	}
	if f.outputs.present() && f.outputs.val.Kind != yamlx.Mapping { // A6
		v.errorf(orKey(f.outputs.val, f.outputs.key), ruleActionFieldType, "`outputs` section for action %s must be a dictionary of key/value pairs", id)
		f.outputs = field{}
	}
	if f.run.present() && !f.run.val.IsString() { // A7
		v.errorf(f.run.val, ruleActionFieldType, "`run` section for action %s must be a string", id)
		f.run = field{}
	}
	if needs := f.needs.val; f.needs.present() && !needs.IsNull() && needs.Kind != yamlx.Sequence { // A8
		v.errorf(needs, ruleActionFieldType, "`needs` section for action %s must be a list", id)
		f.needs = field{}
	}
	if config := f.config.val; f.config.present() && !config.IsNull() && config.Kind != yamlx.Mapping { // A9
		v.errorf(config, ruleActionFieldType, "`config` section for action %s must be a dictionary of key/value pairs", id)
		f.config = field{}
	}
	if dummy := f.dummy.val; f.dummy.present() && !dummy.IsNull() && !dummy.IsString() { // A10
		v.errorf(dummy, ruleActionFieldType, "`dummy_data_file` section for action %s must be a string", id)
		f.dummy = field{}
	}

	if f.outputs.present() { // A11
		v.outputs(b, f.outputs.val)
	}
	if f.run.present() { // A12
		v.command(b, f.run.val)
	}
	if f.needs.present() && !f.needs.val.IsNull() { // A13
		v.needsEntries(b, f.needs.val)
	}
	if b.parts != nil && f.outputs.present() {
		if matchesImageCommand(b.model.Run, cohortImages, cohortCommands) { // A14
			v.generateCohort(b)
		}
		if matchesImageCommand(b.model.Run, ehrqlImages, ehrqlCommands) { // A15
			v.generateDataset(b)
		}
	}

	if config := f.config.val; f.config.present() && config.Kind == yamlx.Mapping {
		b.model.Config = configJSON(config)
	}
	if dummy := f.dummy.val; f.dummy.present() && dummy.IsString() {
		b.model.DummyDataFile = dummy.Value
	}
}

// orKey points at the key when the value is empty (null has no text).
func orKey(val, key *yamlx.Node) *yamlx.Node {
	if val.IsNull() && key != nil {
		return key
	}
	return val
}

// unexpectedKeys reports the string keys of m not in allowed, all in one
// message at the first of them, as the reference's **kwargs check does.
// Keys the reference crashes on are reported by keywordKeys instead.
func (v *validator) unexpectedKeys(m *yamlx.Node, allowed []string, rule, where, id string) {
	var names []string
	var first *yamlx.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !k.IsString() || contains(allowed, k.Value) || k.Value == "action_id" || k.Value == "cls" {
			continue
		}
		names = append(names, k.Value)
		if first == nil {
			first = k
		}
	}
	if len(names) > 0 {
		v.errorf(first, rule, "Unexpected parameters (%s) %s%s", strings.Join(names, ", "), where, id)
	}
}

// command parses `run` (R1-R3).
func (v *validator) command(b *builtAction, run *yamlx.Node) {
	id := b.name
	b.runNode = run
	b.model.Run = run.Value
	if run.Value == "" { // R1
		v.errorf(run, ruleRunEmpty, "run must have a value, %s has an empty run key", id)
		return
	}
	var parts []string
	var serr shlexError
	if words, quoted := countWords(run.Value); quoted { // R2
		parts, serr = shlexSplit(run.Value)
	} else if words > 0 {
		parts = splitWhitespace(run.Value, carve(&v.pool.words, words))
	}
	switch {
	case serr == shlexNoClosingQuotation:
		v.errorf(run, ruleValueError, "the `run` command of action %s has a quote that is never closed; close it, or escape a literal quote with a backslash", id)
		return
	case serr == shlexNoEscapedChar:
		v.errorf(run, ruleValueError, "the `run` command of action %s ends with a lone backslash; remove it (or write \\\\ for a literal backslash)", id)
		return
	case len(parts) == 0: // whitespace only
		v.errorf(run, ruleIndexError, "run must have a value, %s has a run key that is only whitespace", id)
		return
	}
	b.parts = parts
	b.model.RunParts = parts
	b.model.IsDatabaseAction = isDatabaseAction(parts)
	name, tag, _ := cut(parts[0], ':')
	if !validTag(tag) { // R3
		v.errorf(run, ruleRunNoVersion, "Action command %s must have a version specified in the form :vN (e.g. %s:v2)", name, name)
	}
}

// needsEntries checks each `needs` entry for spaces (A13).
func (v *validator) needsEntries(b *builtAction, needs *yamlx.Node) {
	b.needs = needs.Content
	if len(needs.Content) > 0 {
		b.model.Needs = carve(&v.pool.needs, len(needs.Content))
	}
	crashed := false
	for _, e := range needs.Content {
		switch {
		case e.IsString():
			if strings.Contains(e.Value, " ") {
				v.errorf(e, ruleNeedsSpace, "`needs` actions should be separated with commas, but %s needs `%s`", b.name, e.Value)
			}
			b.model.Needs = append(b.model.Needs, e.Value)
		case e.IsNull():
			v.errorf(e, ruleTypeError, "action %s has an empty `needs` entry (a stray comma or dash?); remove it", b.name)
			crashed = true
		case e.Kind == yamlx.Scalar:
			v.errorf(e, ruleTypeError, "`needs` entry %s of action %s is %s, not an action name; quote it, and quote the action's name too if it looks like a number",
				yamlx.Str(e), b.name, kindOf(e))
			crashed = true
		}
	}
	if crashed { // later checks look only at the entries that got past A13
		b.needs = slices.DeleteFunc(slices.Clone(b.needs), func(e *yamlx.Node) bool { return e.Kind == yamlx.Scalar && !e.IsString() })
	}
}
