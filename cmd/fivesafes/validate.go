package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/fivesafes/fivesafes/checks"
)

const validateUsage = `Usage: fivesafes validate [--json] [PATH]

Check a project.yaml the way the fivesafes bot will: OpenSAFELY's own rules
(its first error first, in its words), then every further problem it would
only report after that one is fixed, then warnings about what it accepts but
cannot run. PATH defaults to ./project.yaml.

Each problem is printed as PATH:LINE:COL: message.

Exit status: 0 valid (warnings are printed), 1 invalid, 2 usage or I/O error.

Flags:
  --json   print one JSON object: {"valid", "errors", "warnings", "actions"}
`

// runValidate is `fivesafes validate`.
func runValidate(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("validate", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	asJSON := flags.Bool("json", false, "print one JSON object")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, validateUsage)
			return 0
		}
		fmt.Fprintf(stderr, "fivesafes validate: %v\n\n%s", err, validateUsage)
		return 2
	}
	if flags.NArg() > 1 {
		fmt.Fprintf(stderr, "fivesafes validate: give one project.yaml at a time (got %d paths)\n\n%s", flags.NArg(), validateUsage)
		return 2
	}
	path := "project.yaml"
	if flags.NArg() == 1 {
		path = flags.Arg(0)
	}

	src, problem, err := readPipeline(path)
	if err != nil {
		fmt.Fprintf(stderr, "fivesafes validate: %v\n", err)
		return 2
	}
	r := checks.Result{Problems: []checks.Problem{problem}}
	if problem.Message == "" {
		r = checks.Validate(src)
	}
	if *asJSON {
		writeJSONResult(stdout, r)
	} else {
		writeLines(stdout, path, r)
	}
	if !r.Valid {
		return 1
	}
	return 0
}

// readPipeline reads the file, refusing (as a problem, not an error) one
// larger than the bot would read.
func readPipeline(path string) ([]byte, checks.Problem, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, checks.Problem{}, fmt.Errorf("%s does not exist; run this in the study's directory or give the path to its project.yaml", path)
	}
	if err != nil {
		return nil, checks.Problem{}, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return nil, checks.Problem{}, fmt.Errorf("%s is a directory; give the path to its project.yaml", path)
	}
	src, err := io.ReadAll(io.LimitReader(f, checks.MaxFileBytes+1))
	if err != nil {
		return nil, checks.Problem{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(src) > checks.MaxFileBytes {
		return nil, checks.Problem{
			Message:  fmt.Sprintf("the file is larger than %d MiB, more than the bot reads; a project.yaml is normally a few kilobytes", checks.MaxFileBytes>>20),
			Severity: checks.SeverityError,
			Rule:     "file.too_large",
		}, nil
	}
	return src, checks.Problem{}, nil
}

func writeLines(w io.Writer, path string, r checks.Result) {
	for _, p := range r.Problems {
		where := path
		if p.Line > 0 {
			where += fmt.Sprintf(":%d", p.Line)
			if p.Column > 0 {
				where += fmt.Sprintf(":%d", p.Column)
			}
		}
		kind := ""
		if p.Severity == checks.SeverityWarning {
			kind = "warning: "
		}
		fmt.Fprintf(w, "%s: %s%s\n", where, kind, p.Message)
	}
	if r.Valid && r.Pipeline != nil {
		n := len(r.Pipeline.Actions)
		plural := "s"
		if n == 1 {
			plural = ""
		}
		fmt.Fprintf(w, "%s: valid, %d action%s\n", path, n, plural)
	}
}

type jsonProblem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
	Rule    string `json:"rule,omitempty"`
}

type jsonAction struct {
	Name    string      `json:"name"`
	Run     string      `json:"run"`
	Needs   []string    `json:"needs"`
	Outputs jsonOutputs `json:"outputs"`
}

// jsonOutputs is level -> name -> path, in the reference's level order and
// the file's output order.
type jsonOutputs []checks.OutputGroup

func (o jsonOutputs) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, g := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		level, _ := json.Marshal(string(g.Level))
		b.Write(level)
		b.WriteString(":{")
		for j, out := range g.Outputs {
			if j > 0 {
				b.WriteByte(',')
			}
			name, _ := json.Marshal(out.Name)
			path, _ := json.Marshal(out.Path)
			b.Write(name)
			b.WriteByte(':')
			b.Write(path)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSONResult(w io.Writer, r checks.Result) {
	out := struct {
		Valid    bool          `json:"valid"`
		Errors   []jsonProblem `json:"errors"`
		Warnings []jsonProblem `json:"warnings"`
		Actions  []jsonAction  `json:"actions"`
	}{Valid: r.Valid, Errors: []jsonProblem{}, Warnings: []jsonProblem{}, Actions: []jsonAction{}}
	for _, p := range r.Problems {
		jp := jsonProblem{Line: p.Line, Column: p.Column, Message: p.Message, Rule: p.Rule}
		if p.Severity == checks.SeverityWarning {
			out.Warnings = append(out.Warnings, jp)
		} else {
			out.Errors = append(out.Errors, jp)
		}
	}
	if r.Pipeline != nil {
		for _, a := range r.Pipeline.Actions {
			needs := a.Needs
			if needs == nil {
				needs = []string{}
			}
			out.Actions = append(out.Actions, jsonAction{Name: a.Name, Run: a.Run, Needs: needs, Outputs: jsonOutputs(a.Outputs)})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}
