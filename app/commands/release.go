package commands

import (
	"fmt"
	"path"
	"strings"
)

var releaseCommand = Command{
	Name: "release",
	Usage: "/release [--backend NAME] PATH...\n" +
		"Context: what these files are and how they were made\n" +
		"Controls: what disclosure controls were applied (redaction, rounding)",
	Help:  "Ask output checkers to review moderately sensitive output files for release; the comment must also say their `Context:` and `Controls:`.",
	Flags: []Flag{backendFlag},
	Parse: parseRelease,
}

// Release asks for output files to be reviewed and released.
type Release struct {
	Backend  string   // "" for the repository's default
	Paths    []string // relative to the workspace, cleaned, no repeats, in the order given
	Context  string   // what the files are and how they were made
	Controls string   // what disclosure controls were applied
}

// What each paragraph of a release must say.
var releaseParagraphs = []struct{ label, says string }{
	{"context", "what these files are and how they were made"},
	{"controls", "what disclosure controls were applied (redaction, rounding)"},
}

func parseRelease(inv Invocation) (any, error) {
	if len(inv.Args) == 0 {
		return nil, reasonf(nil, "say which output files to release, by their paths in the workspace")
	}
	r := Release{Backend: inv.Flags[backendFlag.Name]}
	seen := map[string]bool{}
	for _, p := range inv.Args {
		clean, err := workspacePath(p)
		if err != nil {
			return nil, err
		}
		if !seen[clean] {
			seen[clean] = true
			r.Paths = append(r.Paths, clean)
		}
	}
	var problems []string
	for i, want := range releaseParagraphs {
		text, problem := paragraph(inv.Paragraphs, want.label, want.says)
		if problem != "" {
			problems = append(problems, problem)
		}
		if i == 0 {
			r.Context = text
		} else {
			r.Controls = text
		}
	}
	if len(problems) > 0 {
		return nil, reasonf(nil, "%s", strings.Join(problems, "; "))
	}
	return r, nil
}

// paragraph finds the one paragraph with a label, or says what is wrong.
func paragraph(ps []Paragraph, label, says string) (text, problem string) {
	written := code(strings.ToUpper(label[:1]) + label[1:] + ":")
	var found []Paragraph
	for _, p := range ps {
		if p.Label == label {
			found = append(found, p)
		}
	}
	switch {
	case len(found) == 0:
		return "", fmt.Sprintf("a release needs a %s paragraph saying %s", written, says)
	case len(found) > 1:
		return "", fmt.Sprintf("the comment has %d %s paragraphs (lines %s); keep one", len(found), written, lineList(found))
	case found[0].Text == "":
		return "", fmt.Sprintf("the %s paragraph on line %d is empty: say %s", written, found[0].Line, says)
	}
	return found[0].Text, ""
}

func lineList(ps []Paragraph) string {
	const shown = 5
	var lines []string
	for _, p := range ps[:min(len(ps), shown)] {
		lines = append(lines, fmt.Sprint(p.Line))
	}
	if len(ps) > shown {
		lines = append(lines, "…")
	}
	return strings.Join(lines, ", ")
}

// workspacePath checks that p names a file inside the workspace and
// returns it cleaned ("./output//a.csv" is "output/a.csv"). Whether the
// file is a moderately sensitive output is for the caller to check.
func workspacePath(p string) (string, error) {
	switch {
	case p == "":
		return "", reasonf(nil, "a path is empty (an empty pair of quotes?)")
	case strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`):
		return "", reasonf(nil, "%s is an absolute path: give paths relative to the workspace, such as %s", code(p), code("output/table.csv"))
	}
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "", reasonf(nil, "%s leaves the workspace: give paths inside it, such as %s", code(p), code("output/table.csv"))
		}
	}
	clean := path.Clean(p)
	if clean == "." {
		return "", reasonf(nil, "%s is the whole workspace: name the files to release", code(p))
	}
	return clean, nil
}
