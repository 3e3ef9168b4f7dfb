package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// WebhookFields are the few payload fields intake reads: enough to file a
// delivery and to order it. Everything else is left to the handlers.
type WebhookFields struct {
	Action         string
	InstallationID int64
	Repo           string // repository.full_name, "" if none

	PullRequest   int    // pull_request.number
	Issue         int    // issue.number (an issue_comment on a pull request names the PR here)
	CheckSuitePR  int    // check_suite.pull_requests[0].number
	CheckSuiteSHA string // check_suite.head_sha
	CheckRunPR    int    // check_run.pull_requests[0].number
	CheckRunSHA   string // check_run.head_sha
}

// ParseWebhookFields reads WebhookFields from a payload, which must be a
// JSON object. It reads the payload once, checking its syntax as
// encoding/json would and picking out the fields on the way: several times
// faster than json.Unmarshal into a struct (which checks the whole document,
// then walks it again), and this is on the path that acknowledges
// deliveries. Field names match exactly; where a key repeats,
// the last one wins.
func ParseWebhookFields(payload []byte) (WebhookFields, error) {
	s := webhookScanner{data: payload}
	var f WebhookFields
	if s.peek() != '{' {
		return f, errNotAnObject
	}
	err := s.members(1, func(key []byte) error {
		switch string(key) {
		case "action":
			return s.stringField(&f.Action)
		case "installation":
			return s.objectField(1, func() { f.InstallationID = 0 }, func(key []byte) error {
				if string(key) == "id" {
					return s.intField(&f.InstallationID)
				}
				return s.skip(3)
			})
		case "repository":
			return s.objectField(1, func() { f.Repo = "" }, func(key []byte) error {
				if string(key) == "full_name" {
					return s.stringField(&f.Repo)
				}
				return s.skip(3)
			})
		case "pull_request":
			return s.numberedField(&f.PullRequest)
		case "issue":
			return s.numberedField(&f.Issue)
		case "check_suite":
			return s.checkField(&f.CheckSuitePR, &f.CheckSuiteSHA)
		case "check_run":
			return s.checkField(&f.CheckRunPR, &f.CheckRunSHA)
		}
		return s.skip(2)
	})
	if err != nil {
		return WebhookFields{}, err
	}
	if s.peek() != 0 {
		return WebhookFields{}, s.syntaxError("data after the top-level object")
	}
	return f, nil
}

var errNotAnObject = errors.New("payload is not a JSON object")

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// webhookScanner walks a JSON document once, checking its syntax (RFC 8259,
// as encoding/json does) while ParseWebhookFields picks out its fields.
type webhookScanner struct {
	data []byte
	pos  int
}

func (s *webhookScanner) syntaxError(what string) error {
	return fmt.Errorf("payload is not valid JSON: %s at offset %d", what, s.pos)
}

func (s *webhookScanner) typeError(field string) error {
	return fmt.Errorf("payload has an unexpected type of value for %s at offset %d", field, s.pos)
}

// peek skips white space and returns the next byte, 0 at the end.
func (s *webhookScanner) peek() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// members reads an object, calling member with each key; member must read
// the value. depth is the object's own nesting depth.
func (s *webhookScanner) members(depth int, member func(key []byte) error) error {
	if depth > maxJSONDepth {
		return s.syntaxError("nesting too deep")
	}
	s.pos++ // '{'
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.syntaxError("expected a string key")
		}
		key, escaped, err := s.str()
		if err != nil {
			return err
		}
		if escaped {
			key = unescapeJSON(key)
		}
		if s.peek() != ':' {
			return s.syntaxError("expected ':'")
		}
		s.pos++
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.syntaxError("expected ',' or '}'")
		}
	}
}

// elements reads an array, calling element with each index; element must
// read the value.
func (s *webhookScanner) elements(depth int, element func(i int) error) error {
	if depth > maxJSONDepth {
		return s.syntaxError("nesting too deep")
	}
	s.pos++ // '['
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := element(i); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.syntaxError("expected ',' or ']'")
		}
	}
}

// skip reads one value of any kind at the given depth.
func (s *webhookScanner) skip(depth int) error {
	switch c := s.peek(); {
	case c == '{':
		return s.members(depth, func([]byte) error { return s.skip(depth + 1) })
	case c == '[':
		return s.elements(depth, func(int) error { return s.skip(depth + 1) })
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || '0' <= c && c <= '9':
		_, err := s.number()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == 0:
		return s.syntaxError("unexpected end")
	default:
		return s.syntaxError("unexpected character")
	}
}

