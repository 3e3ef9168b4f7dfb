package checks

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// corpusDir holds 213 real project.yaml files with the reference library's
// verdicts (a copy of shared/corpus/project-yaml/real).
const corpusDir = "testdata/corpus"

type expectedFile struct {
	Valid      bool             `json:"valid"`
	Error      string           `json:"error"`
	ErrorKind  string           `json:"error_kind"`
	Rule       string           `json:"rule"`
	InnerError string           `json:"inner_error"`
	Warnings   []string         `json:"warnings"`
	Version    float64          `json:"version"`
	Actions    []expectedAction `json:"actions"`
}

type expectedAction struct {
	Name             string          `json:"name"`
	Run              string          `json:"run"`
	RunParts         []string        `json:"run_parts"`
	Needs            []string        `json:"needs"`
	Outputs          orderedOutputs  `json:"outputs"`
	Config           json.RawMessage `json:"config"`
	DummyDataFile    *string         `json:"dummy_data_file"`
	IsDatabaseAction bool            `json:"is_database_action"`
}

// orderedOutputs keeps the order of levels and names: level -> [name, path].
type orderedOutputs []struct {
	Level   string
	Entries [][2]string
}

func (o *orderedOutputs) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		level, err := dec.Token()
		if err != nil {
			return err
		}
		var group struct {
			Level   string
			Entries [][2]string
		}
		group.Level = level.(string)
		if _, err := dec.Token(); err != nil { // {
			return err
		}
		for dec.More() {
			name, _ := dec.Token()
			var path string
			if err := dec.Decode(&path); err != nil {
				return err
			}
			group.Entries = append(group.Entries, [2]string{name.(string), path})
		}
		if _, err := dec.Token(); err != nil { // }
			return err
		}
		*o = append(*o, group)
	}
	return nil
}

func loadExpected(t testing.TB) map[string]expectedFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(corpusDir, "EXPECTED.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Files map[string]expectedFile `json:"files"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	return exp.Files
}

// yamlErrorLines are the corpus YAML errors whose line we knowingly report
// differently from ruamel, with the reason.
var yamlErrorLines = map[string]int{
	// "<<<<<<< HEAD" on line 141: ruamel notices the missing ':' on the next
	// line (142); we point at the merge-conflict marker itself.
	"opensafely__pifu-data-exploration__92bc73f.yaml": 141,
}

var lineMark = regexp.MustCompile(`line (\d+), column \d+`)

// TestCorpus checks every real file against the reference's verdict, first
// message, warnings and (for valid files) the pipeline model.
func TestCorpus(t *testing.T) {
	expected := loadExpected(t)
	names := make([]string, 0, len(expected))
	for name := range expected {
		names = append(names, name)
	}
	sort.Strings(names)

	var verdicts, messages, messageTotal, yamlLines, yamlTotal, rules, ruleTotal, models, modelTotal, warnings int
	for _, name := range names {
		exp := expected[name]
		src, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		r := Validate(src)
		if r.Valid != exp.Valid {
			t.Errorf("%s: valid = %v, reference says %v (%s)", name, r.Valid, exp.Valid, exp.Error)
			continue
		}
		verdicts++
		// The reference stops at its first error, so an invalid file may have
		// warnings it never reached: ours must include its, not equal them.
		if got, want := referenceWarnings(r), exp.Warnings; !sameWarnings(got, want, exp.Valid) {
			t.Errorf("%s: warnings\n got %q\nwant %q", name, got, want)
		} else {
			warnings++
		}
		if exp.Valid {
			modelTotal++
			if d := diffModel(r.Pipeline, exp); d != "" {
				t.Errorf("%s: %s", name, d)
			} else {
				models++
			}
			continue
		}
		first := r.Errors()[0]
		ruleTotal++
		if first.Rule == exp.Rule {
			rules++
		} else {
			t.Errorf("%s: rule %q, reference %q", name, first.Rule, exp.Rule)
		}
		switch exp.ErrorKind {
		case "validation":
			messageTotal++
			if sameMessage(first.Message, exp.InnerError) {
				messages++
			} else {
				t.Errorf("%s: first message\n got %q\nwant %q", name, first.Message, exp.InnerError)
			}
		case "yaml":
			yamlTotal++
			marks := lineMark.FindAllStringSubmatch(exp.Error, -1)
			want, _ := strconv.Atoi(marks[len(marks)-1][1])
			if l, ok := yamlErrorLines[name]; ok {
				want = l
			}
			if first.Line == want {
				yamlLines++
			} else {
				t.Errorf("%s: YAML error at line %d, want %d (%s)", name, first.Line, want, first.Message)
			}
		}
		if first.Line < 0 || first.Column < 0 {
			t.Errorf("%s: bad position %d:%d", name, first.Line, first.Column)
		}
	}
	t.Logf("corpus: verdict %d/%d, first message %d/%d, YAML error line %d/%d (%d by a documented deviation), rule %d/%d, reference warnings %d/%d, valid-file model %d/%d",
		verdicts, len(names), messages, messageTotal, yamlLines, yamlTotal, len(yamlErrorLines), rules, ruleTotal, warnings, verdicts, models, modelTotal)
}

