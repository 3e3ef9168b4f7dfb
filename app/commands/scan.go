package commands

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The scanner reads a comment the way GitHub shows it, closely enough to
// tell which lines a researcher wrote as commands: lines in fenced code, in
// block quotes and in HTML comments are shown as code, as a quotation or
// not at all, so they are not commands.

type commandLine struct {
	line int
	raw  string // the line as written, trimmed
	text string // the line without HTML comments, trimmed; starts with "/"
}

type document struct {
	commands   []commandLine
	paragraphs []Paragraph
}

// fence is an open fenced code block: its character and length.
type fence struct {
	char byte
	n    int
}

func scan(body string) document {
	var (
		doc       document
		open      fence // open.n == 0: not in a fence
		inComment bool
		para      = -1       // index of the paragraph being read, or -1
		more      [][]string // lines after each paragraph's label line
	)
	// An unclosed "<!--" in the middle of a line is literal text unless a
	// "-->" follows somewhere later.
	lastClose := strings.LastIndex(body, "-->")
	endPara := func() { para = -1 }

	for start, n := 0, 1; start <= len(body); n++ {
		line, next := cutLine(body, start)
		offset := start
		start = next

		if open.n > 0 {
			if closesFence(line, open) {
				open = fence{}
			}
			endPara()
			continue
		}
		if inComment {
			if i := strings.Index(line, "-->"); i >= 0 {
				_, inComment = stripComments(line[i+3:], offset+i+3, lastClose, false)
			}
			endPara()
			continue
		}
		t := strings.TrimLeftFunc(line, unicode.IsSpace)
		if t == "" || t[0] == '>' {
			endPara()
			continue
		}
		if f, ok := opensFence(t); ok {
			open = f
			endPara()
			continue
		}
		visible, stillOpen := stripComments(line, offset, lastClose, true)
		inComment = stillOpen
		visible = strings.TrimSpace(visible)
		if isCommandLine(t) {
			doc.commands = append(doc.commands, commandLine{line: n, raw: strings.TrimSpace(line), text: visible})
			endPara()
			continue
		}
		if visible == "" {
			endPara()
			continue
		}
		if label, rest, ok := cutLabel(visible); ok {
			doc.paragraphs = append(doc.paragraphs, Paragraph{Label: label, Line: n, Text: rest})
			more = append(more, nil)
			para = len(doc.paragraphs) - 1
			if inComment {
				endPara()
			}
			continue
		}
		if para >= 0 {
			more[para] = append(more[para], visible)
			if inComment {
				endPara()
			}
		}
	}
	for i, lines := range more {
		p := &doc.paragraphs[i]
		if p.Text != "" {
			lines = append([]string{p.Text}, lines...)
		}
		p.Text = strings.Join(lines, "\n")
	}
	return doc
}

// cutLine returns the line starting at start and where the next one
// starts. Lines end with "\n", "\r\n" or a lone "\r".
func cutLine(body string, start int) (line string, next int) {
	i := strings.IndexAny(body[start:], "\r\n")
	if i < 0 {
		return body[start:], len(body) + 1
	}
	end := start + i
	next = end + 1
	if body[end] == '\r' && next < len(body) && body[next] == '\n' {
		next++
	}
	return body[start:end], next
}

