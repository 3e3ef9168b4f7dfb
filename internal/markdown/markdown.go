// Package markdown renders values that came from a user or a file (an
// action name, a path, a reason, a login, a commit) into GitHub Markdown,
// so that each renders as itself: it cannot break a table row or a
// <details>, start a heading, inject HTML, or make one name read as
// another. The run views (app/runview), the release views (release) and
// the bot's replies (app) all write through it, so that the rules live in
// one place.
//
// It is pure: strings in, strings out.
package markdown

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line is s on one line, for a plain-text place such as a check run's
// title or a button: invalid UTF-8 and bidirectional overrides (which can
// make one name read as another) become U+FFFD, control characters and
// line or paragraph separators spaces, and it is shortened to limit runes.
func Line(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\u2028' || r == '\u2029' || unicode.IsControl(r):
			return ' '
		case isBidiControl(r):
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return Shorten(s, limit)
}

func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}

// Shorten cuts s to at most limit runes, ending it with "…" when it cut.
func Shorten(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	if limit < 1 {
		return ""
	}
	return string([]rune(s)[:limit-1]) + "…"
}

// escaper backslash-escapes every character that could start Markdown or
// HTML inside a line of text: emphasis, code, links, raw HTML and entities,
// table cells, strikethrough and math.
var escaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "&", `\&`, "$", `\$`,
)

var listNumber = regexp.MustCompile(`^[0-9]{1,9}[.)]`)

// escapeLineStart escapes s for the start of a line as well, where a #,
// -, +, = or "1." would make a heading, a list or a rule.
func escapeLineStart(s string) string {
	s = escaper.Replace(s)
	switch {
	case s != "" && strings.ContainsRune("#-+=", rune(s[0])):
		return `\` + s
	case listNumber.MatchString(s):
		n := listNumber.FindStringIndex(s)[1] - 1
		return s[:n] + `\` + s[n:]
	}
	return s
}

// Text is a value as Markdown that renders as the value itself on one
// line (Line), shortened to limit runes. It is for the middle of a line:
// at the start of one, #, - or "1." would need escaping too (Quote does
// that).
//
// An "@" is left as it is, so that a value reads and copies as exactly
// itself; the run views (check runs, the status comment) show action
// names, paths and messages this way. Where a value must never mention
// anyone, use TextNoMentions.
func Text(s string, limit int) string {
	return escaper.Replace(Line(s, limit))
}

// TextNoMentions is Text in which no "@" can mention anyone: each is
// followed by a zero-width space. GitHub finds mentions in the rendered
// text, escaped or not, so the release views pass every path, reason and
// finding through it: none may notify a person or a team. The cost is an
// invisible character in what a reader copies, which is why Text, which
// keeps a value byte for byte, is a separate function.
func TextNoMentions(s string, limit int) string {
	return strings.ReplaceAll(Text(s, limit), "@", "@\u200b")
}

// Code is a value as inline code on one line (Line), shortened to limit
// runes. Its fence is longer than any run of backticks in it, so nothing in
// it can close the span, and inside code nothing is Markdown or HTML. An
// empty value is a code span of one space, and a value that starts or ends
// with a backtick or a space is padded, because CommonMark strips one
// space each side.
func Code(s string, limit int) string {
	s = Line(s, limit)
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
		s = " " + s + " "
	}
	return fence + s + fence
}

// Cell is Code for a table cell: GitHub splits a row at every pipe not
// escaped, even inside code, and unescapes "\|" before the code is read.
func Cell(s string, limit int) string {
	return strings.ReplaceAll(Code(s, limit), "|", `\|`)
}

// Quote is text a person wrote, as a Markdown block quote of its lines:
// every line escaped, so that it renders as written and cannot end the
// quote or start a heading or a list, and its line breaks and paragraphs
// kept. Leading spaces are dropped: four would make a code block, in which
// the escapes would show. An "@" is left as it is, as in Text. Nothing
// given is "_(none given)_".
func Quote(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n"), "\r", "\n")
	var quoted []string
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		line = strings.TrimSpace(Line(line, utf8.RuneCountInString(line)))
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
			quoted[i] += `\` // a hard line break, as the writer broke the line
		}
	}
	return strings.Join(quoted, "\n")
}
