package exec

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const definition = `from ehrql import create_dataset
dataset = create_dataset()
dataset.define_population(patients.exists_for_patient())
dataset.sex = patients.sex
dataset.age = patients.age_on("2024-01-01")
dataset.has_asthma = clinical_events.exists_for_patient()
dataset.first_visit_date = visits.first_for_patient().date
if dataset.age == 3: pass
`

func workspace(t *testing.T, files map[string]string) (string, *os.Root) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

func builtinOK(t *testing.T, ws *os.Root, name string, args ...string) string {
	t.Helper()
	var out, errs bytes.Buffer
	if code := runBuiltin(ws, name, args, &out, &errs); code != 0 {
		t.Fatalf("builtin:%s %q: exit %d: %s", name, args, code, errs.String())
	}
	return out.String()
}

func TestBuiltinEhrqlWritesADeterministicDummyDataset(t *testing.T) {
	t.Parallel()
	dir, ws := workspace(t, map[string]string{"analysis/dataset_definition.py": definition})
	builtinOK(t, ws, "ehrql", "generate-dataset", "analysis/dataset_definition.py", "--output", "output/dataset.csv")
	builtinOK(t, ws, "ehrql", "generate-dataset", "analysis/dataset_definition.py", "--output=output/dataset.csv.gz", "--", "--region", "x")
	first := readLog(t, filepath.Join(dir, "output/dataset.csv"))
	lines := strings.Split(strings.TrimSuffix(first, "\n"), "\n")
	if lines[0] != "patient_id,sex,age,has_asthma,first_visit_date" {
		t.Errorf("header = %q", lines[0])
	}
	if len(lines) != 1+defaultPopulation {
		t.Errorf("%d rows, want %d", len(lines)-1, defaultPopulation)
	}
	if !strings.HasPrefix(lines[1], "1,") {
		t.Errorf("first row = %q", lines[1])
	}
	builtinOK(t, ws, "ehrql", "generate-dataset", "analysis/dataset_definition.py", "--output", "output/dataset.csv")
	if again := readLog(t, filepath.Join(dir, "output/dataset.csv")); again != first {
		t.Error("the same definition gave a different dataset")
	}
	gz, err := os.Open(filepath.Join(dir, "output/dataset.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, _ := io.ReadAll(zr); string(unzipped) != first {
		t.Error(".csv.gz does not hold the same dataset as .csv")
	}
	if out := builtinOK(t, ws, "ehrql", "generate-dataset", "analysis/dataset_definition.py", "--population-size", "2"); strings.Count(out, "\n") != 3 {
		t.Errorf("to stdout with 2 patients: %q", out)
	}
}

func TestBuiltinCSVSummaryRoundsCounts(t *testing.T) {
	t.Parallel()
	dir, ws := workspace(t, map[string]string{
		"in.csv": "patient_id,a,b\n1,x,\n2,x,\n3,x,y\n4,x,\n5,x,\n6,x,y\n7,x,y\n8,,y\n",
	})
	builtinOK(t, ws, "csv-summary", "in.csv", "out/summary.csv")
	want := "column,non_empty\npatient_id,10\na,5\nb,5\n"
	if got := readLog(t, filepath.Join(dir, "out/summary.csv")); got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestBuiltinsStayInTheWorkspace(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, ws := workspace(t, map[string]string{"in.txt": "hello\n"})
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		name string
		args []string
		want string
	}{
		"copy from a parent":       {"copy", []string{"../secret.txt", "x"}, "../secret.txt is outside the workspace"},
		"copy from an absolute":    {"copy", []string{filepath.Join(outside, "secret.txt"), "x"}, "is outside the workspace (use a path relative to it)"},
		"copy through a symlink":   {"copy", []string{"escape/secret.txt", "x"}, "escapes"},
		"copy to a parent":         {"copy", []string{"in.txt", "a/../../x"}, "is outside the workspace"},
		"write through a symlink":  {"write", []string{"escape/new.txt", "hi"}, "escapes"},
		"ehrql output outside":     {"ehrql", []string{"generate-dataset", "in.txt", "--output", "/tmp/x.csv"}, "outside the workspace"},
		"summary of a directory":   {"csv-summary", []string{".", "x.csv"}, "is not a regular file"},
		"ehrql with unknown flags": {"ehrql", []string{"generate-dataset", "in.txt", "--dummy-tables", "x"}, "unknown option --dummy-tables"},
		"ehrql other commands":     {"ehrql", []string{"assure", "in.txt"}, "only generate-dataset is built in"},
		"ehrql arrow output":       {"ehrql", []string{"generate-dataset", "in.txt", "--output", "x.arrow"}, "writes only .csv and .csv.gz"},
		"fail without a number":    {"fail", []string{"abc"}, `exit code "abc" is not a number from 0 to 255`},
		"no such builtin":          {"python", nil, `unknown built-in "python"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errs bytes.Buffer
			code := runBuiltin(ws, tc.name, tc.args, &out, &errs)
			if code == 0 || !strings.Contains(errs.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want failure mentioning %q", code, errs.String(), tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(outside, "new.txt")); err == nil {
		t.Error("write created a file outside the workspace")
	}
}

func TestBuiltinExitCodes(t *testing.T) {
	t.Parallel()
	dir, ws := workspace(t, map[string]string{"in.txt": "hello\n"})
	var out, errs bytes.Buffer
	if code := runBuiltin(ws, "fail", []string{"3"}, &out, &errs); code != 3 {
		t.Errorf("fail 3: exit %d", code)
	}
	builtinOK(t, ws, "sleep", "0")
	builtinOK(t, ws, "write", "notes/a.txt", "some text")
	builtinOK(t, ws, "copy", "notes/a.txt", "copies/b.txt")
	if got := readLog(t, filepath.Join(dir, "copies/b.txt")); got != "some text\n" {
		t.Errorf("copied %q", got)
	}
}

// Built-ins run as a job's process with the workspace as working directory.
func TestLocalRunsBuiltinsInTheWorkspace(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	l := newTestLocal(t)
	dir, _ := workspace(t, map[string]string{"analysis/dataset_definition.py": definition})
	steps := []Spec{
		{JobID: "generate", Image: "ehrql:v1", Args: []string{"generate-dataset", "analysis/dataset_definition.py", "--output", "output/dataset.csv.gz"}},
		{JobID: "summarise", Image: "summary:v1", Args: []string{"output/dataset.csv.gz", "output/summary.csv"}},
	}
	for _, s := range steps {
		s.Workdir = dir
		if err := l.Start(ctx, s); err != nil {
			t.Fatal(err)
		}
		if st, err := l.Wait(ctx, s.JobID); err != nil || st != (Status{State: StateExited}) {
			t.Fatalf("%s: %+v, %v\n%s", s.JobID, st, err, readLog(t, filepath.Join(l.dir(s.JobID), jobLogFile)))
		}
	}
	want := "column,non_empty\npatient_id,100\nsex,100\nage,100\nhas_asthma,100\nfirst_visit_date,100\n"
	if got := readLog(t, filepath.Join(dir, "output/summary.csv")); got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}
