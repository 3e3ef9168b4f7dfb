package markdown

import (
	"strings"
	"unicode/utf8"
)

// GitHub's limits. A check run's title, summary and text each hold at most
// 65,535 characters and a comment body 65,536; the views stay well under
// both (Budget) and count bytes, which are never fewer than characters.
const (
	MaxOutput = 65535
	Budget    = 60000
	// TitleRunes is the longest a check run's title is, so that it reads
	// in one line.
	TitleRunes = 80
)

// FitBytes cuts s to at most limit bytes on a rune boundary, ending it
// with "…" when it cut; "" if not even the first character fits beside
// the "…". It never returns more than limit bytes: it is the last guard on
// a field whose builder keeps within budget, and on GitHub's button
// fields, which count characters (bytes are never fewer).
func FitBytes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	cut := max(limit-len(ellipsis), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut == 0 {
		return ""
	}
	return s[:cut] + ellipsis
}

// Lines is Markdown written line by line within a budget of bytes, keeping
// room for the closing lines that say what did not fit. Its zero value has
// no budget: set Budget.
type Lines struct {
	Budget int
	b      strings.Builder
}

// Add writes line and a newline if they fit in the budget less reserve,
// and reports whether it did.
func (l *Lines) Add(line string, reserve int) bool {
	if l.b.Len()+len(line)+1+reserve > l.Budget {
		return false
	}
	l.b.WriteString(line)
	l.b.WriteByte('\n')
	return true
}

// Must writes line and a newline whatever the budget: the closing lines
// the reserve is for.
func (l *Lines) Must(line string) {
	l.b.WriteString(line)
	l.b.WriteByte('\n')
}

// String is what was written.
func (l *Lines) String() string { return l.b.String() }
