package checks

import (
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/yamlx"
)

const levelsText = "highly_sensitive, moderately_sensitive, minimally_sensitive"

// outputs runs O1-O5 on an action's `outputs` mapping.
func (v *validator) outputs(b *builtAction, outputs *yamlx.Node) {
	id := b.name
	v.keywordKeys(outputs, "the `outputs` of action "+id, []string{"action_id", "cls"}, levelsText)
	present := 0
	for _, level := range PrivacyLevels {
		if _, val, ok := lookup(outputs, string(level)); ok && !val.IsNull() {
			present++
		}
	}
	if present == 0 { // O1
		v.errorf(outputs, ruleOutputsNone, "must specify at least one output of: %s", levelsText)
	}
	v.unexpectedKeys(outputs, []string{string(HighlySensitive), string(ModeratelySensitive), string(MinimallySensitive)},
		ruleOutputsUnexpected, "in `outputs` section for action "+id) // O2

	for _, level := range PrivacyLevels {
		_, val, ok := lookup(outputs, string(level))
		if !ok || val.IsNull() {
			continue
		}
		if val.Kind != yamlx.Mapping { // O3
			v.errorf(val, ruleOutputsLevelType, "`%s` section for action %s must be a dictionary of key/value pairs", level, id)
			continue
		}
		lo := levelOutputs{level: level, value: val}
		group := OutputGroup{Level: level}
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
			lo.entries = append(lo.entries, outputEntry{name: name, path: path})
			group.Outputs = append(group.Outputs, Output{Name: yamlx.Str(name), Path: path.Value, Line: path.Line, Column: path.Column})
		}
		b.outputs = append(b.outputs, lo)
		b.model.Outputs = append(b.model.Outputs, group)
	}
}

// moderatelySensitiveTypes are the file types a moderately_sensitive
// output may have (constants.py; case-sensitive).
var moderatelySensitiveTypes = []string{".csv", ".jpg", ".jpeg", ".png", ".svg", ".svgz", ".html", ".txt", ".log", ".json", ".md"}

// checkPathPattern applies the path rules P1-P7 in order and returns the
// first failure's rule and reason, or "".
func checkPathPattern(p string, level PrivacyLevel) (rule, reason string) {
	if strings.IndexByte(p, '\\') >= 0 { // P1
		return rulePathBackslash, "contains back slashes (use forward slashes only)"
	}
	for _, w := range []string{"**", "?", "["} { // P2
		if strings.Contains(p, w) {
			return rulePathWildcard, "contains '" + w + "' (only the * wildcard character is supported)"
		}
	}
	suffix := pathSuffix(p)
	if suffix == "" || strings.HasSuffix(suffix, "*") { // P3
		return rulePathNoExtension, "output paths must have a file type extension at the end"
	}
	if level == ModeratelySensitive && !contains(moderatelySensitiveTypes, suffix) { // P4
		return rulePathFileType, pathString(p) + " is not an allowed file type for moderately_sensitive outputs"
	}
	if !isNormal(p) { // P5
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
