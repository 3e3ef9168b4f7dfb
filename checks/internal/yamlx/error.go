package yamlx

import "fmt"

// ErrorKind says what kind of problem stopped the parse, for callers that
// report different kinds differently.
type ErrorKind uint8

const (
	ErrSyntax       ErrorKind = iota // not well-formed YAML
	ErrDuplicateKey                  // a key appears twice in one mapping
	ErrEncoding                      // not UTF-8 text, or characters YAML forbids
	ErrLimit                         // nesting or alias expansion beyond the limits
	ErrValue                         // a scalar the reference loader cannot construct
)

// Error is a YAML problem at a 1-based line and column (0 when unknown).
type Error struct {
	Line   int
	Column int
	Msg    string
	Kind   ErrorKind
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return e.Msg
	case e.Column == 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

func errorf(kind ErrorKind, line, col int, format string, args ...any) *Error {
	return &Error{Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Kind: kind}
}
