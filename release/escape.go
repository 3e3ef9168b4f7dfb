package release

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every value that came from a user or a file (a path, the context and
// controls, a reason, a login) is escaped before it goes into Markdown, so
// that it renders as itself: it cannot close a table cell or a <details>,
// start a heading, inject HTML or mention anyone.

// GitHub holds at most 65,535 characters in a check run's title, summary
// or text and 65,536 in a comment; we stay well under, counting bytes,
// which are never fewer than characters.
const (
	maxOutput = 65535
	budget    = 60000
	titleLen  = 80 // runes: a title reads in one line
)

// oneLine is s on one line, for a title or a table cell: invalid UTF-8 and
// bidirectional overrides (which can make one name read as another) become
// U+FFFD, control characters spaces; it is shortened to limit runes.
func oneLine(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\u2028' || r == '\u2029' || unicode.IsControl(r):
			return ' '
		case isBidiControl(r):
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return shortenRunes(s, limit)
}

func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}

// shortenRunes cuts s to at most limit runes, ending it with "…" when it cut.
func shortenRunes(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	if limit < 1 {
		return ""
	}
	return string([]rune(s)[:limit-1]) + "…"
}

// mdEscaper backslash-escapes every character that could start Markdown or
// HTML inside a line of text, as app/runview does: emphasis, code, links,
// raw HTML and entities, table cells, strikethrough and math.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "&", `\&`, "$", `\$`,
)

// escapeLine is a line of text as Markdown that renders as the text.
func escapeLine(s string) string { return mdEscaper.Replace(s) }

var listNumber = regexp.MustCompile(`^[0-9]{1,9}[.)]`)

// escapeLineStart is escapeLine for text at the start of a line, where a
// #, -, +, = or "1." would make a heading, a list or a rule.
func escapeLineStart(s string) string {
	s = escapeLine(s)
	switch {
	case s != "" && strings.ContainsRune("#-+=", rune(s[0])):
		return `\` + s
	case listNumber.MatchString(s):
		n := listNumber.FindStringIndex(s)[1] - 1
		return s[:n] + `\` + s[n:]
	}
	return s
}

// inlineText is a value as Markdown that renders as the value itself on
// one line, shortened to limit runes. An "@" is followed by a zero-width
// space, because GitHub finds mentions in the rendered text, escaped or
// not, and a path or a reason must not notify anyone.
func inlineText(s string, limit int) string {
	return strings.ReplaceAll(escapeLine(oneLine(s, limit)), "@", "@\u200b")
}

// codeSpan is a value as inline code on one line, shortened to limit
// runes: its fence is longer than any run of backticks in it, so nothing in
// it can close the span, and inside code nothing is Markdown or HTML.
func codeSpan(s string, limit int) string {
	s = oneLine(s, limit)
	if s == "" {
		return "` `"
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		s = " " + s + " " // CommonMark strips one space each side
	}
	return fence + s + fence
}

// cellCode is codeSpan for a table cell: GitHub splits a row at every pipe
// not escaped, even inside code, and unescapes "\|" before the code is
// read.
func cellCode(s string, limit int) string {
	return strings.ReplaceAll(codeSpan(s, limit), "|", `\|`)
}

// quoteBlock is text a researcher wrote, as a Markdown block quote of its
// lines: every line escaped, so that it renders as written and cannot end
// the quote, and line breaks kept. Leading spaces are dropped: four would
// make a code block, in which the escapes would show.
func quoteBlock(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n"), "\r", "\n")
	var quoted []string
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		line = strings.TrimSpace(oneLine(line, utf8.RuneCountInString(line)))
		switch {
		case line != "":
			quoted = append(quoted, "> "+escapeLineStart(line))
		case len(quoted) > 0 && quoted[len(quoted)-1] != ">":
			quoted = append(quoted, ">")
		}
	}
	if len(quoted) == 0 {
		return "> _(none given)_"
	}
	for i := range quoted[:len(quoted)-1] {
		if quoted[i] != ">" && quoted[i+1] != ">" {
			quoted[i] += `\` // a hard line break, as the researcher broke the line
		}
	}
	return strings.Join(quoted, "\n")
}

var loginPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$`)

// atLogin is @login for a GitHub login, or the value escaped if it is not
// one.
func atLogin(login string) string {
	if login == "" {
		return "someone"
	}
	if loginPattern.MatchString(login) {
		return "@" + login
	}
	return inlineText(login, 40)
}

// plainLogin is atLogin for plain text, such as a title.
func plainLogin(login string) string {
	if login == "" {
		return "someone"
	}
	if loginPattern.MatchString(login) {
		return "@" + login
	}
	return oneLine(login, 40)
}

// shortCommit is a commit's first 7 hex digits as inline code.
func shortCommit(sha string) string {
	if w := commitWord(sha); w != "unknown" {
		return "`" + w + "`"
	}
	return "an unknown commit"
}

// sha256Code is a file's SHA-256 as inline code, or escaped if it is not
// hex.
func sha256Code(sum string) string {
	if len(sum) > 0 && len(sum) <= 64 && strings.Trim(sum, "0123456789abcdef") == "" {
		return "`" + sum + "`"
	}
	return inlineText(sum, 70)
}

// safeLink is an http(s) URL fit for a Markdown link destination, or "".
func safeLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	s := u.String() // percent-encodes spaces, quotes, <, > and control characters
	return strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20").Replace(s)
}

// humanSize is a file size in bytes, KB, MB or GB (of 1,024).
func humanSize(n int64) string {
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

// countOf is "1 file", "3 files".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// andList joins items as "a, b and c", naming at most limit of them and
// counting the rest: "a, b … and 3 more".
func andList(items []string, limit int) string {
	if len(items) > limit {
		return strings.Join(items[:limit], ", ") + fmt.Sprintf(" … and %d more", len(items)-limit)
	}
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// fitBytes cuts s to at most limit bytes on a rune boundary, ending it with
// "…" when it cut: the last guard on a field, which the builders keep
// within budget.
func fitBytes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	cut := max(limit-len(ellipsis), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// mdLines is Markdown written line by line within a budget of bytes,
// keeping room for the closing lines that say what did not fit.
type mdLines struct {
	b      strings.Builder
	budget int
}

// add writes line and a newline if they fit in the budget less reserve,
// and reports whether it did.
func (l *mdLines) add(line string, reserve int) bool {
	if l.b.Len()+len(line)+1+reserve > l.budget {
		return false
	}
	l.b.WriteString(line)
	l.b.WriteByte('\n')
	return true
}

// must writes line whatever the budget: the closing lines the reserve is
// for.
func (l *mdLines) must(line string) {
	l.b.WriteString(line)
	l.b.WriteByte('\n')
}

func (l *mdLines) String() string { return l.b.String() }
