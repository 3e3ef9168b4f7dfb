package checks

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// GitHub's limits on a check run's output.
const (
	maxOutputText     = 65535 // title, summary and text, each
	maxAnnotationText = 64000 // an annotation's message
	maxAnnotationHead = 255   // an annotation's title
)

// Render turns a validation result into what the check run shows.
func Render(path string, r Result) Report {
	errs, warns := r.Errors(), r.Warnings()
	rep := Report{Conclusion: ConclusionSuccess}
	var s strings.Builder
	if r.Valid {
		n := 0
		if r.Pipeline != nil {
			n = len(r.Pipeline.Actions)
		}
		rep.Title = fmt.Sprintf("%s is valid: %s", path, plural(n, "action"))
		if len(warns) > 0 {
			rep.Title += ", " + plural(len(warns), "warning")
		}
		if r.Pipeline != nil {
			writeActionTable(&s, r.Pipeline)
		}
	} else {
		rep.Conclusion = ConclusionFailure
		rep.Title = fmt.Sprintf("%s has %s", path, plural(len(errs), "error"))
		fmt.Fprintf(&s, "OpenSAFELY would reject this %s. The first error is the one OpenSAFELY reports; "+
			"the others are what it would report next, once that one is fixed.\n\n", path)
		writeProblems(&s, path, errs)
	}
	if len(warns) > 0 {
		s.WriteString("\n### Warnings\n\n")
		writeProblems(&s, path, warns)
	}
	rep.Title = truncate(rep.Title, maxOutputText)
	rep.Summary = truncate(s.String(), maxOutputText)
	for _, p := range r.Problems {
		rep.Annotations = append(rep.Annotations, annotation(path, p))
	}
	return rep
}

// Unreadable is the report for a project.yaml that could not be validated
// at all (missing, too large); reason says what to do.
func Unreadable(path, reason string) Report {
	return Report{
		Conclusion: ConclusionFailure,
		Title:      truncate(path+" could not be checked", maxOutputText),
		Summary:    truncate(reason, maxOutputText),
	}
}

func annotation(path string, p Problem) Annotation {
	a := Annotation{
		Path:      path,
		StartLine: max(p.Line, 1),
		Level:     "failure",
		Title:     truncate(ruleTitle(p.Rule), maxAnnotationHead),
		Message:   truncate(p.Message, maxAnnotationText),
	}
	a.EndLine = a.StartLine
	if p.Line > 0 && p.Column > 0 {
		a.StartColumn, a.EndColumn = p.Column, p.Column
	}
	if p.Severity == SeverityWarning {
		a.Level = "warning"
	}
	return a
}

func writeProblems(s *strings.Builder, path string, ps []Problem) {
	for _, p := range ps {
		where := path
		if p.Line > 0 {
			where = fmt.Sprintf("line %d", p.Line)
		}
		msg := strings.ReplaceAll(p.Message, "\n", "\n  ")
		fmt.Fprintf(s, "- **%s**: %s\n", where, msg)
	}
}

func writeActionTable(s *strings.Builder, p *Pipeline) {
	if len(p.Actions) == 0 {
		s.WriteString("The pipeline has no actions.\n")
		return
	}
	s.WriteString("| Action | Needs | Highly sensitive | Moderately sensitive | Minimally sensitive |\n")
	s.WriteString("|---|---|---|---|---|\n")
	for _, a := range p.Actions {
		cells := []string{code(a.Name), codes(a.Needs)}
		for _, level := range PrivacyLevels {
			var paths []string
			for _, o := range a.OutputsAt(level) {
				paths = append(paths, o.Path)
			}
			cells = append(cells, codes(paths))
		}
		s.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

func codes(list []string) string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = code(x)
	}
	return strings.Join(out, "<br>")
}

var cellEscaper = strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ")

// code renders s as inline code inside a table cell: a fence longer than
// any run of backticks in s, pipes escaped, line breaks flattened.
func code(s string) string {
	s = cellEscaper.Replace(s)
	if !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// truncate cuts s to at most limit bytes (hence characters) on a character
// boundary, preferably a line end, and says that it did.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const note = "\n\n… (truncated: see the annotations for every problem)"
	tail := note
	if limit <= 2*len(note) {
		tail = "…"
	}
	cut := max(limit-len(tail), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if nl := strings.LastIndexByte(s[:cut], '\n'); tail == note && nl > cut/2 {
		cut = nl
	}
	return s[:cut] + tail
}
