package checks

// Severity says whether a problem makes the file invalid.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding about a project.yaml, at a 1-based line and column
// (0 when the problem has no position, e.g. an empty file).
type Problem struct {
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Message  string   `json:"message"`
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule,omitempty"` // short id, e.g. "path.moderately_file_type"
}

// Result is the verdict on one file. Valid is always the reference library's
// verdict. Problems lists errors first — the reference's own first error
// first, with its exact message — then warnings.
type Result struct {
	Valid    bool
	Problems []Problem
	Pipeline *Pipeline // nil when the file could not be read as a pipeline
}

// Errors returns the problems that make the file invalid.
func (r Result) Errors() []Problem { return r.filter(SeverityError) }

// Warnings returns the problems that leave the verdict valid.
func (r Result) Warnings() []Problem { return r.filter(SeverityWarning) }

func (r Result) filter(s Severity) []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}
