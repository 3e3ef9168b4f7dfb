package checks

import (
	"strings"
	"testing"
)

// v5 builds a version 5 file from action definitions.
func v5(actions string) string { return "version: '5.0'\nactions:\n" + actions }

// v builds a file of the given version from action definitions.
func v(version, actions string) string {
	return "version: " + version + "\nactions:\n" + actions
}

// action is one action with a run command and a highly sensitive output.
func action(name, run, path string) string {
	return "  " + name + ":\n    run: " + run + "\n    outputs:\n      highly_sensitive:\n        o: " + path + "\n"
}

// moderately is one action with a moderately sensitive output path.
func moderately(path string) string {
	return v5("  a:\n    run: python:v2 a.py\n    outputs:\n      moderately_sensitive:\n        o: " + path + "\n")
}

func highly(path string) string {
	return v5("  a:\n    run: python:v2 a.py\n    outputs:\n      highly_sensitive:\n        o: " + path + "\n")
}

type ruleCase struct {
	src  string
	want string // the first error, exactly; "" for a valid file
	rule string // checked when set
	line int    // checked when set
	col  int    // checked when set
}

func checkRuleCases(t *testing.T, cases map[string]ruleCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := Validate([]byte(tc.src))
			errs := r.Errors()
			if tc.want == "" {
				if !r.Valid || len(errs) > 0 {
					t.Fatalf("want valid, got %+v", errs)
				}
				if r.Pipeline == nil {
					t.Fatal("valid without a pipeline")
				}
				return
			}
			if r.Valid || len(errs) == 0 {
				t.Fatalf("want invalid with %q, got valid", tc.want)
			}
			first := errs[0]
			if first.Message != tc.want {
				t.Errorf("first error\n got %q\nwant %q", first.Message, tc.want)
			}
			if tc.rule != "" && first.Rule != tc.rule {
				t.Errorf("rule %q, want %q", first.Rule, tc.rule)
			}
			if tc.line != 0 && (first.Line != tc.line || (tc.col != 0 && first.Column != tc.col)) {
				t.Errorf("at %d:%d, want %d:%d", first.Line, first.Column, tc.line, tc.col)
			}
			if r.Pipeline != nil {
				t.Error("invalid with a pipeline")
			}
		})
	}
}

