package exec

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A builtin is a stand-in for an image's program, written in Go so that the
// sandbox and the tests need nothing but this binary. It runs as the job's
// process (this binary again, via SupervisorMain) with the workspace as its
// working directory, and touches nothing outside the workspace.
type builtin struct {
	usage string
	run   func(ws *os.Root, args []string, stdout io.Writer) error
}

var builtins = map[string]builtin{
	"ehrql":       {"generate-dataset DEFINITION [--output PATH] [--population-size N] [-- PARAMS...]", runEhrql},
	"copy":        {"SRC DST", runCopy},
	"csv-summary": {"IN OUT", runCSVSummary},
	"fail":        {"CODE", runFail},
	"sleep":       {"SECONDS", runSleep},
	"write":       {"PATH TEXT", runWrite},
}

func builtinNames() string {
	names := sortedKeys(builtins)
	for i, n := range names {
		names[i] = builtinPrefix + n
	}
	return strings.Join(names, ", ")
}

// exitCodeError ends a built-in with a chosen exit code and no complaint.
type exitCodeError int

func (e exitCodeError) Error() string { return "exit code " + strconv.Itoa(int(e)) }

// usageError is a mistake in the run line.
type usageError string

func (e usageError) Error() string { return string(e) }

// runBuiltinProcess is a job's process running a built-in in the current
// directory.
func runBuiltinProcess(name string, args []string) int {
	ws, err := os.OpenRoot(".")
	if err != nil {
		fmt.Fprintf(os.Stderr, "builtin:%s: open workspace: %v\n", name, err)
		return 1
	}
	defer ws.Close()
	return runBuiltin(ws, name, args, os.Stdout, os.Stderr)
}

func runBuiltin(ws *os.Root, name string, args []string, stdout, stderr io.Writer) int {
	b, ok := builtins[name]
	if !ok {
		fmt.Fprintf(stderr, "unknown built-in %q (built-ins: %s)\n", name, builtinNames())
		return 2
	}
	err := b.run(ws, args, stdout)
	var code exitCodeError
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "builtin:%s: %v\nusage: builtin:%s %s\n", name, err, name, b.usage)
		return 2
	default:
		fmt.Fprintf(stderr, "builtin:%s: %v\n", name, err)
		return 1
	}
}

// inWorkspace refuses a path that is absolute or climbs out of the
// workspace; os.Root refuses symlinks that lead out of it.
func inWorkspace(p string) (string, error) {
	if p == "" {
		return "", usageError("empty path")
	}
	if filepath.IsAbs(p) {
		return "", fmt.Errorf("%s is outside the workspace (use a path relative to it)", p)
	}
	c := filepath.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%s is outside the workspace", p)
	}
	return c, nil
}

func openIn(ws *os.Root, p string) (*os.File, error) {
	c, err := inWorkspace(p)
	if err != nil {
		return nil, err
	}
	f, err := ws.Open(c)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	return f, nil
}

// createIn writes a file in the workspace, making its directory.
func createIn(ws *os.Root, p string, write func(io.Writer) error) error {
	c, err := inWorkspace(p)
	if err != nil {
		return err
	}
	if err := ws.MkdirAll(filepath.Dir(c), 0o755); err != nil {
		return err
	}
	f, err := ws.OpenFile(c, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runCopy(ws *os.Root, args []string, _ io.Writer) error {
	if len(args) != 2 {
		return usageError("want SRC and DST")
	}
	src, err := openIn(ws, args[0])
	if err != nil {
		return err
	}
	defer src.Close()
	return createIn(ws, args[1], func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	})
}

func runWrite(ws *os.Root, args []string, _ io.Writer) error {
	if len(args) != 2 {
		return usageError("want PATH and TEXT")
	}
	return createIn(ws, args[0], func(w io.Writer) error {
		_, err := io.WriteString(w, args[1]+"\n")
		return err
	})
}

func runFail(_ *os.Root, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError("want CODE")
	}
	code, err := strconv.Atoi(args[0])
	if err != nil || code < 0 || code > 255 {
		return usageError(fmt.Sprintf("exit code %q is not a number from 0 to 255", args[0]))
	}
	fmt.Fprintf(stdout, "failing with exit code %d, as asked\n", code)
	return exitCodeError(code)
}

func runSleep(_ *os.Root, args []string, _ io.Writer) error {
	if len(args) != 1 {
		return usageError("want SECONDS")
	}
	s, err := strconv.ParseFloat(args[0], 64)
	if err != nil || s < 0 || s > 7*24*3600 {
		return usageError(fmt.Sprintf("%q is not a number of seconds", args[0]))
	}
	time.Sleep(time.Duration(s * float64(time.Second))) // the job's work is to wait
	return nil
}

// runCSVSummary writes, for each column of a CSV (or .csv.gz), how many rows
// have a value, rounded to a multiple of 5 as output checkers expect.
func runCSVSummary(ws *os.Root, args []string, _ io.Writer) error {
	if len(args) != 2 {
		return usageError("want IN and OUT")
	}
	f, err := openIn(ws, args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(args[0], ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		defer gz.Close()
		r = gz
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: read header: %w", args[0], err)
	}
	header = slices.Clone(header)
	counts := make([]int, len(header))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		for i := range min(len(rec), len(counts)) {
			if strings.TrimSpace(rec[i]) != "" {
				counts[i]++
			}
		}
	}
	return createIn(ws, args[1], func(w io.Writer) error {
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"column", "non_empty"})
		for i, name := range header {
			_ = cw.Write([]string{name, strconv.Itoa(roundTo5(counts[i]))})
		}
		cw.Flush()
		return cw.Error()
	})
}

// roundTo5 rounds to the nearest multiple of 5.
func roundTo5(n int) int { return (n + 2) / 5 * 5 }
