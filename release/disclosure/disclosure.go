// Package disclosure holds the automated disclosure-control checks of a
// release: OpenSAFELY's output-checking rules of thumb, applied to one file
// in the secure zone. Output checkers see the findings as advice; nothing is
// blocked by them. Only the findings leave the zone, so they describe the
// file's shape (column names, row numbers, numbers of cells), never its
// values.
//
// Inspect is a pure function of a file's name, its bytes and the limits. It
// streams the bytes and keeps only bounded state, so a 16 MB CSV costs no
// more memory than a small one, and it reports what it can of any input,
// however odd, without failing or panicking.
package disclosure

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// Limits are the parameters of the checks.
type Limits struct {
	// MaxRows is the most data rows (the header not counted) a CSV may have
	// without a too_many_rows finding; 0 turns the check off.
	MaxRows int
	// AllowedTypes are the file types output checkers review, with their
	// dot (".csv"), compared without regard to case.
	AllowedTypes []string
	// SmallCount is the largest count that is small: a cell holding a
	// count of 1 to SmallCount is a small_count finding; 0 turns it off.
	SmallCount int
	// Rounding is what counts should be multiples of: a count that is not
	// is an unrounded_count finding; 0 or 1 turns it off.
	Rounding int
}

// DefaultLimits are OpenSAFELY's rules of thumb: at most 5,000 rows, no
// counts of 1 to 7, counts rounded to a multiple of 5; allowedTypes are the
// file types that may be moderately sensitive (the level-4 gates' list).
func DefaultLimits(allowedTypes []string) Limits {
	return Limits{MaxRows: 5000, AllowedTypes: slices.Clone(allowedTypes), SmallCount: 7, Rounding: 5}
}

// Facts are what Inspect found out about a file: fit to leave the secure
// zone.
type Facts struct {
	// Type is the file's extension without its dot, in lower case ("csv",
	// "png"); "" for a file without one.
	Type string
	// Rows and Columns are set for a CSV: its data rows (records after the
	// header; blank lines are not records) and the width of its header.
	Rows, Columns *int
	// Findings are in a fixed order: file_type, too_many_rows,
	// patient_id_column, then small_count and unrounded_count by column.
	// Never nil.
	Findings []protocol.Finding
}

// Inspect applies the checks to the file called name (a slash-separated
// path; its extension says its type) whose bytes r yields. A CSV is read to
// its end in one pass; other files are not read at all, so a caller that
// also hashes the bytes reads the rest itself. The error is r's: the facts
// returned with it cover the bytes read before it.
func Inspect(name string, r io.Reader, lim Limits) (Facts, error) {
	suffix := outputs.Suffix(name)
	f := Facts{Type: fileType(suffix), Findings: []protocol.Finding{}}
	if !slices.ContainsFunc(lim.AllowedTypes, func(t string) bool { return strings.EqualFold(t, suffix) }) {
		f.Findings = append(f.Findings, protocol.Finding{Check: protocol.CheckFileType, Message: typeMessage(suffix, lim.AllowedTypes)})
	}
	if !strings.EqualFold(suffix, ".csv") {
		return f, nil
	}
	t := newTable(lim)
	err := t.read(r)
	rows, cols := t.rows(), t.width
	f.Rows, f.Columns = &rows, &cols
	f.Findings = append(f.Findings, t.findings()...)
	return f, err
}

// maxTypeBytes is the longest Type reported (the bot's limit).
const maxTypeBytes = 32

// fileType is a suffix as Facts.Type has it; the name comes from the
// secure zone's files, so it is cleaned like a column name.
func fileType(suffix string) string {
	t := clean(strings.ToLower(strings.TrimPrefix(suffix, ".")))
	for len(t) > maxTypeBytes { // cut on a rune boundary, without an ellipsis
		_, size := utf8.DecodeLastRuneInString(t)
		t = t[:len(t)-size]
	}
	return t
}

// maxAllowedList bounds the list of allowed types quoted in a message.
const maxAllowedList = 200

func typeMessage(suffix string, allowed []string) string {
	list := strings.Join(allowed, " ")
	if len(list) > maxAllowedList {
		list = shorten(list, maxAllowedList)
	}
	if suffix == "" {
		return fmt.Sprintf("the file has no type: output checkers review only %s", list)
	}
	return fmt.Sprintf("file type %s is not one output checkers review (they review %s)", quoteName(suffix, 16), list)
}
