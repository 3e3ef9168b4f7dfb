package disclosure

import (
	"bytes"
	"strings"
)

// A column's header can say that its cells are not counts: a year is not
// rounded to 5, an age of 6 is not a small count. The list is short and
// conservative on purpose: a column it does not name is checked, since a
// missed small count costs more than advice an output checker can see
// through. A header, trimmed and in lower case, with spaces, '-' and '.'
// read as '_', is not a count column when it is one of:
var notCountNames = map[string]bool{
	"id":    true, // identifiers
	"code":  true, // clinical and other codes (SNOMED CT, ICD-10, practice codes)
	"year":  true, // dates and parts of dates
	"month": true,
	"week":  true,
	"day":   true,
	"date":  true,
	"age":   true, // an age in years, not a number of people
}

// or ends with one of these (patient_id, practice_id, snomed_code,
// start_date, ...):
var notCountSuffixes = []string{"_id", "_code", "_date"}

// isCountColumn reports whether a header names a column whose integer cells
// are checked as counts. An empty name is checked.
func isCountColumn(header string) bool {
	h := strings.ToLower(strings.TrimSpace(header))
	h = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' {
			return '_'
		}
		return r
	}, h)
	if notCountNames[h] {
		return false
	}
	for _, s := range notCountSuffixes {
		if strings.HasSuffix(h, s) {
			return false
		}
	}
	return true
}

// isPatientID reports whether a header names a patient_id column: case and
// surrounding space do not hide it.
func isPatientID(header []byte) bool {
	return bytes.EqualFold(bytes.TrimSpace(header), []byte("patient_id"))
}

// count is what a cell holds, as the count checks see it.
type count struct {
	ok        bool // a count: a non-negative integer ("12", " 5 ", "3.0", "+4")
	zero      bool
	small     bool // 1 to the small limit
	unrounded bool // not a multiple of the rounding
}

// readCount reads a cell. A count is written in decimal digits, optionally
// with a '+', a decimal point and zeros after it, and spaces around it.
// Negative numbers, decimals ("2.5"), exponents ("1e3") and anything else
// are not counts. The value is never built, so a cell of any length is read
// without overflow.
func readCount(cell []byte, smallMax, rounding int) count {
	cell = trimBlanks(cell)
	if len(cell) > 0 && cell[0] == '+' {
		cell = cell[1:]
	}
	var (
		digits int
		value  int // up to smallMax+1: enough to tell small from not
		rem    int // value modulo rounding
	)
	for digits < len(cell) && '0' <= cell[digits] && cell[digits] <= '9' {
		d := int(cell[digits] - '0')
		if value <= smallMax {
			value = min(value*10+d, smallMax+1)
		}
		if rounding > 1 {
			rem = (rem*10 + d) % rounding
		}
		digits++
	}
	if digits == 0 {
		return count{}
	}
	if rest := cell[digits:]; len(rest) > 0 {
		if rest[0] != '.' {
			return count{}
		}
		for _, c := range rest[1:] {
			if c != '0' {
				return count{}
			}
		}
	}
	c := count{ok: true}
	// value is 0 only when every digit is 0: a larger number saturates.
	switch {
	case value == 0:
		c.zero = true
	default:
		c.small = value <= smallMax
		c.unrounded = rounding > 1 && rem != 0
	}
	return c
}

// isBlank is the ASCII white space around a cell.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimBlanks(b []byte) []byte {
	for len(b) > 0 && isBlank(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
