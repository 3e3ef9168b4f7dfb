package checks

import "testing"

func TestGenerateCohort(t *testing.T) {
	const run = "cohortextractor:latest generate_cohort --study-definition s"
	checkRuleCases(t, map[string]ruleCase{
		"one output":            {src: v("'3.0'", action("a", run, "output/input.csv")+"expectations: {population_size: 10}\n")},
		"two levels":            {src: v("'3.0'", "  a:\n    run: "+run+"\n    outputs:\n      highly_sensitive: {c: output/input.csv}\n      moderately_sensitive: {d: output/x.csv}\nexpectations: {population_size: 10}\n"), want: "A `generate_cohort` action must have exactly one output; a had 2", rule: ruleCohortOneOutput},
		"empty level counts":    {src: v("'3.0'", "  a:\n    run: "+run+"\n    outputs:\n      highly_sensitive: {c: output/input.csv}\n      minimally_sensitive: {}\nexpectations: {population_size: 10}\n"), want: "A `generate_cohort` action must have exactly one output; a had 2"},
		"two dirs":              {src: v("'3.0'", "  a:\n    run: "+run+"\n    outputs:\n      highly_sensitive: {c: output/input.csv, d: other/x.csv, e: x.csv}\nexpectations: {population_size: 10}\n"), want: "generate_cohort command should produce output in only one directory, found 3:\n - output/\n - other/\n - ./", rule: ruleCohortOneDir},
		"output-dir":            {src: v("'3.0'", "  a:\n    run: "+run+" --output-dir=output\n    outputs:\n      highly_sensitive: {c: output/input.csv, d: other/x.csv}\nexpectations: {population_size: 10}\n")},
		"output-dir 2":          {src: v("'3.0'", "  a:\n    run: "+run+" --output-dir output\n    outputs:\n      highly_sensitive: {c: output/input.csv, d: other/x.csv}\nexpectations: {population_size: 10}\n")},
		"other command":         {src: v("'3.0'", "  a:\n    run: cohortextractor:latest generate_measures\n    outputs:\n      highly_sensitive: {c: output/input.csv, d: other/x.csv}\n      moderately_sensitive: {e: x.csv}\nexpectations: {population_size: 10}\n")},
		"two spaces skip":       {src: v("'3.0'", "  a:\n    run: cohortextractor:latest  generate_cohort\n    outputs:\n      highly_sensitive: {c: output/input.csv, d: other/x.csv}\n      moderately_sensitive: {e: x.csv}\nexpectations: {population_size: 10}\n")},
		"v4 not supported":      {src: v("'4.0'", action("a", "cohortextractor:v1 generate_measures", "output/x.csv")), want: "Action a uses cohortextractor actions, which are not supported in this version.", rule: ruleCohortExtractor},
		"v4 cohortextractor-v2": {src: v("'4.0'", action("a", "cohortextractor-v2:v1 x", "output/x.csv")), want: "Action a uses cohortextractor actions, which are not supported in this version."},
		"A14 before T7":         {src: v("'4.0'", "  a:\n    run: cohortextractor:v1 generate_cohort\n    outputs:\n      highly_sensitive: {c: output/input.csv}\n      moderately_sensitive: {d: output/x.csv}\n"), want: "A `generate_cohort` action must have exactly one output; a had 2"},
		"v3.5 fine":             {src: v("3.5", action("a", run, "output/input.csv"))},
	})
}

