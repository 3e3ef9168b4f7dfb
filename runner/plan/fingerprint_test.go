package plan

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"testing"

	"github.com/fivesafes/fivesafes/checks"
)

func TestFingerprintsChange(t *testing.T) {
	base, files := chain(), tree()
	withConfig := func(config string) *checks.Pipeline {
		p := chain()
		p.Actions[1].Config = json.RawMessage(config)
		return p
	}
	cases := map[string]struct {
		p       *checks.Pipeline
		files   map[string]string
		changed []string // actions whose fingerprint differs from base's
	}{
		"nothing changed": {
			p: chain(), files: tree(),
		},
		"a named analysis file's blob, and everything downstream": {
			p: chain(), files: with(files, "analysis/dataset_definition.py", "blob-dd-2"),
			changed: []string{"generate_dataset", "prepare", "model"},
		},
		"the last action's file: only that action": {
			p: chain(), files: with(files, "analysis/model.R", "blob-model-2"),
			changed: []string{"model"},
		},
		"a file no argument names: nothing": {
			p: chain(), files: with(files, "README.md", "blob-readme-2", "analysis/new.py", "blob-new"),
		},
		"a file appearing where an argument pointed at nothing": {
			p: chain(), files: with(files, "output/dataset.csv.gz", "blob-committed"),
			changed: []string{"generate_dataset", "prepare", "model"},
		},
		"config, and downstream": {
			p: withConfig(`{"n":1}`), files: files,
			changed: []string{"prepare", "model"},
		},
		"an output pattern": {
			p: func() *checks.Pipeline {
				p := chain()
				p.Actions[2].Outputs[0].Outputs[0].Path = "output/model/*.csv"
				return p
			}(), files: files,
			changed: []string{"model"},
		},
		"an output's privacy level": {
			p: func() *checks.Pipeline {
				p := chain()
				p.Actions[2].Outputs[0].Level = checks.ModeratelySensitive
				return p
			}(), files: files,
			changed: []string{"model"},
		},
		"the run line": {
			p: func() *checks.Pipeline {
				p := chain()
				p.Actions[0].RunParts = append(p.Actions[0].RunParts, "--dummy-tables", "dummy")
				return p
			}(), files: files,
			changed: []string{"generate_dataset", "prepare", "model"},
		},
		"the run line's layout, same argv: nothing": {
			p: func() *checks.Pipeline {
				p := chain()
				p.Actions[2].Run = "r:v2   analysis/model.R\n"
				return p
			}(), files: files,
		},
		"a dependency added": {
			p: func() *checks.Pipeline {
				p := chain()
				p.Actions[2].Needs = []string{"prepare", "generate_dataset"}
				return p
			}(), files: files,
			changed: []string{"model"},
		},
		"a repeated need: nothing": {
			p: func() *checks.Pipeline {
				p := chain()
				p.Actions[2].Needs = []string{"prepare", "prepare"}
				return p
			}(), files: files,
		},
	}
	before, err := Fingerprints(base, files)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			after, err := Fingerprints(tc.p, tc.files)
			if err != nil {
				t.Fatal(err)
			}
			var changed []string
			for _, a := range tc.p.Actions {
				if after[a.Name].Sum != before[a.Name].Sum {
					changed = append(changed, a.Name)
				}
			}
			if !slices.Equal(changed, tc.changed) {
				t.Errorf("changed %q, want %q", changed, tc.changed)
			}
		})
	}
}

func TestFingerprintInputs(t *testing.T) {
	files := map[string]string{
		"analysis/a.py":        "A",
		"analysis/b.csv":       "B",
		"analysis/c.json":      "C",
		"dummy/data.csv":       "D",
		"codelists/x.csv":      "X",
		"analysis/flag=odd.py": "F",
	}
	cases := map[string]struct {
		run   string
		dummy string
		want  map[string]string
	}{
		"a plain argument":                        {run: "python:v2 analysis/a.py", want: map[string]string{"analysis/a.py": "A"}},
		"the value of --flag=value":               {run: "python:v2 analysis/a.py --codelist=codelists/x.csv", want: map[string]string{"analysis/a.py": "A", "codelists/x.csv": "X"}},
		"the value after --output":                {run: "ehrql:v1 generate-dataset analysis/a.py --output analysis/b.csv", want: map[string]string{"analysis/a.py": "A", "analysis/b.csv": "B"}},
		"--dummy-data-file=FILE":                  {run: "ehrql:v1 generate-dataset analysis/a.py --dummy-data-file=dummy/data.csv", want: map[string]string{"analysis/a.py": "A", "dummy/data.csv": "D"}},
		"a ./ path is the same file":              {run: "python:v2 ./analysis/a.py", want: map[string]string{"analysis/a.py": "A"}},
		"no path outside the tree":                {run: "python:v2 ../analysis/a.py /analysis/a.py analysis/../../a.py"},
		"the image is not an input":               {run: "analysis/a.py analysis/missing.py"},
		"a path that is not in the tree":          {run: "python:v2 output/x.csv analysis"},
		"dummy_data_file":                         {run: "cohortextractor:latest generate_cohort", dummy: "dummy/data.csv", want: map[string]string{"dummy/data.csv": "D"}},
		"an argument that is a whole path with =": {run: "python:v2 analysis/flag=odd.py", want: map[string]string{"analysis/flag=odd.py": "F"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := act("a", tc.run)
			a.DummyDataFile = tc.dummy
			got, err := Fingerprints(pipeline(a), files)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got["a"].Inputs, tc.want) {
				t.Errorf("inputs %v, want %v", got["a"].Inputs, tc.want)
			}
		})
	}
}

