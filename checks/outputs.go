package checks

import (
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

const levelsText = "highly_sensitive, moderately_sensitive, minimally_sensitive"

// outputs runs O1-O5 on an action's `outputs` mapping.
func (v *validator) outputs(b *builtAction, outputs *yamlx.Node) {
	id := b.name
	levels, odd := levelsOf(outputs)
	if odd {
		v.keywordKeys(outputs, "the `outputs` of action ", id, []string{"action_id", "cls"}, levelsText)
	}
	nLevels, nOutputs := 0, 0
	for _, val := range levels {
		if val != nil {
			nLevels++
			nOutputs += len(val.Content) / 2
		}
	}
	if nLevels == 0 { // O1
		v.errorf(outputs, ruleOutputsNone, "must specify at least one output of: %s", levelsText)
	}
	if odd {
		v.unexpectedKeys(outputs, []string{string(HighlySensitive), string(ModeratelySensitive), string(MinimallySensitive)},
			ruleOutputsUnexpected, "in `outputs` section for action ", id) // O2
	}
	b.outputs = carve(&v.pool.levels, nLevels)
	b.model.Outputs = carve(&v.pool.groups, nLevels)
	allOutputs := carve(&v.pool.outputs, nOutputs)
	allPaths := carve(&v.pool.paths, nOutputs)
	for k, level := range PrivacyLevels {
		val := levels[k]
		if val == nil {
			continue
		}
		if val.Kind != yamlx.Mapping { // O3
			v.errorf(val, ruleOutputsLevelType, "`%s` section for action %s must be a dictionary of key/value pairs", level, id)
			continue
		}
		first := len(allOutputs)
		for i := 0; i+1 < len(val.Content); i += 2 {
			name, path := val.Content[i], val.Content[i+1]
			if !path.IsString() { // O4
				v.errorf(path, ruleOutputsNotString, "`%s` output for action %s must be a string", yamlx.Str(name), id)
				continue
			}
			if rule, reason := checkPathPattern(path.Value, level); rule != "" { // O5
				v.errorf(path, rule, "Output path %s is invalid: %s", path.Value, reason)
			} else if path.Value == ".." || strings.HasPrefix(path.Value, "../") {
				v.warnf(path, rulePathOutside, "Output path %s points outside the action's workspace; the reference accepts it, "+
					"but fivesafes never reads or writes files outside the workspace, so keep outputs inside it", path.Value)
			}
			allPaths = append(allPaths, path)
			allOutputs = append(allOutputs, Output{Name: yamlx.Str(name), Path: path.Value, Line: path.Line, Column: path.Column})
		}
		end := len(allOutputs)
		b.outputs = append(b.outputs, levelOutputs{level: level, value: val, paths: allPaths[first:end:end]})
		b.model.Outputs = append(b.model.Outputs, OutputGroup{Level: level, Outputs: allOutputs[first:end:end]})
	}
}

// levelsOf returns the non-null levels of an outputs mapping, in
// PrivacyLevels order, and whether it has any other key.
func levelsOf(outputs *yamlx.Node) (levels [3]*yamlx.Node, odd bool) {
	for i := 0; i+1 < len(outputs.Content); i += 2 {
		k, val := outputs.Content[i], outputs.Content[i+1]
		if !k.IsString() {
			odd = true
			continue
		}
		switch PrivacyLevel(k.Value) {
		case HighlySensitive:
			levels[0] = val
		case ModeratelySensitive:
			levels[1] = val
		case MinimallySensitive:
			levels[2] = val
		default:
			odd = true
			continue
		}
	}
	for i, val := range levels {
		if val.IsNull() {
			levels[i] = nil
		}
	}
	return levels, odd
}

// moderatelySensitiveTypes are the file types a moderately_sensitive
// output may have (constants.py; case-sensitive).
var moderatelySensitiveTypes = []string{".csv", ".jpg", ".jpeg", ".png", ".svg", ".svgz", ".html", ".txt", ".log", ".json", ".md"}

// checkPathPattern applies the path rules P1-P7 in order and returns the
// first failure's rule and reason, or "".
func checkPathPattern(p string, level PrivacyLevel) (rule, reason string) {
	shape := shapeOf(p)
	switch {
	case shape.backslash: // P1
		return rulePathBackslash, "contains back slashes (use forward slashes only)"
	case shape.doubleStar: // P2
		return rulePathWildcard, "contains '**' (only the * wildcard character is supported)"
	case shape.question:
		return rulePathWildcard, "contains '?' (only the * wildcard character is supported)"
	case shape.bracket:
		return rulePathWildcard, "contains '[' (only the * wildcard character is supported)"
	}
	name := p[shape.nameStart:]
	if !shape.plain {
		name = parsePosix(p).name()
	}
	suffix := suffixOf(name)
	if suffix == "" || strings.HasSuffix(suffix, "*") { // P3
		return rulePathNoExtension, "output paths must have a file type extension at the end"
	}
	if level == ModeratelySensitive && !contains(moderatelySensitiveTypes, suffix) { // P4
		return rulePathFileType, pathString(p) + " is not an allowed file type for moderately_sensitive outputs"
	}
	if !(shape.plain && !shape.dotDot) && normpath(p) != p { // P5
		return rulePathNotNormal, "is not in standard form (contains double slashes or '..' elements)"
	}
	if p == "metadata" || strings.HasPrefix(p, "metadata/") { // P6
		return rulePathMetadata, "should not include the metadata directory"
	}
	if strings.HasPrefix(p, "/") || windowsAbsolute(p) { // P7
		return rulePathAbsolute, "is an absolute path"
	}
	return "", ""
}
