package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits against hostile input. Real project.yaml files nest about six
// levels deep and use a handful of anchors.
const (
	// MaxDepth is the deepest nesting of collections accepted. (The
	// reference loader, being recursive Python, gives up somewhat beyond.)
	MaxDepth = 200
	// MaxExpansion bounds the nodes that aliases and merge keys add to the
	// tree, so that an alias bomb fails fast instead of eating memory.
	MaxExpansion = 1 << 20
	// maxLocateBytes: beyond this size a syntax error is not located more
	// precisely than yaml.v3 reports it (locating re-parses prefixes: two
	// or three when the fast path's hint is good, about twenty at worst).
	maxLocateBytes = 256 << 10
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse reads one YAML document with the semantics OpenSAFELY's reference
// loader gives it and returns its root, or nil for an empty or
// comments-only document. Errors are *Error.
//
// Aliases are expanded by sharing: an aliased node appears in the tree once
// per use, as the same *Node. Callers must treat the tree as read-only.
func Parse(src []byte) (*Node, error) {
	return ParseWith(src, nil)
}

// parseV3 is the general path: yaml.v3 builds its node tree, which is then
// converted, checked and expanded.
func parseV3(src []byte) (root *Node, err error) {
	return parseV3Hint(src, 0)
}

// parseV3Hint is parseV3 given the line, if known (else 0), near which a
// syntax error is likely: it only makes locating one cheaper.
func parseV3Hint(src []byte, hint int) (root *Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Msg: fmt.Sprintf("the YAML reader failed on this file (%v)", r), Kind: ErrSyntax}
		}
	}()
	src = bytes.TrimPrefix(src, utf8BOM)
	if err := checkText(src); err != nil {
		return nil, err
	}
	v11, src := scanDirectives(src)

	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, locateSyntaxError(src, err, hint)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err == nil || secondDocumentLine(src) > 0:
		line, col := secondDocumentLine(src), 1
		if line == 0 {
			line, col = next.Line, 0
		}
		return nil, errorf(ErrSyntax, line, col,
			"expected a single document in the stream, but found another document (a project.yaml holds one document: remove the extra `---`)")
	default: // text after the document that starts no new one
		return nil, locateSyntaxError(src, err, hint)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	c := converter{resolve: ResolvePlain, v11: v11}
	if v11 {
		c.resolve = resolvePlain11
	}
	n, _, err := c.node(doc.Content[0], 1)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// checkText rejects what the reference's reader rejects before parsing:
// bytes that are not UTF-8 and characters outside YAML's printable set
// (checked over the whole input, comments included).
func checkText(src []byte) error {
	line, lineStart := 1, 0
	for i := 0; i < len(src); {
		c := src[i]
		if c >= 0x20 && c < 0x7F || c == '\t' {
			i++
			continue
		}
		if c == '\n' || c == '\r' {
			if c == '\r' && i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			i++
			line, lineStart = line+1, i
			continue
		}
		col := utf8.RuneCount(src[lineStart:i]) + 1
		if c < 0x80 {
			if c == 0 {
				return errorf(ErrEncoding, line, col, "the file contains a NUL byte, so it is not a text file (is it binary?); project.yaml must be UTF-8 text")
			}
			return errorf(ErrEncoding, line, col, "unacceptable character #x%04x: control characters are not allowed in YAML; remove it", c)
		}
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 {
			return errorf(ErrEncoding, line, col, "invalid UTF-8 (byte 0x%02x); save project.yaml as UTF-8 text", c)
		}
		if !printable(r) {
			return errorf(ErrEncoding, line, col, "unacceptable character #x%04x: special characters are not allowed in YAML; remove it", r)
		}
		i += size
	}
	return nil
}

// printable is YAML's (and ruamel's) set of allowed non-ASCII characters.
func printable(r rune) bool {
	return r == 0x85 || (r >= 0xA0 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000
}

// scanDirectives reads the %YAML directive of the document, if any. It
// reports a 1.1 document (whose plain scalars resolve differently) and,
// because yaml.v3 refuses "%YAML 1.2" although ruamel reads it, rewrites
// that directive to the 1.1 yaml.v3 knows; the length is unchanged so
// positions stay exact.
func scanDirectives(src []byte) (v11 bool, out []byte) {
	out = src
	for rest, off := src, 0; len(rest) > 0; {
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			end = len(rest)
		}
		line := bytes.TrimRight(rest[:end], "\r")
		trimmed := bytes.TrimLeft(line, " \t")
		switch {
		case len(trimmed) == 0 || trimmed[0] == '#':
		case line[0] == '%':
			f := strings.Fields(string(line))
			if len(f) >= 2 && f[0] == "%YAML" {
				switch f[1] {
				case "1.1":
					v11 = true
				case "1.2":
					at := off + bytes.Index(line, []byte("1.2"))
					out = bytes.Clone(src)
					out[at+2] = '1'
				}
			}
		default:
			return v11, out
		}
		if end == len(rest) {
			break
		}
		rest, off = rest[end+1:], off+end+1
	}
	return v11, out
}

// secondDocumentLine finds where a second document starts: a "---" after
// content, or content after a "..." end marker.
func secondDocumentLine(src []byte) int {
	seenContent, ended := false, false
	for i, line := range strings.Split(string(src), "\n") {
		line = strings.TrimRight(line, "\r")
		marker := func(m string) bool {
			return strings.HasPrefix(line, m) && (len(line) == 3 || line[3] == ' ' || line[3] == '\t')
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case marker("---"):
			if seenContent || ended {
				return i + 1
			}
			if rest := strings.TrimSpace(line[3:]); rest != "" && rest[0] != '#' {
				seenContent = true
			}
		case marker("..."):
			ended = seenContent
		case trimmed == "" || trimmed[0] == '#' || (line[0] == '%' && !seenContent):
		default:
			if ended {
				return i + 1
			}
			seenContent = true
		}
	}
	return 0
}