func TestTopLevel(t *testing.T) {
	ok := action("a", "python:v2 a.py", "out/a.csv")
	checkRuleCases(t, map[string]ruleCase{
		"valid":                     {src: v5(ok)},
		"unexpected keys":           {src: v5(ok) + "describe: x\nzzz: 1\n", want: "Unexpected parameters (describe, zzz) in project", rule: ruleUnexpectedKey, line: 8, col: 1},
		"typo of version":           {src: "2version: '5.0'\nactions:\n" + ok, want: "Unexpected parameters (2version) in project"},
		"unexpected before version": {src: "actions:\n" + ok + "x: 1\n", want: "Unexpected parameters (x) in project"},
		"version missing":           {src: "actions:\n" + ok, want: "Project file must have a `version` attribute specifying which version of the project configuration format it uses (current latest version is 5)", rule: ruleVersionMissing},
		"version null":              {src: v("~", ok), want: "Project file must have a `version` attribute specifying which version of the project configuration format it uses (current latest version is 5)"},
		"version latest":            {src: v("latest", ok), want: "`version` must be a number between 1 and 5", rule: ruleVersionNaN, line: 1, col: 10},
		"version v3":                {src: v("'v3'", ok), want: "`version` must be a number between 1 and 5"},
		"version hex string":        {src: v("'0x4'", ok), want: "`version` must be a number between 1 and 5"},
		"version empty string":      {src: v("''", ok), want: "`version` must be a number between 1 and 5"},
		"version list":              {src: v("[5]", ok), want: "`version` must be a number between 1 and 5"},
		"version map":               {src: v("{a: 5}", ok), want: "`version` must be a number between 1 and 5"},
		"version date":              {src: v("2021-01-01", ok), want: "`version` must be a number between 1 and 5"},
		"version tagged":            {src: v("!foo 5", ok), want: "`version` must be a number between 1 and 5"},
		"version spaces":            {src: v("' 4 '", ok)},
		"version 1e0":               {src: v("'1e0'", ok)},
		"version negative":          {src: v("'-1'", ok)},
		"version zero":              {src: v("0", ok)},
		"version nan":               {src: v("nan", ok)},
		"version yaml nan":          {src: v(".nan", ok)},
		"version arabic digit":      {src: v("'٣'", ok), want: "Project must include `expectations` section"}, // ٣ is 3.0
		"version bool":              {src: v("true", ok)},
		"version hex int":           {src: v("0x5", ok)},
		"version octal int":         {src: v("0o5", ok)},
		"version 4.5":               {src: v("4.5", ok)},
		"version 4_0":               {src: v("'4_0'", ok), want: "`version` is 40.0, but the latest version of the project.yaml format is 5; use a version between 1 and 5, e.g. '5.0'", rule: ruleValueError},
		"version 6":                 {src: v("6", ok), want: "`version` is 6.0, but the latest version of the project.yaml format is 5; use a version between 1 and 5, e.g. '5.0'", rule: ruleValueError},
		"version inf":               {src: v(".inf", ok), want: "`version` is inf, but the latest version of the project.yaml format is 5; use a version between 1 and 5, e.g. '5.0'"},
		"version huge int":          {src: v("1"+strings.Repeat("0", 400), ok), rule: ruleOverflowError, want: "`version` 1" + strings.Repeat("0", 400) + " is far too large; use a version between 1 and 5, e.g. '5.0'"},
		"actions missing":           {src: "version: '5.0'\n", want: "Project `actions` section must be a dictionary of key/value pairs", rule: ruleActionsNotDict},
		"actions null":              {src: "version: '5.0'\nactions:\n", want: "Project `actions` section must be a dictionary of key/value pairs", line: 2, col: 1},
		"actions list":              {src: "version: '5.0'\nactions:\n  - a\n", want: "Project `actions` section must be a dictionary of key/value pairs", line: 3},
		"no actions":                {src: "version: '5.0'\nactions: {}\n"},
		"empty file":                {src: "", want: "project.yaml is empty: it must be a mapping with `version` and `actions` (see https://docs.opensafely.org/actions-pipelines/)", rule: ruleTypeError},
		"comments only":             {src: "# nothing\n", want: "project.yaml is empty: it must be a mapping with `version` and `actions` (see https://docs.opensafely.org/actions-pipelines/)"},
		"tilde":                     {src: "~\n", want: "project.yaml is empty: it must be a mapping with `version` and `actions` (see https://docs.opensafely.org/actions-pipelines/)"},
		"top-level list":            {src: "- version: 5\n", want: "project.yaml must be a mapping with `version` and `actions`, but it is a list (see https://docs.opensafely.org/actions-pipelines/)", rule: ruleTypeError},
		"top-level string":          {src: "hello\n", want: "project.yaml must be a mapping with `version` and `actions`, but it is a string (see https://docs.opensafely.org/actions-pipelines/)"},
		"non-string key":            {src: v5(ok) + "1: x\n", want: "key 1 in the top level of project.yaml is a number, not text; keys there must be one of: version, actions, expectations", rule: ruleTypeError, line: 8},
		"key cls":                   {src: v5(ok) + "cls: x\n", want: "`cls` is not allowed in the top level of project.yaml; use only: version, actions, expectations", rule: ruleTypeError},
		"crash before T1":           {src: "zzz: 1\n" + v5(ok) + "2: x\n", want: "key 2 in the top level of project.yaml is a number, not text; keys there must be one of: version, actions, expectations"},
		"yes is a string":           {src: v5(action("yes", "python:v2 a.py", "out/a.csv"))},
		"merge keys expanded":       {src: "version: '5.0'\nbase: &b\n  run: python:v2 a.py\nactions:\n  a:\n    <<: *b\n    outputs: {highly_sensitive: {o: out/a.csv}}\n", want: "Unexpected parameters (base) in project"},
		"duplicate action":          {src: v5(ok + ok), want: "invalid YAML: found duplicate key \"a\" (first defined at line 3, column 3); a key may appear only once in a mapping", rule: ruleYAMLDuplicate, line: 8, col: 3},
		"yaml syntax":               {src: v5("  a:\n    run: echo a: b\n"), want: "invalid YAML: mapping values are not allowed here: a value that contains \": \" must be put in quotes", rule: ruleYAMLSyntax, line: 4, col: 16},
	})
}

