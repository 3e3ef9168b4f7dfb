// Package commands reads the commands researchers write in pull request
// comments (/run, /cancel, /status, /help, /release) into typed values, or
// into errors that say what is wrong and how to write it instead.
//
// It is pure: no I/O, no GitHub, no clock. Whatever needs context (is this
// action in project.yaml, is that backend configured) is checked by the
// caller, which can build its replies with Suggest and Parsed.Unknown.
package commands

import (
	"fmt"
	"strings"
)

// Command is one comment command: its name, how to write it, one sentence
// of help, the flags it takes and how to read its arguments.
type Command struct {
	Name  string // without the slash: "run"
	Usage string // how to write it, as shown in replies and /help
	Help  string // one sentence
	Flags []Flag
	// Parse turns the flags and operands of one command line into the
	// command's typed value (Run, Cancel, ...). Its error is the reason
	// shown to the researcher.
	Parse func(Invocation) (any, error)
}

// Flag is an option a command takes, as --Name or -Short.
type Flag struct {
	Name  string // long form without dashes: "backend"
	Short string // one letter, or ""
	Value string // placeholder when the flag takes a value ("NAME"), "" for a switch
	Help  string
}

// Invocation is one command line after flags were read.
type Invocation struct {
	Flags map[string]string // by long name; "" for a switch that is set
	Args  []string          // operands, in order
	// Paragraphs are the labelled paragraphs (Context:, Controls:) of the
	// whole comment, for commands such as /release that need them.
	Paragraphs []Paragraph
}

// Paragraph is a labelled paragraph of a comment, such as "Context: ...".
type Paragraph struct {
	Label string // as known, lower case: "context" or "controls"
	Line  int    // line of the label, from 1
	Text  string // text after the label up to a blank line or the next label
}

// All is every command, in the order /help lists them. The help text and
// the "did you mean" suggestions are built from it, so they cannot drift.
var All = []Command{runCommand, cancelCommand, releaseCommand, withdrawCommand, statusCommand, helpCommand}

// Limits on what one comment may ask, so that hostile input stays cheap and
// a reply stays short. GitHub caps a comment at 65,536 characters, which is
// at most MaxCommentBytes bytes of UTF-8.
const (
	MaxCommentBytes = 4 * 65536
	MaxCommands     = 10   // command lines read from one comment
	MaxLineBytes    = 4096 // bytes in one command line
	MaxArgs         = 200  // words after the command name
)

// Flags shared by several commands.
var (
	backendFlag = Flag{Name: "backend", Value: "NAME", Help: "the backend to use instead of the repository's default"}
	forceFlag   = Flag{Name: "force-run-dependencies", Short: "f", Help: "also run every dependency, even those whose outputs could be reused"}
)

// Parsed is one command read from a comment.
type Parsed struct {
	Line    int    // line of the comment, from 1
	Raw     string // the line as written, trimmed
	Name    string // the command's name: "run"
	Command any    // Run, Cancel, Status, Help or Release
}

// ParseError is a command line that could not be read, with what to tell
// the researcher.
type ParseError struct {
	Line        int      // line of the comment, from 1; 0 for the comment as a whole
	Raw         string   // the line as written, trimmed and shortened
	Reason      string   // what is wrong, in Markdown, no trailing period
	Usage       string   // how to write the command (or every command)
	Suggestions []string // what was probably meant: "/run", "--backend", "generate_dataset"
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Reason)
	if len(e.Suggestions) > 0 {
		fmt.Fprintf(&b, " (did you mean %s?)", orList(e.Suggestions))
	}
	return b.String()
}

// Unknown is the error for a word in p that the caller does not know, such
// as an action missing from project.yaml or a backend that is not
// configured: kind names what it is ("action", "backend") and known lists
// what would have been right, for suggestions.
func (p Parsed) Unknown(kind, word string, known []string) *ParseError {
	return &ParseError{
		Line:        p.Line,
		Raw:         shorten(p.Raw, maxRawShown),
		Reason:      fmt.Sprintf("unknown %s %s", kind, code(word)),
		Usage:       usageOf(p.Name),
		Suggestions: Suggest(word, known),
	}
}

