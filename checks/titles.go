package checks

import "strings"

// ruleTitles gives each family of rules the heading a researcher sees above
// an annotation; the rule id itself stays in the JSON output for tools.
var ruleTitles = map[string]string{
	"action":          "Action",
	"cohortextractor": "cohort-extractor action",
	"ehrql":           "ehrQL dataset action",
	"file":            "project.yaml",
	"needs":           "needs",
	"outputs":         "Outputs",
	"path":            "Output path",
	"project":         "Project",
	"run":             "run command",
	"yaml":            "YAML",
}

// ruleTitle is the annotation heading for a rule id such as "path.absolute".
func ruleTitle(rule string) string {
	family, _, _ := strings.Cut(rule, ".")
	if t, ok := ruleTitles[family]; ok {
		return t
	}
	return "project.yaml"
}