func TestFingerprintDummyDataBlob(t *testing.T) {
	a := act("a", "cohortextractor:latest generate_cohort")
	a.DummyDataFile = "dummy/data.csv"
	p := pipeline(a, act("b", "python:v2 b.py", "a"))
	before, _ := Fingerprints(p, map[string]string{"dummy/data.csv": "1"})
	after, _ := Fingerprints(p, map[string]string{"dummy/data.csv": "2"})
	if before["a"].Sum == after["a"].Sum || before["b"].Sum == after["b"].Sum {
		t.Error("changing the dummy data file changed no fingerprint")
	}
}

func TestFingerprintShape(t *testing.T) {
	got, err := Fingerprints(chain(), tree())
	if err != nil {
		t.Fatal(err)
	}
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for name, f := range got {
		if !hex64.MatchString(f.Sum) || !hex64.MatchString(f.Definition) {
			t.Errorf("%s: sum %q, definition %q: want hex SHA-256", name, f.Sum, f.Definition)
		}
	}
	if want := map[string]string{"generate_dataset": got["generate_dataset"].Sum}; !maps.Equal(got["prepare"].Needs, want) {
		t.Errorf("prepare needs %v, want %v", got["prepare"].Needs, want)
	}
	again, _ := Fingerprints(chain(), tree())
	for name := range got {
		if got[name].Sum != again[name].Sum {
			t.Errorf("%s: fingerprint not deterministic", name)
		}
	}
}

// TestFingerprintEncodingIsPinned guards the records of past jobs: if this
// value has to change, change the tags in fingerprint.go too, so that old
// records read as changed rather than colliding.
func TestFingerprintEncodingIsPinned(t *testing.T) {
	a := act("a", "python:v2 analysis/a.py --n=1")
	a.Config = json.RawMessage(`{"x":[1,2]}`)
	got, err := Fingerprints(pipeline(a, act("b", "r:v2 b.R", "a")), map[string]string{"analysis/a.py": "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "9db0d5d8bd0e0c2bf2088292bbee7b451c8ac339ca15fab6e65482b5ac4bae31"
	if got["b"].Sum != want {
		t.Errorf("fingerprint of b is %s, was %s", got["b"].Sum, want)
	}
}

func TestFingerprintsRefuseCycles(t *testing.T) {
	_, err := Fingerprints(pipeline(act("a", "python:v2 a.py", "b"), act("b", "python:v2 b.py", "a")), nil)
	if c, ok := err.(*CycleError); !ok || !slices.Equal(c.Cycle, []string{"a", "b", "a"}) {
		t.Errorf("error %v, want the cycle a -> b -> a", err)
	}
}

func TestChanges(t *testing.T) {
	base := Fingerprint{Definition: "d1", Inputs: map[string]string{"a.py": "1", "b.py": "1"}, Needs: map[string]string{"x": "s1"}}
	cases := map[string]struct {
		now  Fingerprint
		want string
	}{
		"a file's blob": {
			now:  Fingerprint{Definition: "d1", Inputs: map[string]string{"a.py": "2", "b.py": "1"}, Needs: base.Needs},
			want: "its inputs changed: a.py",
		},
		"files named, gone and new, in path order": {
			now:  Fingerprint{Definition: "d1", Inputs: map[string]string{"a.py": "2", "c.py": "1"}, Needs: base.Needs},
			want: "its inputs changed: a.py, b.py (removed), c.py (new)",
		},
		"the definition": {
			now:  Fingerprint{Definition: "d2", Inputs: base.Inputs, Needs: base.Needs},
			want: "its run line, outputs or config changed",
		},
		"a dependency": {
			now:  Fingerprint{Definition: "d1", Inputs: base.Inputs, Needs: map[string]string{"x": "s2", "y": "s"}},
			want: "a dependency changed: x, y (new)",
		},
		"everything": {
			now:  Fingerprint{Definition: "d2", Inputs: map[string]string{"a.py": "1"}, Needs: map[string]string{}},
			want: "its inputs changed: b.py (removed); its run line, outputs or config changed; a dependency changed: x (removed)",
		},
		"nothing recorded differs": {
			now:  base,
			want: "its fingerprint changed",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := changes(base, tc.now); got != tc.want {
				t.Errorf("changes\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
