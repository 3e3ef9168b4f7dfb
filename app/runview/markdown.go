package runview

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// GitHub's limits. A check run's title, summary and text each hold at most
// 65,535 characters and a comment body 65,536; we stay well under both and
// count bytes, which are never fewer than characters.
const (
	maxOutput = 65535
	budget    = 60000
	maxTitle  = 80 // runes; a title reads in one line

	maxLabel       = 20
	maxDescription = 40
	maxIdentifier  = 20
)

// Longest a user's value is shown, in runes, before it is shortened.
const (
	nameInTitle   = 24 // an action name in a title
	nameInTable   = 100
	nameInComment = 60
	pathInTitle   = 24
	messageShown  = 300
	reasonShown   = 300
	actionsListed = 30 // requested actions listed in a summary
	filesListed   = 10 // files in one outputs cell
)

// mdEscaper backslash-escapes every character that could start Markdown or
// HTML inside a line of text: emphasis, code, links, raw HTML and entities,
// table cells, strikethrough and math. Nothing we write puts a user's value
// at the start of a line, so line-start syntax (#, -, 1.) needs no escape.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "&", `\&`, "$", `\$`,
)

// text is a user's or a file's value (an action name, a path, a message) as
// Markdown that renders as the value itself on one line, shortened to at
// most limit runes.
func text(s string, limit int) string {
	return mdEscaper.Replace(plain(s, limit))
}

// plain is s on one line, for plain-text places such as a title: control
// characters become spaces, bidirectional overrides (which can make a name
// read as another) become U+FFFD, and it is shortened to limit runes.
func plain(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\u2028' || r == '\u2029' || unicode.IsControl(r):
			return ' '
		case isBidiControl(r):
			return utf8.RuneError
		}
		return r
	}, s)
	return shorten(s, limit)
}

func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}

// shorten cuts s to at most limit runes, ending it with "…" when it cut.
func shorten(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	if limit < 1 {
		return ""
	}
	runes := []rune(s)
	return string(runes[:limit-1]) + "…"
}

// fitBytes cuts s to at most limit bytes on a rune boundary, ending it with
// "…" when it cut. GitHub's button fields count characters; bytes are never
// fewer, so a value that fits here fits there.
func fitBytes(s string, limit int) string {
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

// capOutput is the last guard on a title, summary or text: the builders
// stay within budget, so this cuts only if one of them is wrong.
func capOutput(s string) string {
	return fitBytes(s, maxOutput)
}

var (
	loginPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$`)
	codePattern  = regexp.MustCompile(`^[a-z_]{1,40}$`)
	hexPattern   = regexp.MustCompile(`^[0-9a-f]+$`)
)

// mention is @login for a GitHub login, or the value escaped if it is not one.
func mention(login string) string {
	if login == "" {
		return "someone"
	}
	if loginPattern.MatchString(login) {
		return "@" + login
	}
	return text(login, 40)
}

// plainMention is mention for a plain-text place.
func plainMention(login string) string {
	if loginPattern.MatchString(login) {
		return "@" + login
	}
	return plain(login, 40)
}

// statusCode is a job-runner status code as inline code; a value that is not
// a code's shape is escaped instead.
func statusCode[S ~string](c S) string {
	if codePattern.MatchString(string(c)) {
		return "`" + string(c) + "`"
	}
	return text(string(c), 40)
}

// shortSHA is a commit's first 7 hex digits as inline code.
func shortSHA(sha string) string {
	if sha == "" {
		return "an unknown commit"
	}
	if !hexPattern.MatchString(sha) {
		return text(sha, 12)
	}
	return "`" + sha[:min(7, len(sha))] + "`"
}

// sha256Hex is a file's SHA-256 as inline code, or escaped if it is not hex.
func sha256Hex(sum string) string {
	if hexPattern.MatchString(sum) && len(sum) <= 64 {
		return "`" + sum + "`"
	}
	return text(sum, 70)
}

// duration is d in the units a person reads: 850ms, 12s, 3m 05s, 1h 02m.
// It is truncated, never rounded up, so that 59.9s is 59s and not 60s.
func duration(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%dh %02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// size is a file size in bytes, KB, MB or GB (of 1,024), as level 4's
// messages count them.
func size(n int64) string {
	const k = 1024
	switch {
	case n < k:
		return fmt.Sprintf("%d B", max(n, 0))
	case n < k*k:
		return fmt.Sprintf("%.1f KB", float64(n)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1f MB", float64(n)/(k*k))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(k*k*k))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// list joins items as "a, b and c", naming at most limit of them and
// counting the rest: "a, b and 3 more".
func list(items []string, limit int) string {
	if len(items) > limit {
		items = append(items[:limit:limit], fmt.Sprintf("%d more", len(items)-limit))
	}
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// lines is Markdown written line by line within a budget of bytes, keeping
// room for one closing line that says what did not fit.
type lines struct {
	b      strings.Builder
	budget int
}

// add writes line and a newline if they fit in the budget less reserve,
// and reports whether it did.
func (l *lines) add(line string, reserve int) bool {
	if l.b.Len()+len(line)+1+reserve > l.budget {
		return false
	}
	l.b.WriteString(line)
	l.b.WriteByte('\n')
	return true
}

// must writes line whatever the budget: the closing lines the reserve is for.
func (l *lines) must(line string) {
	l.b.WriteString(line)
	l.b.WriteByte('\n')
}

func (l *lines) String() string { return l.b.String() }