// isCommandLine reports whether a line (without its indentation) is a
// command: a slash, a letter, more letters, digits, "-" or "_", then a
// space or the end of the line. "/path/to/file" and "/run," are not.
func isCommandLine(t string) bool {
	if len(t) < 2 || t[0] != '/' || !isLetter(t[1]) {
		return false
	}
	i := 2
	for i < len(t) && isNameByte(t[i]) {
		i++
	}
	if i == len(t) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(t[i:])
	return unicode.IsSpace(r)
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isNameByte(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// opensFence reports whether a line (without its indentation) opens a
// fenced code block: three or more backticks or tildes, and for backticks
// an info string without backticks.
func opensFence(t string) (fence, bool) {
	if len(t) < 3 || t[0] != '`' && t[0] != '~' {
		return fence{}, false
	}
	c := t[0]
	n := 0
	for n < len(t) && t[n] == c {
		n++
	}
	if n < 3 || c == '`' && strings.IndexByte(t[n:], '`') >= 0 {
		return fence{}, false
	}
	return fence{char: c, n: n}, true
}

// closesFence reports whether a line closes f: at least as many of the
// same character, and nothing else but spaces.
func closesFence(line string, f fence) bool {
	t := strings.TrimLeftFunc(line, unicode.IsSpace)
	n := 0
	for n < len(t) && t[n] == f.char {
		n++
	}
	return n >= f.n && strings.TrimSpace(t[n:]) == ""
}

// stripComments removes the HTML comments from a line and reports whether
// one is still open at its end. Code spans are text, so "`<!--`" opens
// nothing. An unclosed "<!--" opens a comment when it starts the line (an
// HTML block) or when a "-->" follows later in the body (at offset
// lastClose); otherwise it is literal text. offset is where s starts in
// the body.
func stripComments(s string, offset, lastClose int, atLineStart bool) (visible string, open bool) {
	if !strings.Contains(s, "<!--") {
		return s, false
	}
	spans := codeSpans(s)
	// Past the last "-->" of the line no search for one can succeed; not
	// searching keeps a line of many "<!--" linear.
	lastInLine := strings.LastIndex(s, "-->")
	var b strings.Builder
	from := 0
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "<!--")
		if j < 0 {
			break
		}
		i += j
		if end, ok := spans.covering(i); ok {
			i = end
			continue
		}
		b.WriteString(s[from:i])
		if i+4 <= lastInLine {
			i += 4 + strings.Index(s[i+4:], "-->") + 3
			from = i
			b.WriteByte(' ')
			continue
		}
		first := atLineStart && strings.TrimSpace(s[:i]) == ""
		if first || lastClose > offset+i+3 {
			return b.String(), true
		}
		b.WriteString("<!--")
		i += 4
		from = i
	}
	b.WriteString(s[from:])
	return b.String(), false
}

// spanList is the code spans of a line, as [start, end) byte ranges in
// order.
type spanList [][2]int

func (l spanList) covering(i int) (end int, ok bool) {
	k := sort.Search(len(l), func(k int) bool { return l[k][1] > i })
	if k < len(l) && l[k][0] <= i {
		return l[k][1], true
	}
	return 0, false
}

// codeSpans finds the code spans of a line: a run of backticks up to the
// next run of the same length. A run with no partner is literal. Runs are
// matched through an index by length, so a line of many backticks costs
// n log n, not n².
func codeSpans(s string) spanList {
	type run struct{ pos, n int }
	var runs []run
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '`')
		if j < 0 {
			break
		}
		i += j
		k := i
		for k < len(s) && s[k] == '`' {
			k++
		}
		runs = append(runs, run{i, k - i})
		i = k
	}
	if len(runs) < 2 {
		return nil
	}
	byLen := map[int][]int{}
	for k, r := range runs {
		byLen[r.n] = append(byLen[r.n], k)
	}
	var spans spanList
	for k := 0; k < len(runs); {
		same := byLen[runs[k].n]
		at := sort.SearchInts(same, k+1)
		if at == len(same) {
			k++
			continue
		}
		closer := runs[same[at]]
		spans = append(spans, [2]int{runs[k].pos, closer.pos + closer.n})
		k = same[at] + 1
	}
	return spans
}

// cutLabel reads a paragraph label at the start of a line: "Context:" or
// "Controls:", in any case, also in bold ("**Context:**", "**Context**:").
func cutLabel(s string) (label, rest string, ok bool) {
	t := trimEmphasis(s)
	for _, l := range labels {
		if len(t) < len(l) || !strings.EqualFold(t[:len(l)], l) {
			continue
		}
		u := strings.TrimLeft(trimEmphasis(t[len(l):]), " \t")
		if !strings.HasPrefix(u, ":") {
			continue
		}
		return l, strings.TrimSpace(trimEmphasis(u[1:])), true
	}
	return "", "", false
}

var labels = []string{"context", "controls"}

func trimEmphasis(s string) string {
	for _, m := range []string{"**", "__"} {
		if strings.HasPrefix(s, m) {
			return s[len(m):]
		}
	}
	return s
}