func TestActions(t *testing.T) {
	out := "    outputs:\n      highly_sensitive:\n        o: out/a.csv\n"
	checkRuleCases(t, map[string]ruleCase{
		"run_all v5":                {src: v5(action("run_all", "python:v2 a.py", "out/a.csv")), want: "`run_all` is a reserved action name and is not allowed for user-defined actions.", rule: ruleRunAll, line: 3, col: 3},
		"run_all v4":                {src: v("'4.0'", action("run_all", "python:v2 a.py", "out/a.csv"))},
		"config null":               {src: v5("  a:\n"), want: "Configuration for action a must be a dictionary of key/value pairs", rule: ruleActionNotDict, line: 3},
		"config list":               {src: v5("  a: [run]\n"), want: "Configuration for action a must be a dictionary of key/value pairs"},
		"int action name":           {src: v5("  2017:\n"), want: "Configuration for action 2017 must be a dictionary of key/value pairs"},
		"null action name":          {src: v5("  ~:\n"), want: "Configuration for action None must be a dictionary of key/value pairs"},
		"missing run":               {src: v5("  a:\n" + out), want: "Action a must contain a configuration for 'run'", rule: ruleActionMissing},
		"missing outputs":           {src: v5("  a:\n    run: python:v2 a.py\n"), want: "Action a must contain a configuration for 'outputs'"},
		"missing both":              {src: v5("  a:\n    needs: []\n"), want: "Action a must contain a configuration for 'run'"},
		"unexpected keys":           {src: v5("  a:\n    run: python:v2 a.py\n    neds: [b]\n" + out + "    x: 1\n"), want: "Unexpected parameters (neds, x) in action a", rule: ruleActionUnexpected, line: 5, col: 5},
		"key action_id":             {src: v5("  a:\n    run: python:v2 a.py\n    action_id: x\n" + out), want: "`action_id` is not allowed in action a; use only: run, outputs, needs, config, dummy_data_file", rule: ruleTypeError},
		"key cls":                   {src: v5("  a:\n    run: python:v2 a.py\n    cls: x\n" + out), want: "`cls` is not allowed in action a; use only: run, outputs, needs, config, dummy_data_file"},
		"non-string key":            {src: v5("  a:\n    run: python:v2 a.py\n    1: x\n" + out), want: "key 1 in action a is a number, not text; keys there must be one of: run, outputs, needs, config, dummy_data_file"},
		"outputs null":              {src: v5("  a:\n    run: python:v2 a.py\n    outputs:\n"), want: "`outputs` section for action a must be a dictionary of key/value pairs", rule: ruleActionFieldType, line: 5, col: 5},
		"outputs list":              {src: v5("  a:\n    run: python:v2 a.py\n    outputs: [x]\n"), want: "`outputs` section for action a must be a dictionary of key/value pairs"},
		"run null":                  {src: v5("  a:\n    run:\n" + out), want: "`run` section for action a must be a string", rule: ruleActionFieldType},
		"run int":                   {src: v5("  a:\n    run: 1\n" + out), want: "`run` section for action a must be a string"},
		"run tagged":                {src: v5("  a:\n    run: !cmd python:v2 a.py\n" + out), want: "`run` section for action a must be a string"},
		"run list":                  {src: v5("  a:\n    run: [python:v2, a.py]\n" + out), want: "`run` section for action a must be a string"},
		"run merge marker":          {src: v5("  a:\n    run: <<\n" + out), want: "`run` section for action a must be a string"},
		"needs string":              {src: v5("  a:\n    run: python:v2 a.py\n    needs: b\n" + out), want: "`needs` section for action a must be a list"},
		"needs null":                {src: v5("  a:\n    run: python:v2 a.py\n    needs:\n" + out)},
		"config string":             {src: v5("  a:\n    run: python:v2 a.py\n    config: x\n" + out), want: "`config` section for action a must be a dictionary of key/value pairs"},
		"config section null":       {src: v5("  a:\n    run: python:v2 a.py\n    config:\n" + out)},
		"dummy data int":            {src: v5("  a:\n    run: python:v2 a.py\n    dummy_data_file: 1\n" + out), want: "`dummy_data_file` section for action a must be a string"},
		"dummy data any string":     {src: v5("  a:\n    run: python:v2 a.py\n    dummy_data_file: ../../etc/passwd\n" + out)},
		"order: A5 before A6":       {src: v5("  a:\n    run: 1\n    outputs:\n    x: 1\n"), want: "Unexpected parameters (x) in action a"},
		"order: A6 before A7":       {src: v5("  a:\n    run: 1\n    outputs:\n"), want: "`outputs` section for action a must be a dictionary of key/value pairs"},
		"order: action 1 first":     {src: v5("  a:\n    run: python:v2 a.py\n    outputs: {}\n  b:\n"), want: "must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive"},
		"order: outputs before run": {src: v5("  a:\n    run: python a.py\n    outputs: {}\n"), want: "must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive"},
	})
}

