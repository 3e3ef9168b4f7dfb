package checks

import (
	"strings"
	"testing"
)

func needs(name, list string) string {
	return "  " + name + ":\n    run: python:v2 " + name + ".py\n    needs: " + list + "\n    outputs:\n      highly_sensitive:\n        o: out/" + name + ".csv\n"
}

func TestNeeds(t *testing.T) {
	checkRuleCases(t, map[string]ruleCase{
		"known":                       {src: v5(needs("a", "[]") + needs("b", "[a]"))},
		"forward":                     {src: v5(needs("a", "[b]") + needs("b", "[]"))},
		"unknown":                     {src: v5(needs("a", "[]") + needs("b", "[a, zzz]")), want: "Action `b` references an unknown action in its `needs` list: zzz", rule: ruleNeedsUnknown, line: 11, col: 16},
		"block list":                  {src: v5("  a:\n    run: python:v2 a.py\n    needs:\n      - zzz\n    outputs: {highly_sensitive: {o: a.csv}}\n"), want: "Action `a` references an unknown action in its `needs` list: zzz", line: 6, col: 9},
		"space":                       {src: v5(needs("a", "[]") + needs("b", "[a c]")), want: "`needs` actions should be separated with commas, but b needs `a c`", rule: ruleNeedsSpace},
		"comma in entry":              {src: v5(needs("a", "[]") + needs("b", "['a,c']")), want: "Action `b` references an unknown action in its `needs` list: a,c"},
		"tab in entry":                {src: v5(needs("a", "[]") + needs("b", `["a\tc"]`)), want: "Action `b` references an unknown action in its `needs` list: a\tc"},
		"int entry":                   {src: v5(needs("a", "[2017]")), want: "`needs` entry 2017 of action a is a number, not an action name; quote it, and quote the action's name too if it looks like a number", rule: ruleTypeError},
		"null entry":                  {src: v5(needs("a", "[~]")), want: "action a has an empty `needs` entry (a stray comma or dash?); remove it", rule: ruleTypeError},
		"mapping entry":               {src: v5(needs("a", "[{b: c}]")), want: "a `needs` entry of action a is a mapping, not an action name", rule: ruleTypeError},
		"string int name":             {src: v5(needs("'2017'", "[]") + needs("b", "['2017']"))},
		"int name unknown":            {src: v5("  2017:\n    run: python:v2 a.py\n    outputs: {highly_sensitive: {o: a.csv}}\n" + needs("b", "['2017']")), want: "Action `b` references an unknown action in its `needs` list: 2017"},
		"run_all unknown":             {src: v5(needs("a", "[run_all]")), want: "Action `a` references an unknown action in its `needs` list: run_all"},
		"run_all defined v4":          {src: v("'4.0'", needs("run_all", "[]")+needs("b", "[run_all]"))},
		"space before cross checks":   {src: v5(needs("a", "[b c]") + needs("b", "[zzz]")), want: "`needs` actions should be separated with commas, but a needs `b c`"},
		"unknown before expectations": {src: v("'3.0'", needs("a", "[zzz]")), want: "Action `a` references an unknown action in its `needs` list: zzz"},
		"same run before unknown":     {src: v5(action("a", "python:v2 x.py", "out/a.csv") + "  b:\n    run: python:v2 x.py\n    needs: [zzz]\n    outputs: {highly_sensitive: {o: b.csv}}\n"), want: "Action b has the same 'run' command as other actions: a"},
	})
}

