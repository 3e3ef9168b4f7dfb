package checks

import (
	"fmt"
	"strings"
)

// The two commands that extract data from the database get extra checks.

// generateCohort checks cohortextractor generate_cohort (A14).
func (v *validator) generateCohort(b *builtAction) {
	if n := len(b.outputs); n != 1 {
		v.errorf(b.runNode, ruleCohortOneOutput, "A `generate_cohort` action must have exactly one output; %s had %d", b.name, n)
	}
	var dirs []string
	for _, lo := range b.outputs {
		for _, path := range lo.paths {
			dir := parsePosix(path.Value).parent().String()
			if !contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
	}
	if len(dirs) > 1 && !hasOutputDirArgument(b.parts) {
		// The reference lists the directories in Python set order, which is
		// hash-randomised; file order is as good and stable.
		v.errorf(b.runNode, ruleCohortOneDir, "generate_cohort command should produce output in only one directory, found %d:\n - %s/",
			len(dirs), strings.Join(dirs, "/\n - "))
	}
}

// generateDataset checks ehrQL generate-dataset (A15): every output is
// highly sensitive and they are what --output says the command writes.
func (v *validator) generateDataset(b *builtAction) {
	id := b.name
	for _, lo := range b.outputs {
		if lo.level != HighlySensitive && len(lo.value.Content) > 0 {
			v.errorf(lo.value, ruleEhrQLHighlyOnly, "`%s` action uses `generate-dataset` and so all outputs must be labelled `highly_sensitive`", id)
			return
		}
	}
	spec := outputArgument(b.parts)
	if spec == "" {
		v.errorf(b.runNode, ruleEhrQLNoOutput, "`%s` action does not provide an `--output` argument specifying where the results of `generate-dataset` should be stored", id)
		return
	}
	var patterns []string
	for _, lo := range b.outputs {
		if lo.level == HighlySensitive {
			for _, path := range lo.paths {
				patterns = append(patterns, path.Value)
			}
		}
	}
	expected, ok, crash := matchOutputSpec(spec, patterns)
	if crash != "" {
		v.errorf(b.runNode, ruleValueError, "the `--output` argument of action %s %s", id, crash)
		return
	}
	if !ok {
		v.errorf(b.runNode, ruleEhrQLOutputMatch, "output specification must match the `--output` argument in the `run` command\n"+
			"              got: %s\nbut was expecting: %s", strings.Join(patterns, "                   \n"), expected)
	}
}

// matchOutputSpec compares ehrQL's --output with the highly_sensitive
// patterns: a single file must be one of them exactly; a directory of
// files (dir:ext) must be matched by every pattern.
func matchOutputSpec(spec string, patterns []string) (expected string, ok bool, crash string) {
	p := parsePosix(spec)
	name := p.name()
	i := strings.LastIndexByte(name, ':')
	if i < 0 {
		return spec, contains(patterns, spec), ""
	}
	head, ext := name[:i], name[i+1:]
	dir := p.parent()
	if head != "" {
		if head == "." { // PurePath.with_name(".") raises ValueError
			return "", false, fmt.Sprintf("names the directory %q, which is not a valid file name", head)
		}
		dir = p.withName(head)
	}
	expected = dir.String() + "/:" + ext
	want := dir.String() + "/*." + ext
	for _, pat := range patterns {
		if !fnmatch(pat, want) {
			return expected, false, ""
		}
	}
	return expected, true, ""
}