func TestOutputs(t *testing.T) {
	run := "  a:\n    run: python:v2 a.py\n    outputs:\n"
	checkRuleCases(t, map[string]ruleCase{
		"empty":                {src: v5(run + "      {}\n"), want: "must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive", rule: ruleOutputsNone},
		"only unknown level":   {src: v5(run + "      secret: {o: a.csv}\n"), want: "must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive"},
		"only null level":      {src: v5(run + "      highly_sensitive:\n"), want: "must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive"},
		"unexpected level":     {src: v5(run + "      highly_sensitive: {o: a.csv}\n      highlyly_sensitive: {p: b.csv}\n"), want: "Unexpected parameters (highlyly_sensitive) in `outputs` section for action a", rule: ruleOutputsUnexpected, line: 7, col: 7},
		"level not a dict":     {src: v5(run + "      highly_sensitive: a.csv\n"), want: "`highly_sensitive` section for action a must be a dictionary of key/value pairs", rule: ruleOutputsLevelType},
		"level order":          {src: v5(run + "      minimally_sensitive: x\n      highly_sensitive: y\n"), want: "`highly_sensitive` section for action a must be a dictionary of key/value pairs"},
		"empty level ok":       {src: v5(run + "      highly_sensitive: {}\n")},
		"null beside real":     {src: v5(run + "      highly_sensitive: {o: a.csv}\n      moderately_sensitive:\n")},
		"path not a string":    {src: v5(run + "      highly_sensitive:\n        data: 1\n"), want: "`data` output for action a must be a string", rule: ruleOutputsNotString},
		"path null":            {src: v5(run + "      highly_sensitive:\n        data:\n"), want: "`data` output for action a must be a string"},
		"int output name":      {src: v5(run + "      highly_sensitive:\n        2017: [x]\n"), want: "`2017` output for action a must be a string"},
		"key action_id":        {src: v5(run + "      highly_sensitive: {o: a.csv}\n      action_id: x\n"), want: "`action_id` is not allowed in the `outputs` of action a; use only: highly_sensitive, moderately_sensitive, minimally_sensitive", rule: ruleTypeError},
		"crash before O1":      {src: v5(run + "      1: x\n"), want: "key 1 in the `outputs` of action a is a number, not text; keys there must be one of: highly_sensitive, moderately_sensitive, minimally_sensitive"},
		"same name two levels": {src: v5(run + "      highly_sensitive: {o: a.csv}\n      moderately_sensitive: {o: b.csv}\n")},
	})
}

