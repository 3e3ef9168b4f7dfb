package commands

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reply is the Markdown answer to a comment whose commands could not all be
// read: for each, the line, what is wrong, what was probably meant and how
// to write the command. It is "" when errs is empty.
func Reply(errs []*ParseError) string {
	if len(errs) == 0 {
		return ""
	}
	var b strings.Builder
	if len(errs) == 1 {
		b.WriteString("Sorry, I could not read this command:\n")
	} else {
		fmt.Fprintf(&b, "Sorry, I could not read %d commands in this comment:\n", len(errs))
	}
	shown := map[string]bool{}
	for _, e := range errs {
		b.WriteString("\n")
		switch {
		case e.Line > 0 && e.Raw != "":
			fmt.Fprintf(&b, "**Line %d:** %s\n", e.Line, code(shorten(e.Raw, maxRawShown)))
		case e.Line > 0:
			fmt.Fprintf(&b, "**Line %d:**\n", e.Line)
		}
		b.WriteString(sentence(e.Reason))
		if len(e.Suggestions) > 0 {
			fmt.Fprintf(&b, " Did you mean %s?", orList(e.Suggestions))
		}
		b.WriteString("\n")
		if e.Usage != "" && !shown[e.Usage] {
			shown[e.Usage] = true
			b.WriteString("\n" + fenced(e.Usage))
		}
	}
	b.WriteString("\nComment `/help` to see every command.\n")
	return b.String()
}

// sentence starts s with a capital letter and ends it with a period.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if unicode.IsLower(r) {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// fenced is s as a fenced code block whose fence nothing in s can close.
func fenced(s string) string {
	f := "```"
	for strings.Contains(s, f) {
		f += "`"
	}
	return f + "text\n" + s + "\n" + f + "\n"
}