// Lookup finds a command by name, with or without its slash, in any case.
func Lookup(name string) (Command, bool) {
	name = strings.ToLower(strings.TrimPrefix(name, "/"))
	for _, c := range All {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

func usageOf(name string) string {
	if c, ok := Lookup(name); ok {
		return c.Usage
	}
	return allUsages()
}

func allUsages() string {
	u := make([]string, len(All))
	for i, c := range All {
		u[i] = c.Usage
	}
	return strings.Join(u, "\n")
}

// Parse reads every command in a comment body, in order. Lines in fenced
// code, lines quoted with ">", and HTML comments are not read. Each command
// line gives either a Parsed or a ParseError.
func Parse(body string) (cmds []Parsed, errs []*ParseError) {
	if len(body) > MaxCommentBytes {
		return nil, []*ParseError{{
			Reason: fmt.Sprintf("this comment is too long to read commands from (%d bytes; the limit is %d)", len(body), MaxCommentBytes),
			Usage:  allUsages(),
		}}
	}
	doc := scan(body)
	for i, l := range doc.commands {
		if i == MaxCommands {
			errs = append(errs, &ParseError{
				Line:   l.line,
				Raw:    shorten(l.raw, maxRawShown),
				Reason: fmt.Sprintf("only the first %d commands of a comment are read; this one and the %d after it were not", MaxCommands, len(doc.commands)-i-1),
				Usage:  usageOf(commandName(l.text)),
			})
			break
		}
		p, err := parseLine(l, doc.paragraphs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cmds = append(cmds, p)
	}
	return cmds, errs
}

// reason is an error from reading a command, with what was probably meant.
type reason struct {
	text        string
	suggestions []string
	usage       string // when not the command's own usage
}

func (r *reason) Error() string { return r.text }

func reasonf(suggestions []string, format string, args ...any) *reason {
	return &reason{text: fmt.Sprintf(format, args...), suggestions: suggestions}
}

func parseLine(l commandLine, paragraphs []Paragraph) (Parsed, *ParseError) {
	fail := func(usage string, err error) (Parsed, *ParseError) {
		pe := &ParseError{Line: l.line, Raw: shorten(l.raw, maxRawShown), Reason: err.Error(), Usage: usage}
		if r, ok := err.(*reason); ok {
			pe.Suggestions = r.suggestions
			if r.usage != "" {
				pe.Usage = r.usage
			}
		}
		return Parsed{}, pe
	}
	name := commandName(l.text)
	if len(l.raw) > MaxLineBytes {
		return fail(usageOf(name), reasonf(nil, "this command line is too long (%d bytes; the limit is %d)", len(l.raw), MaxLineBytes))
	}
	if err := checkCharacters(l.text); err != nil {
		return fail(usageOf(name), err)
	}
	c, ok := Lookup(name)
	if !ok {
		return fail(usageOf(name), unknownCommand(name))
	}
	words, err := splitWords(l.text[1+len(name):])
	if err != nil {
		return fail(c.Usage, err)
	}
	inv, err := readFlags(c, words)
	if err != nil {
		return fail(c.Usage, err)
	}
	inv.Paragraphs = paragraphs
	v, err := c.Parse(inv)
	if err != nil {
		return fail(c.Usage, err)
	}
	return Parsed{Line: l.line, Raw: l.raw, Name: c.Name, Command: v}, nil
}

func unknownCommand(name string) *reason {
	names := make([]string, len(All))
	for i, c := range All {
		names[i] = c.Name
	}
	var slashed []string
	for _, s := range Suggest(name, names) {
		slashed = append(slashed, "/"+s)
	}
	r := reasonf(slashed, "unknown command %s", code("/"+name))
	if len(slashed) == 1 {
		r.usage = usageOf(slashed[0])
	}
	return r
}

// commandName is the name of the command on a command line: the word after
// the slash.
func commandName(text string) string {
	end := 1
	for end < len(text) && isNameByte(text[end]) {
		end++
	}
	return text[1:end]
}