func TestPathRules(t *testing.T) {
	bad := func(path, reason string) ruleCase {
		return ruleCase{src: moderately(path), want: "Output path " + path + " is invalid: " + reason}
	}
	badHighly := func(path, reason string) ruleCase {
		return ruleCase{src: highly(path), want: "Output path " + path + " is invalid: " + reason}
	}
	const (
		noExt    = "output paths must have a file type extension at the end"
		notNorm  = "is not in standard form (contains double slashes or '..' elements)"
		absolute = "is an absolute path"
	)
	fileType := func(normal string) string {
		return normal + " is not an allowed file type for moderately_sensitive outputs"
	}
	checkRuleCases(t, map[string]ruleCase{
		"backslash":               bad(`out\x.csv`, "contains back slashes (use forward slashes only)"),
		"double star":             bad("out/**/x.csv", "contains '**' (only the * wildcard character is supported)"),
		"question mark":           bad("out/x?.csv", "contains '?' (only the * wildcard character is supported)"),
		"bracket":                 bad("out/x[1].csv", "contains '[' (only the * wildcard character is supported)"),
		"question before bracket": bad("out/[x]?.csv", "contains '?' (only the * wildcard character is supported)"),
		"star ok":                 {src: moderately("out/*.csv")},
		"no extension":            bad("out/x", noExt),
		"trailing dot":            bad("out/x.", noExt),
		"hidden file":             bad("out/.csv", noExt),
		"star extension":          bad("out/x.*", noExt),
		"partial star ext":        bad("out/x.c*", noExt),
		"all of output":           bad("output/*", noExt),
		"metadata bare":           badHighly("metadata", noExt),
		"double dot name":         {src: moderately("out/a..csv")},
		"space after dot":         {src: highly("out/a. csv")},
		"upper case CSV":          bad("out/x.CSV", fileType("out/x.CSV")),
		"csv.gz":                  bad("out/x.csv.gz", fileType("out/x.csv.gz")),
		"pdf":                     bad("out/x.pdf", fileType("out/x.pdf")),
		"normalised in message":   bad("output//figs/x.pdf", fileType("output/figs/x.pdf")),
		"dot normalised":          bad("./out/x.rds", fileType("out/x.rds")),
		"csv.gz highly ok":        {src: highly("out/x.csv.gz")},
		"allowed types":           {src: v5("  a:\n    run: python:v2 a.py\n    outputs:\n      moderately_sensitive:\n" + allowedTypes())},
		"double slash":            bad("out//x.csv", notNorm),
		"dot slash":               bad("./out/x.csv", notNorm),
		"dot dot inside":          bad("out/../x.csv", notNorm),
		"trailing slash":          bad("out/x.csv/", notNorm),
		"leading dot dot":         {src: moderately("../x.csv")},
		"leading dot dot twice":   {src: moderately("../../etc/x.csv")},
		"home":                    {src: moderately("~/x.csv")},
		"dollar":                  {src: moderately("$HOME/x.csv")},
		"spaces":                  {src: moderately("a b.csv")},
		"metadata dir":            bad("metadata/x.csv", "should not include the metadata directory"),
		"metadata.csv ok":         {src: moderately("metadata.csv")},
		"metadatax ok":            {src: moderately("metadatax/a.csv")},
		"absolute":                bad("/x.csv", absolute),
		"two leading slashes":     bad("//server/share/x.csv", absolute),
		"windows drive":           bad("C:/x.csv", absolute),
		"windows any letter":      bad("1:/x.csv", absolute),
		"windows colon letter":    {src: moderately("'::/x.csv'"), want: "Output path ::/x.csv is invalid: is an absolute path"},
		"windows unicode":         bad("é:/x.csv", absolute),
		"drive relative ok":       {src: moderately("c:x.csv")},
	})
}

func allowedTypes() string {
	var b strings.Builder
	for i, ext := range moderatelySensitiveTypes {
		b.WriteString("        o" + string(rune('a'+i)) + ": out/x" + ext + "\n")
	}
	return b.String()
}

