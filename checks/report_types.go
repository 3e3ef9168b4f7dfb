package checks

// Conclusions of the project.yaml check run.
const (
	ConclusionSuccess = "success"
	ConclusionFailure = "failure"
)

// Annotation is one line-level note on a file, in GitHub's check-run terms.
type Annotation struct {
	Path        string
	StartLine   int
	EndLine     int
	StartColumn int // 0 = unset; GitHub only takes columns when start and end line are equal
	EndColumn   int
	Level       string // "failure", "warning" or "notice"
	Title       string
	Message     string
}

// Report is what the check run shows: conclusion, output and every annotation.
// Title, Summary and Text each fit GitHub's 65,535-character limit; the
// service sends the annotations 50 per request.
type Report struct {
	Conclusion  string
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}