func TestGenerateDataset(t *testing.T) {
	one := func(run, outputs string) string {
		return v5("  a:\n    run: " + run + "\n    outputs:\n" + outputs)
	}
	const hs = "      highly_sensitive:\n        dataset: output/dataset.csv\n"
	mismatch := func(got, want string) string {
		return "output specification must match the `--output` argument in the `run` command\n              got: " + got + "\nbut was expecting: " + want
	}
	checkRuleCases(t, map[string]ruleCase{
		"matches":               {src: one("ehrql:v1 generate-dataset a.py --output output/dataset.csv", hs)},
		"equals form":           {src: one("ehrql:v1 generate-dataset a.py --output=output/dataset.csv", hs)},
		"underscore":            {src: one("ehrql:v1 generate_dataset a.py --output=output/x.csv", hs), want: mismatch("output/dataset.csv", "output/x.csv"), rule: ruleEhrQLOutputMatch},
		"databuilder":           {src: one("databuilder:v1 generate-dataset a.py --output=output/x.csv", hs), want: mismatch("output/dataset.csv", "output/x.csv")},
		"prefix triggers":       {src: one("ehrql:v1 generate-datasets a.py --output=output/x.csv", hs), want: mismatch("output/dataset.csv", "output/x.csv")},
		"two spaces skip":       {src: one("ehrql:v1  generate-dataset a.py --output=output/x.csv", hs)},
		"leading space skip":    {src: one("' ehrql:v1 generate-dataset a.py --output=output/x.csv'", hs)},
		"measures not checked":  {src: one("ehrql:v1 generate-measures a.py --output=output/x.csv", "      moderately_sensitive:\n        m: output/m.csv\n")},
		"moderately":            {src: one("ehrql:v1 generate-dataset a.py --output output/dataset.csv", hs+"      moderately_sensitive:\n        m: output/m.csv\n"), want: "`a` action uses `generate-dataset` and so all outputs must be labelled `highly_sensitive`", rule: ruleEhrQLHighlyOnly},
		"empty moderately ok":   {src: one("ehrql:v1 generate-dataset a.py --output output/dataset.csv", hs+"      moderately_sensitive: {}\n")},
		"no output":             {src: one("ehrql:v1 generate-dataset a.py", hs), want: "`a` action does not provide an `--output` argument specifying where the results of `generate-dataset` should be stored", rule: ruleEhrQLNoOutput},
		"output last":           {src: one("ehrql:v1 generate-dataset a.py --output", hs), want: "`a` action does not provide an `--output` argument specifying where the results of `generate-dataset` should be stored"},
		"output empty":          {src: one("ehrql:v1 generate-dataset a.py --output=", hs), want: "`a` action does not provide an `--output` argument specifying where the results of `generate-dataset` should be stored"},
		"output-dir ignored":    {src: one("ehrql:v1 generate-dataset a.py --output-dir output", hs), want: "`a` action does not provide an `--output` argument specifying where the results of `generate-dataset` should be stored"},
		"first occurrence":      {src: one("ehrql:v1 generate-dataset a.py --output output/dataset.csv --output=x.csv", hs)},
		"not normalised":        {src: one("ehrql:v1 generate-dataset a.py --output ./output/dataset.csv", hs), want: mismatch("output/dataset.csv", "./output/dataset.csv")},
		"other patterns ok":     {src: one("ehrql:v1 generate-dataset a.py --output output/dataset.csv", hs+"        other: output/other.csv\n")},
		"two patterns shown":    {src: one("ehrql:v1 generate-dataset a.py --output output/x.csv", hs+"        other: output/other.csv\n"), want: "output specification must match the `--output` argument in the `run` command\n              got: output/dataset.csv                   \noutput/other.csv\nbut was expecting: output/x.csv"},
		"dir form":              {src: one("ehrql:v1 generate-dataset a.py --output output/ds:csv", "      highly_sensitive:\n        d: output/ds/*.csv\n")},
		"dir form subdir":       {src: one("ehrql:v1 generate-dataset a.py --output output/ds:csv", "      highly_sensitive:\n        d: output/ds/sub/x.csv\n        e: output/ds/*.csv\n")},
		"dir form slash":        {src: one("ehrql:v1 generate-dataset a.py --output output/ds/:csv", "      highly_sensitive:\n        d: output/ds/*.csv\n")},
		"dir form mismatch":     {src: one("ehrql:v1 generate-dataset a.py --output output/ds:arrow", "      highly_sensitive:\n        d: output/ds/*.csv\n"), want: mismatch("output/ds/*.csv", "output/ds/:arrow")},
		"dir form no patterns":  {src: one("ehrql:v1 generate-dataset a.py --output output/ds:csv", "      highly_sensitive: {}\n")},
		"file form no patterns": {src: one("ehrql:v1 generate-dataset a.py --output output/x.csv", "      highly_sensitive: {}\n"), want: mismatch("", "output/x.csv")},
		"dir normalised":        {src: one("ehrql:v1 generate-dataset a.py --output output//ds:csv", "      highly_sensitive:\n        d: output/ds/*.csv\n")},
		"any version":           {src: v("'3.0'", "  a:\n    run: ehrql:v1 generate-dataset a.py --output output/x.csv\n    outputs:\n"+hs+"expectations: {population_size: 1}\n"), want: mismatch("output/dataset.csv", "output/x.csv")},
	})
}

func TestFnmatch(t *testing.T) {
	cases := []struct {
		name, pat string
		want      bool
	}{
		{"out/ds/x.csv", "out/ds/*.csv", true},
		{"out/ds/sub/x.csv", "out/ds/*.csv", true},
		{"out/ds/*.csv", "out/ds/*.csv", true},
		{"out/ds/x.CSV", "out/ds/*.csv", false},
		{"out/ds/x.csv.gz", "out/ds/*.csv", false},
		{"a", "?", true},
		{"ab", "?", false},
		{"b", "[a-c]", true},
		{"d", "[a-c]", false},
		{"d", "[!a-c]", true},
		{"-", "[a-]", true},
		{"]", "[]]", true},
		{"[", "[", true},
		{"x", "[b-a]", false},
		{"x", "[!b-a]", true},
		{"\\", `[\]`, true},
		{"a*b", "a[*]b", true},
		{"", "*", true},
		{"abc", "a**c", true},
		{"ac", "a*b*c", false},
	}
	for _, c := range cases {
		if got := fnmatch(c.name, c.pat); got != c.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", c.name, c.pat, got, c.want)
		}
	}
}