// str reads a string and returns its raw contents, and whether they hold
// escapes.
func (s *webhookScanner) str() (raw []byte, escaped bool, err error) {
	s.pos++ // '"'
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			raw = s.data[start:s.pos]
			s.pos++
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			if s.pos+1 >= len(s.data) {
				return nil, false, s.syntaxError("unterminated string")
			}
			switch s.data[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if s.pos+6 > len(s.data) || !isHex4(s.data[s.pos+2:s.pos+6]) {
					return nil, false, s.syntaxError("bad \\u escape")
				}
				s.pos += 6
			default:
				return nil, false, s.syntaxError("bad escape")
			}
		case c < 0x20:
			return nil, false, s.syntaxError("control character in string")
		default:
			s.pos++
			// Most bytes of a payload are plain string contents.
			for s.pos < len(s.data) && plainStringByte[s.data[s.pos]] {
				s.pos++
			}
		}
	}
	return nil, false, s.syntaxError("unterminated string")
}

// plainStringByte marks the bytes that may appear in a string as they are.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// unescapeJSON decodes the contents of a string known to be valid JSON.
func unescapeJSON(raw []byte) []byte {
	var v string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	if err := json.Unmarshal(quoted, &v); err != nil {
		return raw // cannot happen: str checked the escapes
	}
	return []byte(v)
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *webhookScanner) number() ([]byte, error) {
	start := s.pos
	d := s.data
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && '1' <= d[s.pos] && d[s.pos] <= '9':
		s.digits()
	default:
		return nil, s.syntaxError("bad number")
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return nil, s.syntaxError("bad number")
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return nil, s.syntaxError("bad number")
		}
	}
	return d[start:s.pos], nil
}

func (s *webhookScanner) digits() int {
	start := s.pos
	for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

func (s *webhookScanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.syntaxError("unexpected character")
	}
	s.pos += len(word)
	return nil
}

// The field readers follow encoding/json: null leaves a string or number as
// it was and resets an object; any other type of value is an error.

func (s *webhookScanner) stringField(dst *string) error {
	switch s.peek() {
	case '"':
		raw, escaped, err := s.str()
		if escaped || !utf8.Valid(raw) {
			raw = unescapeJSON(raw) // as encoding/json: escapes decoded, bad UTF-8 replaced
		}
		*dst = string(raw)
		return err
	case 'n':
		return s.literal("null")
	}
	return s.typeError("a string field")
}

func (s *webhookScanner) intField(dst *int64) error {
	switch c := s.peek(); {
	case c == '-' || '0' <= c && c <= '9':
		tok, err := s.number()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(tok), 10, 64)
		if err != nil {
			return s.typeError("an integer field")
		}
		*dst = n
		return nil
	case c == 'n':
		return s.literal("null")
	}
	return s.typeError("an integer field")
}

// objectField reads an object or null at depth (null calls reset).
func (s *webhookScanner) objectField(depth int, reset func(), member func(key []byte) error) error {
	switch s.peek() {
	case '{':
		return s.members(depth+1, member)
	case 'n':
		reset()
		return s.literal("null")
	}
	return s.typeError("an object field")
}

// numberedField reads {"number": N, ...} as in pull_request and issue.
func (s *webhookScanner) numberedField(dst *int) error {
	n := int64(*dst)
	err := s.objectField(1, func() { n = 0 }, func(key []byte) error {
		if string(key) == "number" {
			return s.intField(&n)
		}
		return s.skip(3)
	})
	*dst = int(n)
	return err
}

// checkField reads {"head_sha": "...", "pull_requests": [{"number": N}, ...]}
// as in check_suite and check_run.
func (s *webhookScanner) checkField(pr *int, sha *string) error {
	n := int64(*pr)
	err := s.objectField(1, func() { n, *sha = 0, "" }, func(key []byte) error {
		switch string(key) {
		case "head_sha":
			return s.stringField(sha)
		case "pull_requests":
			switch s.peek() {
			case '[':
				n = 0
				return s.elements(3, func(i int) error {
					if i == 0 {
						first := n
						err := s.objectField(3, func() {}, func(key []byte) error {
							if string(key) == "number" {
								return s.intField(&first)
							}
							return s.skip(5)
						})
						n = first
						return err
					}
					return s.skip(4)
				})
			case 'n':
				n = 0
				return s.literal("null")
			}
			return s.typeError("pull_requests")
		}
		return s.skip(3)
	})
	*pr = int(n)
	return err
}