// locateSyntaxError turns a yaml.v3 syntax error into an *Error at the line
// where the document stops being well-formed. yaml.v3 reports the line of
// the enclosing construct (0-based) rather than of the offending token, so
// the line is found again by parsing ever longer prefixes.
func locateSyntaxError(src []byte, err error, hint int) *Error {
	line, msg := splitV3Error(err.Error())
	if strings.HasPrefix(msg, "did not find expected") && line > 0 {
		line++ // yaml.v3 reports a parser error's line 0-based
	}
	if len(src) <= maxLocateBytes {
		if l := firstFailingLine(src, msg, max(line-1, hint)); l > 0 {
			line = l
		}
	}
	text := lineText(src, line)
	col := 0
	switch {
	case strings.Contains(msg, "mapping values are not allowed"):
		col = mappingValueColumn(text)
		msg = "mapping values are not allowed here: a value that contains \": \" must be put in quotes"
	case strings.Contains(msg, "cannot start any token") && strings.Contains(text, "\t"):
		col = utf8.RuneCountInString(text[:strings.IndexByte(text, '\t')]) + 1
		msg = "found a TAB character that cannot start any token; indent YAML with spaces, not tabs"
	case strings.Contains(msg, "did not find expected key"),
		strings.Contains(msg, "did not find expected '-' indicator"),
		strings.Contains(msg, "block sequence entries are not allowed"):
		col = firstNonSpaceColumn(text)
		msg += " (check the indentation of this line)"
	case strings.Contains(msg, "could not find expected ':'"):
		col = firstNonSpaceColumn(text)
		msg += " (a key without a colon, or a leftover merge-conflict marker?)"
	case strings.Contains(msg, "found unexpected end of stream"):
		msg += " (an unclosed quote or bracket?)"
	}
	return errorf(ErrSyntax, line, col, "%s", msg)
}

// splitV3Error splits "yaml: line N: message" into N and the message.
func splitV3Error(s string) (int, string) {
	s = strings.TrimPrefix(s, "yaml: ")
	if rest, ok := strings.CutPrefix(s, "line "); ok {
		if num, msg, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				return n, msg
			}
		}
	}
	return 0, s
}

// firstFailingLine returns the smallest k such that the first k lines fail
// to parse with the same message as the whole file, or 0. Whether a prefix
// fails is monotone in its length in practice, so the search gallops out
// from hint (the line yaml.v3 reported, at or just before the offending
// token) and then bisects: a handful of parses of prefixes about as long
// as the error's line, instead of a bisection over the whole file. The
// whole input is known to fail with msg (that is how the caller got here).
func firstFailingLine(src []byte, msg string, hint int) int {
	ends := lineEnds(src)
	n := len(ends)
	if n == 0 {
		return 0
	}
	fails := func(k int) bool {
		if k >= n {
			return true
		}
		var nd yaml.Node
		err := safeUnmarshal(src[:ends[k-1]], &nd)
		if err == nil {
			return false
		}
		_, m := splitV3Error(err.Error())
		return m == msg
	}
	if msg == "did not find expected node content" {
		// Not monotone often enough to search from the hint: bisect the
		// whole file, as always.
		lo, hi := 1, n
		for lo < hi {
			mid := (lo + hi) / 2
			if fails(mid) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return lo
	}
	k := min(max(hint, 1), n)
	var ok, bad int // !fails(ok) (0: none known), fails(bad)
	if fails(k) {
		bad = k
		for step := 1; ; step *= 2 {
			if bad == 1 {
				return 1
			}
			x := max(bad-step, 1)
			if !fails(x) {
				ok = x
				break
			}
			bad = x
		}
	} else {
		ok = k
		for step := 1; ; step *= 2 {
			x := min(ok+step, n)
			if fails(x) {
				bad = x
				break
			}
			ok = x
		}
	}
	for bad-ok > 1 {
		mid := ok + (bad-ok)/2
		if fails(mid) {
			bad = mid
		} else {
			ok = mid
		}
	}
	return bad
}

// safeUnmarshal parses the first document and checks that nothing but
// further documents follows it.
func safeUnmarshal(src []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(n); err != nil {
		return err
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// lineEnds returns, for each line, the offset just past its line break.
func lineEnds(src []byte) []int {
	var ends []int
	for i, c := range src {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(src) > 0 && src[len(src)-1] != '\n' {
		ends = append(ends, len(src))
	}
	return ends
}

func lineText(src []byte, line int) string {
	if line < 1 {
		return ""
	}
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			return ""
		}
		src = src[i+1:]
	}
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return strings.TrimRight(string(src), "\r")
}

func firstNonSpaceColumn(text string) int {
	for i, r := range text {
		if r != ' ' {
			return utf8.RuneCountInString(text[:i]) + 1
		}
	}
	return 0
}

// mappingValueColumn guesses the ':' that YAML refused: the second mapping
// indicator on the line if there are two (a: b: c), else the only one (a
// key written inside a multi-line plain value).
func mappingValueColumn(text string) int {
	var cols []int
	for i := 0; i < len(text); i++ {
		if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\t') {
			cols = append(cols, utf8.RuneCountInString(text[:i])+1)
		}
	}
	switch len(cols) {
	case 0:
		return 0
	case 1:
		return cols[0]
	}
	return cols[1]
}