// sameMessage compares messages exactly, except that generate_cohort's
// directory list is in Python set order in the reference.
func sameMessage(got, want string) bool {
	const cohortDirs = "generate_cohort command should produce output in only one directory"
	if !strings.HasPrefix(want, cohortDirs) {
		return got == want
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(g) != len(w) || g[0] != w[0] {
		return false
	}
	sort.Strings(g[1:])
	sort.Strings(w[1:])
	return reflect.DeepEqual(g, w)
}

// referenceWarnings are our warnings that the reference also gives, in its
// wording ("ProjectWarning: ...").
func referenceWarnings(r Result) []string {
	out := []string{}
	for _, w := range r.Warnings() {
		if w.Rule == ruleOldVersion || w.Rule == ruleRunAll {
			out = append(out, "ProjectWarning: "+w.Message)
		}
	}
	return out
}

func sameWarnings(got, want []string, exact bool) bool {
	if exact {
		return strings.Join(got, "\n") == strings.Join(want, "\n")
	}
	for _, w := range want {
		if !contains(got, w) {
			return false
		}
	}
	return true
}

func diffModel(p *Pipeline, exp expectedFile) string {
	if p == nil {
		return "valid but no pipeline"
	}
	if p.Version != exp.Version {
		return "version " + strconv.FormatFloat(p.Version, 'g', -1, 64)
	}
	if len(p.Actions) != len(exp.Actions) {
		return "actions: got " + strconv.Itoa(len(p.Actions)) + ", want " + strconv.Itoa(len(exp.Actions))
	}
	for i, a := range p.Actions {
		e := exp.Actions[i]
		got := []any{a.Name, a.Run, a.RunParts, a.Needs, a.IsDatabaseAction, a.DummyDataFile}
		dummy := ""
		if e.DummyDataFile != nil {
			dummy = *e.DummyDataFile
		}
		want := []any{e.Name, e.Run, e.RunParts, e.Needs, e.IsDatabaseAction, dummy}
		if len(e.Needs) == 0 {
			want[3] = []string(nil)
		}
		if !reflect.DeepEqual(got, want) {
			return "action " + a.Name + ": got " + jsonText(got) + ", want " + jsonText(want)
		}
		var outs orderedOutputs
		for _, g := range a.Outputs {
			group := struct {
				Level   string
				Entries [][2]string
			}{Level: string(g.Level)}
			for _, o := range g.Outputs {
				group.Entries = append(group.Entries, [2]string{o.Name, o.Path})
			}
			outs = append(outs, group)
		}
		if !reflect.DeepEqual(outs, e.Outputs) {
			return "action " + a.Name + " outputs: got " + jsonText(outs) + ", want " + jsonText(e.Outputs)
		}
		if !sameJSON(a.Config, e.Config) {
			return "action " + a.Name + " config: got " + string(a.Config) + ", want " + string(e.Config)
		}
	}
	return ""
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if len(a) == 0 {
		a = json.RawMessage("null")
	}
	if err := json.Unmarshal(a, &x); err != nil {
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
