package disclosure

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Names in findings (column names, a file's extension) come from a file a
// researcher's code wrote, so they are cleaned before they are shown: a
// finding is one line of plain printable text of bounded length, whatever
// the file holds.

// maxNameRunes is how much of a column name a finding shows.
const maxNameRunes = 64

// clean keeps the printable characters of s (strconv.IsPrint: letters,
// marks, numbers, punctuation, symbols and the ASCII space), dropping
// invalid UTF-8, control and format characters (line breaks, bidi
// overrides, zero-width joiners), and trims the spaces around it.
func clean(s string) string {
	keep := true
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			keep = false
			break
		}
	}
	if !keep {
		var b strings.Builder
		for _, r := range s {
			if r != utf8.RuneError && strconv.IsPrint(r) {
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	return strings.TrimSpace(s)
}

// shorten cuts s to at most max runes, marking a cut with "…".
func shorten(s string, max int) string {
	n := 0
	for i := range s {
		if n == max-1 && utf8.RuneCountInString(s[i:]) > 1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// quoteName is a name as a finding shows it: cleaned, shortened to max
// runes, in double quotes (a quote or backslash in it escaped).
func quoteName(s string, max int) string { return strconv.Quote(shorten(clean(s), max)) }
