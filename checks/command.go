package checks

import (
	"strings"

	"github.com/fivesafes/fivesafes/checks/internal/pyconv"
)

// shlexError is how Python's shlex.split(s) (POSIX mode) fails.
type shlexError uint8

const (
	shlexOK shlexError = iota
	shlexNoClosingQuotation
	shlexNoEscapedChar
)

// shlexSplit is Python's shlex.split(s): POSIX rules, no comments, splitting
// on space, TAB, CR and LF only. Quotes group, an empty pair of quotes is an
// empty word, a backslash escapes the next character outside quotes and
// only " or \ inside double quotes, and "#" is an ordinary character.
//
// It works on bytes: every character with a meaning is ASCII, and UTF-8
// never uses an ASCII byte inside a multi-byte character.
func shlexSplit(s string) ([]string, shlexError) {
	if !strings.ContainsAny(s, `'"\`) {
		return splitWhitespace(s, nil), shlexOK
	}
	// The words are written one after the other into tok, ending at
	// ends, and become substrings of one string at the end.
	var ends []int
	tok := make([]byte, 0, len(s))
	start := 0 // of the current word in tok
	quoted := false
	state, escaped := byte(' '), byte(' ') // ' ' between words, 'a' in a word, a quote, or '\\'
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch state {
		case ' ', 'a':
			switch {
			case isShellSpace(c):
				if state == 'a' && (len(tok) > start || quoted) {
					ends = append(ends, len(tok))
					start, quoted = len(tok), false
				}
				state = ' '
			case c == '\\':
				escaped, state = 'a', '\\'
			case c == '\'' || c == '"':
				state = c
			default:
				tok = append(tok, c)
				state = 'a'
			}
		case '\'', '"':
			quoted = true
			switch {
			case c == state:
				state = 'a'
			case state == '"' && c == '\\':
				escaped, state = '"', '\\'
			default:
				tok = append(tok, c)
			}
		case '\\':
			if escaped == '"' && c != '\\' && c != '"' {
				tok = append(tok, '\\')
			}
			tok = append(tok, c)
			state = escaped
		}
	}
	switch state {
	case '\'', '"':
		return nil, shlexNoClosingQuotation
	case '\\':
		return nil, shlexNoEscapedChar
	case 'a':
		if len(tok) > start || quoted {
			ends = append(ends, len(tok))
		}
	}
	if len(ends) == 0 {
		return nil, shlexOK
	}
	all := string(tok)
	parts := make([]string, len(ends))
	from := 0
	for i, end := range ends {
		parts[i] = all[from:end]
		from = end
	}
	return parts, shlexOK
}

func isShellSpace(c byte) bool { return shellClass[c] == shellSpace }

// shellClass sorts bytes for the word splitters: what is not a space or
// a quote is an ordinary character.
const (
	shellOrdinary uint8 = iota
	shellSpace
	shellQuote // ' " \: needs shlexSplit
)

var shellClass = [256]uint8{' ': shellSpace, '\t': shellSpace, '\r': shellSpace, '\n': shellSpace,
	'\'': shellQuote, '"': shellQuote, '\\': shellQuote}

// splitWhitespace is shlexSplit for a string without quotes or
// backslashes, appending to dst.
func splitWhitespace(s string, dst []string) []string {
	start := -1
	for i := 0; i < len(s); i++ {
		if shellClass[s[i]] == shellSpace {
			if start >= 0 {
				dst = append(dst, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
}

// countWords is the number of words splitWhitespace would return, or
// quoted when s has a quote or backslash and needs shlexSplit.
func countWords(s string) (n int, quoted bool) {
	prev := shellSpace
	for i := 0; i < len(s); i++ {
		c := shellClass[s[i]]
		if c == shellQuote {
			return 0, true
		}
		n += int(prev &^ c) // a word starts: a space, then an ordinary byte
		prev = c
	}
	return n, false
}

func cut(s string, sep byte) (before, after string, found bool) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// validTag is re.match(r"^((v[\d.]+(-pre)?)|dev|latest)$", tag), where \d
// is any Unicode decimal digit and $ also matches before a final newline.
func validTag(tag string) bool {
	tag = strings.TrimSuffix(tag, "\n")
	switch tag {
	case "dev", "latest":
		return true
	}
	rest, ok := strings.CutPrefix(tag, "v")
	if !ok {
		return false
	}
	rest = strings.TrimSuffix(rest, "-pre")
	if rest == "" {
		return false
	}
	for _, r := range rest {
		if r != '.' && pyconv.DecimalValue(r) < 0 {
			return false
		}
	}
	return true
}

// matchesImageCommand is re.match(image + r"\S+ " + command, run) for the
// reference's cohortextractor and ehrQL triggers: the image, colon and tag,
// one literal space, then the command as a prefix.
func matchesImageCommand(run string, images []string, commands []string) bool {
	for _, image := range images {
		rest, ok := strings.CutPrefix(run, image)
		if !ok {
			continue
		}
		end := strings.IndexFunc(rest, pyconv.IsSpace)
		if end <= 0 || rest[end] != ' ' {
			return false
		}
		after := rest[end+1:]
		for _, cmd := range commands {
			if strings.HasPrefix(after, cmd) {
				return true
			}
		}
		return false
	}
	return false
}

var (
	cohortImages   = []string{"cohortextractor:"}
	cohortCommands = []string{"generate_cohort"}
	ehrqlImages    = []string{"ehrql:", "databuilder:"}
	ehrqlCommands  = []string{"generate-dataset", "generate_dataset"}
)

// isDatabaseAction is the reference's Action.is_database_action.
func isDatabaseAction(parts []string) bool {
	if len(parts) == 0 {
		return false
	}
	image, _, _ := cut(parts[0], ':')
	if image == "sqlrunner" {
		return true
	}
	if len(parts) < 2 {
		return false
	}
	switch image {
	case "ehrql":
		return parts[1] == "generate-dataset" || parts[1] == "generate-measures"
	case "cohortextractor":
		return parts[1] == "generate_cohort" || parts[1] == "generate_codelist_report"
	case "databuilder":
		return parts[1] == "generate-dataset"
	}
	return false
}

// outputArgument finds the ehrQL --output value the way the reference does:
// the first part equal to "--output" (the value is the next part, or "" at
// the end) or starting with "--output=".
func outputArgument(parts []string) string {
	for i, p := range parts {
		if p == "--output" {
			if i+1 < len(parts) {
				return parts[i+1]
			}
			return ""
		}
		if v, ok := strings.CutPrefix(p, "--output="); ok {
			return v
		}
	}
	return ""
}

func hasOutputDirArgument(parts []string) bool {
	for _, p := range parts {
		if p == "--output-dir" || strings.HasPrefix(p, "--output-dir=") {
			return true
		}
	}
	return false
}