func TestRun(t *testing.T) {
	run := func(cmd string) string { return v5(action("a", cmd, "out/a.csv")) }
	noVersion := func(name string) string {
		return "Action command " + name + " must have a version specified in the form :vN (e.g. " + name + ":v2)"
	}
	checkRuleCases(t, map[string]ruleCase{
		"empty":                        {src: run("''"), want: "run must have a value, a has an empty run key", rule: ruleRunEmpty, line: 4, col: 10},
		"whitespace only":              {src: run("' '"), want: "run must have a value, a has a run key that is only whitespace", rule: ruleIndexError},
		"unclosed quote":               {src: run(`python:v2 "a.py`), want: "the `run` command of action a has a quote that is never closed; close it, or escape a literal quote with a backslash", rule: ruleValueError},
		"unclosed single":              {src: run(`python:v2 it's`), want: "the `run` command of action a has a quote that is never closed; close it, or escape a literal quote with a backslash"},
		"lone backslash":               {src: run(`python:v2 a.py \`), want: "the `run` command of action a ends with a lone backslash; remove it (or write \\\\ for a literal backslash)", rule: ruleValueError},
		"no tag":                       {src: run("python a.py"), want: noVersion("python"), rule: ruleRunNoVersion},
		"empty tag":                    {src: run("'python: a.py'"), want: noVersion("python")},
		"tag v":                        {src: run("python:v a.py"), want: noVersion("python")},
		"tag stable":                   {src: run("python:stable a.py"), want: noVersion("python")},
		"tag V2":                       {src: run("python:V2 a.py"), want: noVersion("python")},
		"tag v1x1":                     {src: run("python:v1x1 a.py"), want: noVersion("python")},
		"tag pre":                      {src: run("python:pre a.py"), want: noVersion("python")},
		"tag two colons":               {src: run("python:v2:x a.py"), want: noVersion("python")},
		"empty word":                   {src: run(`"'' foo"`), want: "Action command  must have a version specified in the form :vN (e.g. :v2)"},
		"dotted name":                  {src: run("r.latest a.R"), want: noVersion("r.latest")},
		"tag v1":                       {src: run("python:v1 a.py")},
		"tag v1.2.3":                   {src: run("python:v1.2.3 a.py")},
		"tag v.":                       {src: run("python:v. a.py")},
		"tag v1..":                     {src: run("python:v1.. a.py")},
		"tag v1-pre":                   {src: run("python:v1-pre a.py")},
		"tag v1.2-pre":                 {src: run("python:v1.2-pre a.py")},
		"tag dev":                      {src: run("python:dev a.py")},
		"tag unicode digit":            {src: run("python:v٣ a.py")},
		"tag newline":                  {src: run(`"\"python:v2\n\" a.py"`)},
		"no name":                      {src: run(":v1 cmd")},
		"registry path":                {src: run("ghcr.io/x/python:v2 a.py")},
		"any image":                    {src: run("minimal-action:v1.1.0 x")},
		"hash is literal":              {src: run("'python:v2 a.py #1'")},
		"quoted args":                  {src: run(`python:v2 "a b.py" 'c d' e\ f`)},
		"latest v5":                    {src: run("python:latest a.py"), want: "Action a uses `python:latest`, which is not supported. Provide a version e.g. `:v2` instead", rule: ruleRunLatest},
		"latest v4":                    {src: v("'4.0'", action("a", "python:latest a.py", "out/a.csv"))},
		"same run":                     {src: v5(action("a", "python:v2 a.py", "out/a.csv") + action("b", "python:v2 a.py", "out/b.csv")), want: "Action b has the same 'run' command as other actions: a", rule: ruleRunDuplicate, line: 9, col: 10},
		"same run third":               {src: v5(action("a", "python:v2 a.py", "out/a.csv") + action("b", "python:v2 b.py", "out/b.csv") + action("c", "python:v2 a.py", "out/c.csv")), want: "Action c has the same 'run' command as other actions: a"},
		"run differs by space":         {src: v5(action("a", "python:v2 a.py", "out/a.csv") + action("b", "python:v2  a.py", "out/b.csv"))},
		"block scalar newline":         {src: v5("  a:\n    run: >\n      python:v2 a.py\n    outputs: {highly_sensitive: {o: a.csv}}\n" + action("b", "python:v2 a.py", "out/b.csv"))},
		"unclosed beats unknown needs": {src: v5("  a:\n    run: python:v2 'x\n    needs: [zzz]\n    outputs: {highly_sensitive: {o: a.csv}}\n"), want: "the `run` command of action a has a quote that is never closed; close it, or escape a literal quote with a backslash"},
	})
}

func TestShlexSplit(t *testing.T) {
	cases := map[string][]string{
		"a b  c":             {"a", "b", "c"},
		" \ta\r\nb\n":        {"a", "b"},
		`a "b c" 'd e'`:      {"a", "b c", "d e"},
		`''`:                 {""},
		`a '' b`:             {"a", "", "b"},
		`c\d`:                {"cd"},
		`a\ b`:               {"a b"},
		`"a\"b"`:             {`a"b`},
		`"a\\b"`:             {`a\b`},
		`"a\nb"`:             {`a\nb`},
		`'a\b'`:              {`a\b`},
		`a#b #c`:             {"a#b", "#c"},
		`x"y"z`:              {"xyz"},
		"a\u00a0b":           {"a\u00a0b"},
		"--output=out/x.csv": {"--output=out/x.csv"},
		"":                   nil,
		`"" ""`:              {"", ""},
	}
	for in, want := range cases {
		got, err := shlexSplit(in)
		if err != shlexOK || strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("shlexSplit(%q) = %q, %d; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]shlexError{`"a`: shlexNoClosingQuotation, `'a`: shlexNoClosingQuotation, `a\`: shlexNoEscapedChar, `"a\`: shlexNoEscapedChar} {
		if _, err := shlexSplit(in); err != want {
			t.Errorf("shlexSplit(%q) error %d, want %d", in, err, want)
		}
	}
}
