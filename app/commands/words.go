package commands

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitWords splits the arguments of a command line into words with the
// POSIX shell's quoting rules, and nothing else of the shell: no
// variables, globs, pipes or substitutions; the words never reach a shell.
//
//   - blanks separate words;
//   - '...' keeps everything up to the next ' as it is;
//   - "..." keeps everything up to the next unescaped ", where a backslash
//     escapes only $ ` " and \;
//   - outside quotes a backslash keeps the next character as it is;
//   - a # that starts a word starts a comment to the end of the line.
//
// Curly quotes are refused rather than kept: they come from editors that
// "smarten" quotes, and a word such as “tpp” is never what was meant.
func splitWords(s string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		inWord bool
	)
	end := func() error {
		if !inWord {
			return nil
		}
		if len(words) == MaxArgs {
			return reasonf(nil, "too many arguments (the limit is %d)", MaxArgs)
		}
		words = append(words, word.String())
		word.Reset()
		inWord = false
		return nil
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			if err := end(); err != nil {
				return nil, err
			}
			i += size
		case r == '#' && !inWord:
			i = len(s)
		case r == '\\':
			if i+1 == len(s) {
				return nil, reasonf(nil, "the line ends with a backslash, which escapes nothing; write %s for a backslash", code(`\\`))
			}
			_, n := utf8.DecodeRuneInString(s[i+1:])
			word.WriteString(s[i+1 : i+1+n])
			inWord = true
			i += 1 + n
		case r == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, unbalanced(s, i)
			}
			word.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 2
		case r == '"':
			j, err := doubleQuoted(s, i, &word)
			if err != nil {
				return nil, err
			}
			inWord = true
			i = j
		case strings.ContainsRune("“”„‘’‚«»", r):
			return nil, reasonf(nil, "%s is a curly quote: write straight quotes (%s or %s) around a word, or quote the curly one if you mean it", code(string(r)), code(`"`), code(`'`))
		default:
			word.WriteString(s[i : i+size])
			inWord = true
			i += size
		}
	}
	if err := end(); err != nil {
		return nil, err
	}
	return words, nil
}

// doubleQuoted appends the text of the "..." starting at s[i] to w and
// returns where it ends.
func doubleQuoted(s string, i int, w *strings.Builder) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '"':
			return j + 1, nil
		case '\\':
			if j+1 < len(s) && strings.IndexByte("$`\"\\", s[j+1]) >= 0 {
				j++
			}
		}
		w.WriteByte(s[j])
	}
	return 0, unbalanced(s, i)
}

func unbalanced(s string, i int) error {
	q := s[i : i+1]
	after := strings.TrimSpace(s[i+1:])
	if after == "" {
		return reasonf(nil, "unbalanced quote: the %s at the end is never closed", code(q))
	}
	return reasonf(nil, "unbalanced quote: the %s before %s is never closed", code(q), code(shorten(after, 30)))
}

// checkCharacters refuses a command line that is not text: invalid UTF-8,
// or control characters such as NUL (a tab is fine).
func checkCharacters(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return reasonf(nil, "this command line is not valid UTF-8 text (at byte %d)", i+1)
			}
		}
		if r != '\t' && unicode.IsControl(r) {
			return reasonf(nil, "this command line holds a control character (U+%04X at byte %d)", r, i+1)
		}
	}
	return nil
}

// code is s as inline Markdown code, shortened, with control characters
// and invalid UTF-8 shown as U+FFFD, and fenced with enough backticks that
// none inside can end it.
func code(s string) string {
	s = shorten(s, maxWordShown)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fenceStr := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		s = " " + s + " "
	}
	return fenceStr + s + fenceStr
}

const (
	maxWordShown = 60  // bytes of a word echoed in a reason
	maxRawShown  = 200 // bytes of a line echoed in a reply
)

// shorten cuts s to at most n bytes, on a character boundary, marking the
// cut with an ellipsis.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func orList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = code(s)
	}
	switch len(quoted) {
	case 0:
		return ""
	case 1:
		return quoted[0]
	}
	return fmt.Sprintf("%s or %s", strings.Join(quoted[:len(quoted)-1], ", "), quoted[len(quoted)-1])
}
