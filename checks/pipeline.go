package checks

import (
	"encoding/json"
	"slices"
)

// Pipeline is a project.yaml the reference library accepts, in the shape the
// runner plans jobs from.
type Pipeline struct {
	// Version is float(version): 3.0, 4.0, 5.0, ... (NaN is possible).
	Version float64
	// Actions in file order, including a user-defined run_all (allowed
	// before version 5).
	Actions []Action
	// Expectations is nil from version 4 on; before, cohortextractor's
	// population size (1000 unless version is exactly 3.0).
	Expectations *Expectations
}

// Expectations is the cohortextractor expectations section.
type Expectations struct {
	PopulationSize int64
}

// Action is one entry of `actions`.
type Action struct {
	Name   string // str() of the key, as the reference prints it
	Line   int    // position of the action's key
	Column int
	// Run is the raw command, including a trailing newline from a block
	// scalar; RunParts is its POSIX shell split. RunParts[0] is image:tag.
	Run      string
	RunParts []string
	// Needs lists the actions this one depends on, in file order, as written
	// (a repeated entry is kept; validation warns about it).
	Needs []string
	// Outputs holds the privacy levels that are present, always in the
	// order highly, moderately, minimally sensitive.
	Outputs []OutputGroup
	// Config is the action's `config` mapping as JSON (keys in file order),
	// nil when absent. job-runner passes it to the action as --config.
	Config           json.RawMessage
	DummyDataFile    string
	IsDatabaseAction bool
}

// PrivacyLevel is an output's level of disclosure risk.
type PrivacyLevel string

const (
	HighlySensitive     PrivacyLevel = "highly_sensitive"
	ModeratelySensitive PrivacyLevel = "moderately_sensitive"
	MinimallySensitive  PrivacyLevel = "minimally_sensitive"
)

// PrivacyLevels is the fixed order the reference library uses everywhere.
var PrivacyLevels = [3]PrivacyLevel{HighlySensitive, ModeratelySensitive, MinimallySensitive}

// OutputGroup is the outputs of one privacy level, in file order.
type OutputGroup struct {
	Level   PrivacyLevel
	Outputs []Output
}

// Output is one named output path pattern (only * is a wildcard).
type Output struct {
	Name   string
	Path   string
	Line   int // position of the path
	Column int
}

// Action returns the action with this name.
func (p *Pipeline) Action(name string) (*Action, bool) {
	for i := range p.Actions {
		if p.Actions[i].Name == name {
			return &p.Actions[i], true
		}
	}
	return nil, false
}

// AllActions is what `run_all` expands to: every action name in file order
// except a user-defined run_all.
func (p *Pipeline) AllActions() []string {
	names := make([]string, 0, len(p.Actions))
	for _, a := range p.Actions {
		if a.Name != runAll {
			names = append(names, a.Name)
		}
	}
	return names
}

// Image is the part of the command before the tag: "ehrql", "r", "python".
func (a *Action) Image() string {
	if len(a.RunParts) == 0 {
		return ""
	}
	name, _, _ := cut(a.RunParts[0], ':')
	return name
}

// Paths returns every output path of the action, level by level.
func (a *Action) Paths() []string {
	var out []string
	for _, g := range a.Outputs {
		for _, o := range g.Outputs {
			out = append(out, o.Path)
		}
	}
	return out
}

// OutputsAt returns the outputs of one level.
func (a *Action) OutputsAt(level PrivacyLevel) []Output {
	i := slices.IndexFunc(a.Outputs, func(g OutputGroup) bool { return g.Level == level })
	if i < 0 {
		return nil
	}
	return a.Outputs[i].Outputs
}
