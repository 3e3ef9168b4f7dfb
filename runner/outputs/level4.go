package outputs

import (
	"fmt"
	"slices"
	"strings"
)

// Limits are the parameters of the level-4 gates.
type Limits struct {
	MaxSize    int64    // bytes; a file of exactly MaxSize passes
	MaxCSVRows int      // data rows, the header not counted
	FileTypes  []string // allowed suffixes, exact and case-sensitive
}

// DefaultLimits are OpenSAFELY's: 16 MiB, 5,000 rows, and the file types
// output checkers can review.
func DefaultLimits() Limits {
	return Limits{
		MaxSize:    16 << 20,
		MaxCSVRows: 5000,
		FileTypes:  []string{".csv", ".jpg", ".jpeg", ".png", ".svg", ".svgz", ".html", ".txt", ".log", ".json", ".md"},
	}
}

// Rule names a level-4 gate.
type Rule string

const (
	RuleSize      Rule = "size"
	RuleFileType  Rule = "file_type"
	RulePatientID Rule = "patient_id"
	RuleCSVRows   Rule = "csv_rows"
)

// Problem is one gate a file failed.
type Problem struct {
	Rule    Rule
	Message string // one line, about the file's shape only: fit to leave the secure zone
}

// Verdict is the outcome of the level-4 gates for one file.
type Verdict struct {
	Problems []Problem
	// CSV is set when the file was read as a CSV; Rows is then its number
	// of data rows.
	CSV  bool
	Rows int
}

// OK reports whether the file may go to the medium privacy store.
func (v Verdict) OK() bool { return len(v.Problems) == 0 }

// Reason joins the problems' messages.
func (v Verdict) Reason() string {
	msgs := make([]string, len(v.Problems))
	for i, p := range v.Problems {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, "; ")
}

// Level4 applies the gates to a moderately sensitive file, in job-runner's
// order: a file too large is refused for that alone; then one of another
// type; then a CSV is refused for a patient_id column and for too many
// rows. content is the file's bytes (only a CSV's are looked at); size is
// its length on disk. It is a pure function.
func Level4(name string, size int64, content []byte, lim Limits) Verdict {
	var v Verdict
	suffix := Suffix(name)
	switch {
	case size > lim.MaxSize:
		v.Problems = append(v.Problems, Problem{RuleSize, fmt.Sprintf(
			"file size of %s is above the limit of %s for moderately_sensitive files", megabytes(size), megabytes(lim.MaxSize))})
	case !slices.Contains(lim.FileTypes, suffix):
		shown := suffix
		if shown == "" {
			shown = "(none)"
		}
		v.Problems = append(v.Problems, Problem{RuleFileType, fmt.Sprintf(
			"file type %s is not allowed for moderately_sensitive files (allowed: %s)", shown, strings.Join(lim.FileTypes, " "))})
	case suffix == ".csv":
		shape := scanCSV(content)
		v.CSV, v.Rows = true, shape.rows
		if slices.ContainsFunc(shape.header, isPatientID) {
			v.Problems = append(v.Problems, Problem{RulePatientID,
				"has a patient_id column: patient-level data cannot be moderately_sensitive"})
		}
		if shape.rows > lim.MaxCSVRows {
			v.Problems = append(v.Problems, Problem{RuleCSVRows, fmt.Sprintf(
				"has %d data rows, above the limit of %d for moderately_sensitive files", shape.rows, lim.MaxCSVRows)})
		}
	}
	return v
}

// Suffix is a file's type as Python's PurePath.suffix has it: from the last
// dot of the last component, unless that dot starts or ends the name.
func Suffix(name string) string {
	base := name[strings.LastIndexByte(name, '/')+1:]
	i := strings.LastIndexByte(base, '.')
	if 0 < i && i < len(base)-1 {
		return base[i:]
	}
	return ""
}

// isPatientID is stricter than job-runner's exact match: case, surrounding
// space and a byte-order mark do not hide the column.
func isPatientID(column string) bool {
	return strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(column, "\ufeff")), "patient_id")
}

func megabytes(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/(1<<20)) }

// noteHeader starts every refusal note; a note is recognised by it.
const noteHeader = "fivesafes did not copy this file to the medium privacy store.\n"

// RefusalNote is the text left in the medium privacy store in place of a
// refused file, so that whoever looks there learns why it is missing.
func RefusalNote(path string, v Verdict) string {
	var b strings.Builder
	b.WriteString(noteHeader)
	fmt.Fprintf(&b, "\nThe file:\n\n    %s\n\nis a moderately_sensitive output of its job, but it:\n\n", path)
	for _, p := range v.Problems {
		fmt.Fprintf(&b, "- %s\n", p.Message)
	}
	b.WriteString("\n")
	for _, p := range v.Problems {
		switch p.Rule {
		case RuleSize:
			b.WriteString("Check that it holds only aggregate information, and that it is small enough for output checkers to review.\n")
		case RuleFileType:
			b.WriteString("Only file types that output checkers can review may be moderately_sensitive; write the result in one of them, or declare the file highly_sensitive.\n")
		case RulePatientID:
			b.WriteString("Declare the file highly_sensitive in project.yaml, or, if it holds aggregate data, remove the patient_id column.\n")
		case RuleCSVRows:
			b.WriteString("A table this long is unlikely to be aggregate data; aggregate it further, or declare it highly_sensitive.\n")
		}
	}
	return b.String()
}