func TestNeedsWarnings(t *testing.T) {
	cases := map[string]struct {
		src  string
		want []string // rule: message
	}{
		"self": {v5(needs("a", "[a]")), []string{
			"needs.self: Action a needs itself; the reference accepts this, but it can never run: remove a from its `needs`"}},
		"cycle": {v5(needs("a", "[b]") + needs("b", "[a]")), []string{
			"needs.cycle: `needs` form a cycle: a -> b -> a; the reference accepts this, but these actions can never run: break the cycle"}},
		"long cycle": {v5(needs("a", "[c]") + needs("b", "[a]") + needs("c", "[b]") + needs("d", "[a, c]")), []string{
			"needs.cycle: `needs` form a cycle: a -> c -> b -> a; the reference accepts this, but these actions can never run: break the cycle"}},
		"repeated": {v5(needs("a", "[]") + needs("b", "[a, a]")), []string{
			"needs.repeated: Action b lists a more than once in its `needs`"}},
		"outside workspace": {highly("../x.csv"), []string{
			"path.outside_workspace: Output path ../x.csv points outside the action's workspace; the reference accepts it, but fivesafes never reads or writes files outside the workspace, so keep outputs inside it"}},
		"old version": {v("'3.5'", action("a", "python:v2 a.py", "out/a.csv")), []string{
			"project.old_version: Your project file is using an old version (3.5); consider updating to version 5"}},
		"nan version": {v("nan", action("a", "python:v2 a.py", "out/a.csv")), []string{
			"project.old_version: Your project file is using an old version (nan); consider updating to version 5"}},
		"run_all v4": {v("'4.0'", action("run_all", "python:v2 a.py", "out/a.csv")), []string{
			"project.old_version: Your project file is using an old version (4.0); consider updating to version 5",
			"action.run_all_reserved: `run_all` is a reserved action name; user-defined actions with this name are ignored and will raise an error in later versions."}},
		"none": {v5(needs("a", "[]") + needs("b", "[a]")), nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := Validate([]byte(tc.src))
			if !r.Valid {
				t.Fatalf("invalid: %+v", r.Errors())
			}
			var got []string
			for _, w := range r.Warnings() {
				got = append(got, w.Rule+": "+w.Message)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("warnings\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestExpectations(t *testing.T) {
	ok := action("a", "python:v2 a.py", "out/a.csv")
	v3 := func(exp string) string { return v("'3.0'", ok) + exp }
	checkRuleCases(t, map[string]ruleCase{
		"v3 present":           {src: v3("expectations:\n  population_size: 1000\n")},
		"v3 missing":           {src: v3(""), want: "Project must include `expectations` section", rule: ruleExpectationsMissing, line: 1, col: 10},
		"v3 null":              {src: v3("expectations:\n"), want: "Project must include `expectations` section"},
		"v3 float 3":           {src: v("3", ok), want: "Project must include `expectations` section"},
		"v3.5 no need":         {src: v("3.5", ok)},
		"v2 garbage ignored":   {src: v("2", ok) + "expectations: [1]\n"},
		"v3.5 garbage ignored": {src: v("3.5", ok) + "expectations: {population_size: abc}\n"},
		"v4 forbidden":         {src: v("'4.0'", ok) + "expectations: {}\n", want: "Project includes `expectations` section, which is not supported in this version. This section is only applicable to deprecated cohortextractor actions; you can safely remove it.", rule: ruleExpectationsNotAllowed},
		"v4 null ok":           {src: v("'4.0'", ok) + "expectations:\n"},
		"not a dict":           {src: v3("expectations: 1000\n"), want: "Project `expectations` section must be a dictionary of key/value pairs", rule: ruleExpectationsNotDict},
		"no population":        {src: v3("expectations: {size: 1}\n"), want: "Project `expectations` section must include `population_size` section", rule: ruleExpectationsNoSize},
		"unexpected":           {src: v3("expectations: {population_size: 1, x: 2}\n"), want: "Unexpected parameters (x) in project `expectations` section", rule: ruleExpectationsUnexpected},
		"non-string key":       {src: v3("expectations: {population_size: 1, 2: 2}\n"), want: "key 2 in `expectations` is a number, not text; keys there must be one of: population_size", rule: ruleTypeError},
		"size lots":            {src: v3("expectations: {population_size: lots}\n"), want: "Project expectations population size must be a number", rule: ruleExpectationsSizeNaN},
		"size 10.5 string":     {src: v3("expectations: {population_size: '10.5'}\n"), want: "Project expectations population size must be a number"},
		"size null":            {src: v3("expectations: {population_size: }\n"), want: "Project expectations population size must be a number"},
		"size nan":             {src: v3("expectations: {population_size: .nan}\n"), want: "Project expectations population size must be a number"},
		"size inf":             {src: v3("expectations: {population_size: .inf}\n"), want: "Project expectations population size must be a whole number, not infinity", rule: ruleOverflowError},
		"size float":           {src: v3("expectations: {population_size: 10.9}\n")},
		"size bool":            {src: v3("expectations: {population_size: true}\n")},
		"size string":          {src: v3("expectations: {population_size: ' 10 '}\n")},
		"size underscores":     {src: v3("expectations: {population_size: '1_000'}\n")},
		"size plus":            {src: v3("expectations: {population_size: '+5'}\n")},
		"size negative":        {src: v3("expectations: {population_size: -5}\n")},
		"size unicode":         {src: v3("expectations: {population_size: '٣'}\n")},
	})
}

func TestUniquePaths(t *testing.T) {
	two := action("a", "python:v2 a.py", "out/x.csv") + action("b", "python:v2 b.py", "out/x.csv")
	checkRuleCases(t, map[string]ruleCase{
		"v2":                 {src: v("2", two), want: "Output path out/x.csv is not unique", rule: rulePathNotUnique, line: 12, col: 12},
		"v1 allowed":         {src: v("1", two)},
		"nan allowed":        {src: v("nan", two)},
		"globs overlap fine": {src: v5(action("a", "python:v2 a.py", "out/*.csv") + action("b", "python:v2 b.py", "out/x.csv"))},
		"across levels":      {src: v5("  a:\n    run: python:v2 a.py\n    outputs:\n      moderately_sensitive: {m: out/x.csv}\n      highly_sensitive: {h: out/x.csv}\n"), want: "Output path out/x.csv is not unique", line: 6, col: 33},
	})
}

func TestPipelineModel(t *testing.T) {
	src := `version: '4.0'
actions:
  extract:
    run: ehrql:v1 generate-dataset analysis/dataset.py --output output/dataset.arrow
    outputs:
      highly_sensitive:
        dataset: output/dataset.arrow
  report:
    run: >
      r:v2 analysis/report.R
    needs: [extract]
    config: {a: 1, b: [x, 2.50, true, ~], 3: 1e3}
    dummy_data_file: dummy.csv
    outputs:
      minimally_sensitive:
        log: logs/*.log
      moderately_sensitive:
        chart: output/chart.png
        table: output/table.csv
`
	r := Validate([]byte(src))
	if !r.Valid {
		t.Fatal(r.Problems)
	}
	p := r.Pipeline
	if p.Version != 4 || p.Expectations != nil || len(p.Actions) != 2 {
		t.Fatalf("pipeline %+v", p)
	}
	e, rep := p.Actions[0], p.Actions[1]
	if e.Name != "extract" || !e.IsDatabaseAction || e.Image() != "ehrql" || e.Line != 3 || e.Column != 3 {
		t.Errorf("extract = %+v", e)
	}
	if rep.Run != "r:v2 analysis/report.R\n" || strings.Join(rep.RunParts, "|") != "r:v2|analysis/report.R" || rep.IsDatabaseAction {
		t.Errorf("report run = %q %q", rep.Run, rep.RunParts)
	}
	if strings.Join(rep.Needs, ",") != "extract" || rep.DummyDataFile != "dummy.csv" {
		t.Errorf("report = %+v", rep)
	}
	if got := string(rep.Config); got != `{"a":1,"b":["x",2.5,true,null],"3":1000.0}` {
		t.Errorf("config = %s", got)
	}
	if len(rep.Outputs) != 2 || rep.Outputs[0].Level != ModeratelySensitive || rep.Outputs[1].Level != MinimallySensitive {
		t.Fatalf("outputs = %+v", rep.Outputs)
	}
	if o := rep.Outputs[0].Outputs; len(o) != 2 || o[0] != (Output{Name: "chart", Path: "output/chart.png", Line: 18, Column: 16}) || o[1].Name != "table" {
		t.Errorf("moderately = %+v", o)
	}
	if got := strings.Join(rep.Paths(), ","); got != "output/chart.png,output/table.csv,logs/*.log" {
		t.Errorf("paths = %s", got)
	}
	if got := strings.Join(p.AllActions(), ","); got != "extract,report" {
		t.Errorf("all actions = %s", got)
	}
	if a, ok := p.Action("report"); !ok || a.Name != "report" {
		t.Error("Action(report)")
	}
	if r := Validate([]byte(v("'3.5'", action("a", "python:v2 a.py", "out/a.csv")))); r.Pipeline.Expectations == nil || r.Pipeline.Expectations.PopulationSize != 1000 {
		t.Errorf("3.5 expectations = %+v", r.Pipeline.Expectations)
	}
}
