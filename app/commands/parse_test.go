package commands

import (
	"reflect"
	"strings"
	"testing"
)

// cmd is an expected command: its line and its value.
type cmd struct {
	line int
	v    any
}

// fail is an expected error: its line, words of its reason, and its
// suggestions.
type fail struct {
	line        int
	reason      string
	suggestions []string
}

type parseCase struct {
	body  string
	want  []cmd
	fails []fail
}

func runParseCases(t *testing.T, cases map[string]parseCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, errs := Parse(tc.body)
			var gotCmds []cmd
			for _, p := range got {
				gotCmds = append(gotCmds, cmd{p.Line, p.Command})
				if c, ok := Lookup(p.Name); !ok || !strings.HasPrefix(p.Raw, "/") || !strings.EqualFold(commandName(p.Raw), c.Name) {
					t.Errorf("Parsed %+v: name and raw line disagree", p)
				}
			}
			if !reflect.DeepEqual(gotCmds, tc.want) {
				t.Errorf("commands:\n got %+v\nwant %+v", gotCmds, tc.want)
			}
			if len(errs) != len(tc.fails) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tc.fails), errs)
			}
			for i, f := range tc.fails {
				e := errs[i]
				if e.Line != f.line || !strings.Contains(e.Reason, f.reason) || !reflect.DeepEqual(e.Suggestions, f.suggestions) {
					t.Errorf("error %d:\n got line %d %q suggestions %q\nwant line %d %q suggestions %q",
						i, e.Line, e.Reason, e.Suggestions, f.line, f.reason, f.suggestions)
				}
				if e.Usage == "" {
					t.Errorf("error %d has no usage: %v", i, e)
				}
			}
		})
	}
}

func run(actions ...string) Run { return Run{Actions: actions} }

func TestParseIgnoresWhatIsNotACommand(t *testing.T) {
	runParseCases(t, map[string]parseCase{
		"empty comment":                      {body: ""},
		"prose":                              {body: "Looks good to me!\nLet's run it tomorrow."},
		"a command must start its line":      {body: "please /run all"},
		"a list item is not a command":       {body: "- /run all"},
		"a path is not a command":            {body: "/output/table.csv looks wrong"},
		"a slash and a digit":                {body: "/1 more thing"},
		"a name glued to punctuation":        {body: "/run, please"},
		"fenced code":                        {body: "```\n/run all\n```"},
		"fenced code with an info string":    {body: "```sh\n/run all\n```\n/status", want: []cmd{{4, Status{}}}},
		"tilde fence":                        {body: "~~~\n/run all\n~~~\n/status", want: []cmd{{4, Status{}}}},
		"indented fence":                     {body: "  ```\n  /run all\n  ```\n/status", want: []cmd{{4, Status{}}}},
		"a fence closes only with as many":   {body: "````\n/run a\n```\n/run b\n````\n/status", want: []cmd{{6, Status{}}}},
		"a fence closes only with its char":  {body: "~~~\n```\n/run a\n~~~\n/status", want: []cmd{{5, Status{}}}},
		"a closing fence holds nothing else": {body: "```\n``` /run a\n/run b\n```\n/status", want: []cmd{{5, Status{}}}},
		"an unclosed fence runs to the end":  {body: "```\n/run all\n/status"},
		"backticks with a backtick after are not a fence": {
			body: "```a`b\n/status", want: []cmd{{2, Status{}}}},
		"inline code":                   {body: "`/run all`"},
		"inline code in a sentence":     {body: "type `/run all` to run everything"},
		"quoted line":                   {body: "> /run all"},
		"quoted line, indented":         {body: "   > /run all"},
		"nested quote":                  {body: ">> /run all"},
		"a quote reply, then a command": {body: "> /run all\n> Context: old\n\n/status", want: []cmd{{4, Status{}}}},
		"HTML comment":                  {body: "<!-- /run all -->"},
		"multi-line HTML comment":       {body: "<!--\n/run all\n-->\n/status", want: []cmd{{4, Status{}}}},
		"text after a comment closes is not at the start of its line": {
			body: "<!--\n--> /run all\n/status", want: []cmd{{3, Status{}}}},
		"comment opened mid-line and closed lines later": {
			body: "note <!-- todo\n/run all\n-->\n/status", want: []cmd{{4, Status{}}}},
		"a comment that never closes mid-line is text": {
			body: "a <!-- b\n/status", want: []cmd{{2, Status{}}}},
		"a comment that never closes at a line start hides the rest": {
			body: "<!-- b\n/status"},
		"a comment opener in inline code is text": {
			body: "write `<!--` to hide\n/status\n-->", want: []cmd{{2, Status{}}}},
		"a fence inside a comment is not a fence": {
			body: "<!--\n```\n-->\n/status", want: []cmd{{4, Status{}}}},
		"a comment inside a fence is code": {
			body: "```\n<!--\n```\n/status\n-->", want: []cmd{{4, Status{}}}},
	})
}

func TestParseCommands(t *testing.T) {
	runParseCases(t, map[string]parseCase{
		"run all":            {body: "/run all", want: []cmd{{1, Run{All: true}}}},
		"run named actions":  {body: "/run a b", want: []cmd{{1, run("a", "b")}}},
		"repeats count once": {body: "/run b a b a", want: []cmd{{1, run("b", "a")}}},
		"all twice":          {body: "/run all all", want: []cmd{{1, Run{All: true}}}},
		"indented":           {body: "   \t/status", want: []cmd{{1, Status{}}}},
		"any case":           {body: "/RUN all\n/Status", want: []cmd{{1, Run{All: true}}, {2, Status{}}}},
		"several in one comment, in order": {
			body: "Thanks!\n/run a\n\n/cancel b\n/status\n/help",
			want: []cmd{{2, run("a")}, {4, Cancel{Actions: []string{"b"}}}, {5, Status{}}, {6, Help{}}}},
		"CRLF": {
			body: "/run a b\r\n/cancel\r\n/status\r\n",
			want: []cmd{{1, run("a", "b")}, {2, Cancel{}}, {3, Status{}}}},
		"lone CR":                        {body: "/run a\r/status", want: []cmd{{1, run("a")}, {2, Status{}}}},
		"cancel everything":              {body: "/cancel", want: []cmd{{1, Cancel{}}}},
		"cancel all":                     {body: "/cancel all", want: []cmd{{1, Cancel{}}}},
		"cancel some":                    {body: "/cancel a b a", want: []cmd{{1, Cancel{Actions: []string{"a", "b"}}}}},
		"HTML comment in a command line": {body: "/run a <!-- not b --> c", want: []cmd{{1, run("a", "c")}}},
		"shell comment":                  {body: "/run a # b c", want: []cmd{{1, run("a")}}},
		"a # inside a word":              {body: "/run a#b", want: []cmd{{1, run("a#b")}}},
		"quotes and escapes": {
			body: `/run "a b" 'c d' e\ f "g\"h" 'i\j' ""x`,
			want: []cmd{{1, run("a b", "c d", "e f", `g"h`, `i\j`, "x")}}},
		"a quoted curly quote is kept": {body: `/run "a’s"`, want: []cmd{{1, run("a’s")}}},
		"no-break space separates":     {body: "/run a\u00a0b", want: []cmd{{1, run("a", "b")}}},
	})
}

func TestParseFlags(t *testing.T) {
	runParseCases(t, map[string]parseCase{
		"--backend NAME":            {body: "/run --backend tpp a", want: []cmd{{1, Run{Backend: "tpp", Actions: []string{"a"}}}}},
		"--backend=NAME":            {body: "/run --backend=tpp a", want: []cmd{{1, Run{Backend: "tpp", Actions: []string{"a"}}}}},
		"quoted backend":            {body: "/run --backend 'my tpp' all", want: []cmd{{1, Run{Backend: "my tpp", All: true}}}},
		"-f":                        {body: "/run -f a", want: []cmd{{1, Run{Force: true, Actions: []string{"a"}}}}},
		"--force-run-dependencies":  {body: "/run --force-run-dependencies a", want: []cmd{{1, Run{Force: true, Actions: []string{"a"}}}}},
		"flags after actions":       {body: "/run a -f --backend tpp", want: []cmd{{1, Run{Backend: "tpp", Force: true, Actions: []string{"a"}}}}},
		"the same flag twice":       {body: "/run -f -f --backend x --backend=x a", want: []cmd{{1, Run{Backend: "x", Force: true, Actions: []string{"a"}}}}},
		"-- ends flags":             {body: "/run -f -- -a --b", want: []cmd{{1, Run{Force: true, Actions: []string{"-a", "--b"}}}}},
		"a lone dash is an operand": {body: "/run -", want: []cmd{{1, run("-")}}},
		"release backend":           {body: "/release --backend=tpp a.csv\nContext: c\nControls: d", want: []cmd{{1, Release{Backend: "tpp", Paths: []string{"a.csv"}, Context: "c", Controls: "d"}}}},
	})
}

func TestParseErrors(t *testing.T) {
	runParseCases(t, map[string]parseCase{
		"typo in a command":          {body: "/rnu all", fails: []fail{{1, "unknown command `/rnu`", []string{"/run"}}}},
		"another typo":               {body: "/stauts", fails: []fail{{1, "unknown command", []string{"/status"}}}},
		"a letter missing":           {body: "/relase a.csv", fails: []fail{{1, "unknown command", []string{"/release"}}}},
		"a beginning":                {body: "/r", fails: []fail{{1, "unknown command", []string{"/run", "/release"}}}},
		"nothing like a command":     {body: "/deploy now", fails: []fail{{1, "unknown command `/deploy`", nil}}},
		"typo in a flag":             {body: "/run --forse a", fails: []fail{{1, "unknown option `--forse` for `/run`", []string{"--force-run-dependencies"}}}},
		"typo in a valued flag":      {body: "/run --bakend=x a", fails: []fail{{1, "unknown option `--bakend`", []string{"--backend"}}}},
		"one dash for a long flag":   {body: "/run -backend x a", fails: []fail{{1, "unknown option `-backend`", []string{"--backend"}}}},
		"a flag another command has": {body: "/cancel -f a", fails: []fail{{1, "`/cancel` takes no options", nil}}},
		"a flag without its value":   {body: "/run a --backend", fails: []fail{{1, "`--backend` needs a value: `--backend NAME`", nil}}},
		"a flag followed by a flag":  {body: "/run --backend -f a", fails: []fail{{1, "`--backend` needs a value", nil}}},
		"an empty value":             {body: "/run --backend= a", fails: []fail{{1, "`--backend` needs a value", nil}}},
		"a switch with a value":      {body: "/run -f=yes a", fails: []fail{{1, "`-f` takes no value", nil}}},
		"two backends":               {body: "/run --backend a --backend b x", fails: []fail{{1, "`--backend` is given twice (`a` and `b`)", nil}}},
		"run with no actions":        {body: "/run", fails: []fail{{1, "say which actions to run, or `all`", nil}}},
		"run with only flags":        {body: "/run -f --backend x", fails: []fail{{1, "say which actions", nil}}},
		"all and names":              {body: "/run all a", fails: []fail{{1, "`all` already means every action", nil}}},
		"cancel all and names":       {body: "/cancel a all", fails: []fail{{1, "`all` already means every action", nil}}},
		"an empty action":            {body: "/run ''", fails: []fail{{1, "an action name is empty", nil}}},
		"unbalanced double quote":    {body: `/run a "b c`, fails: []fail{{1, "unbalanced quote: the `\"` before `b c` is never closed", nil}}},
		"unbalanced single quote":    {body: `/run a 'b`, fails: []fail{{1, "unbalanced quote: the `'` before `b`", nil}}},
		"a quote at the end":         {body: `/run a '`, fails: []fail{{1, "the `'` at the end is never closed", nil}}},
		"a trailing backslash":       {body: `/run a\`, fails: []fail{{1, "ends with a backslash", nil}}},
		"curly quotes":               {body: "/run --backend “tpp” a", fails: []fail{{1, "`“` is a curly quote", nil}}},
		"status takes nothing":       {body: "/status please", fails: []fail{{1, "`/status` takes no arguments, and `please` was given", nil}}},
		"help takes nothing":         {body: "/help run", fails: []fail{{1, "`/help` takes no arguments", nil}}},
		"status takes no flags":      {body: "/status --verbose", fails: []fail{{1, "`/status` takes no options", nil}}},
		"errors and commands mixed, in order": {
			body:  "/run a\n/rnu b\n/status\n/run",
			want:  []cmd{{1, run("a")}, {3, Status{}}},
			fails: []fail{{2, "unknown command", []string{"/run"}}, {4, "say which actions", nil}}},
	})
}

func TestParseRelease(t *testing.T) {
	full := Release{Paths: []string{"output/table.csv"}, Context: "Counts of asthma by region.", Controls: "Rounded to 5, counts under 8 redacted."}
	runParseCases(t, map[string]parseCase{
		"context and controls below": {
			body: "/release output/table.csv\nContext: Counts of asthma by region.\nControls: Rounded to 5, counts under 8 redacted.",
			want: []cmd{{1, full}}},
		"context and controls above, in any case, in bold": {
			body: "**Context:** Counts of asthma by region.\n\n**CONTROLS**: Rounded to 5, counts under 8 redacted.\n\n/release output/table.csv",
			want: []cmd{{5, full}}},
		"a paragraph runs to the next blank line": {
			body: "/release a.csv\ncontext: first\n  second\n\nnot context\ncontrols:\nrounded",
			want: []cmd{{1, Release{Paths: []string{"a.csv"}, Context: "first\nsecond", Controls: "rounded"}}}},
		"a paragraph ends at a command": {
			body: "Context: c\n/release a.csv\nControls: d\n/status",
			want: []cmd{{2, Release{Paths: []string{"a.csv"}, Context: "c", Controls: "d"}}, {4, Status{}}}},
		"paths are cleaned, repeats count once": {
			body: "/release ./out//a.csv out/a.csv 'out/b c.csv'\nContext: c\nControls: d",
			want: []cmd{{1, Release{Paths: []string{"out/a.csv", "out/b c.csv"}, Context: "c", Controls: "d"}}}},
		"no context": {
			body:  "/release a.csv\nControls: d",
			fails: []fail{{1, "a release needs a `Context:` paragraph saying what these files are", nil}}},
		"neither": {
			body:  "/release a.csv",
			fails: []fail{{1, "needs a `Context:` paragraph saying what these files are and how they were made; a release needs a `Controls:` paragraph", nil}}},
		"an empty context": {
			body:  "/release a.csv\nContext:\n\nControls: d",
			fails: []fail{{1, "the `Context:` paragraph on line 2 is empty", nil}}},
		"a template's hint is not context": {
			body:  "/release a.csv\nContext: <!-- what these files are -->\nControls: d",
			fails: []fail{{1, "the `Context:` paragraph on line 2 is empty", nil}}},
		"two contexts": {
			body:  "/release a.csv\nContext: c\n\nContext: again\nControls: d",
			fails: []fail{{1, "the comment has 2 `Context:` paragraphs (lines 2, 4); keep one", nil}}},
		"a quoted context does not count": {
			body:  "> Context: from the earlier request\n/release a.csv\nControls: d",
			fails: []fail{{2, "needs a `Context:` paragraph", nil}}},
		"a context in code does not count": {
			body:  "```\nContext: example\n```\n/release a.csv\nControls: d",
			fails: []fail{{4, "needs a `Context:` paragraph", nil}}},
		"a label needs its colon": {
			body:  "/release a.csv\nContext of this: c\nControls: d",
			fails: []fail{{1, "needs a `Context:` paragraph", nil}}},
		"no paths":              {body: "/release\nContext: c\nControls: d", fails: []fail{{1, "say which output files to release", nil}}},
		"absolute path":         {body: "/release /etc/passwd\nContext: c\nControls: d", fails: []fail{{1, "`/etc/passwd` is an absolute path", nil}}},
		"leaving the workspace": {body: "/release out/../../x\nContext: c\nControls: d", fails: []fail{{1, "`out/../../x` leaves the workspace", nil}}},
		"the workspace itself":  {body: "/release ./\nContext: c\nControls: d", fails: []fail{{1, "the whole workspace", nil}}},
	})
}

func TestParseHostileInput(t *testing.T) {
	many := func(line string, n int) string { return strings.Repeat(line+"\n", n) }
	tenRuns := make([]cmd, MaxCommands)
	for i := range tenRuns {
		tenRuns[i] = cmd{i + 1, Run{All: true}}
	}
	var tenTypos []fail
	for i := 1; i <= MaxCommands; i++ {
		tenTypos = append(tenTypos, fail{i, "unknown command", []string{"/run"}})
	}
	runParseCases(t, map[string]parseCase{
		"a 1 MB comment": {
			body:  strings.Repeat("/run all ", 1<<20/9+1),
			fails: []fail{{0, "this comment is too long", nil}}},
		"10k lines of prose": {body: many("some text / ok", 10000)},
		"10k commands": {
			body:  many("/run all", 10000),
			want:  tenRuns,
			fails: []fail{{11, "only the first 10 commands of a comment are read; this one and the 9989 after it were not", nil}}},
		"10k typos": {
			body:  many("/rnu", 10000),
			fails: append(tenTypos, fail{11, "only the first 10 commands", nil})},
		"a NUL byte in a command":   {body: "/run a\x00b", fails: []fail{{1, "control character (U+0000 at byte 7)", nil}}},
		"a NUL byte after the name": {body: "/run\x00 all\n/status", want: []cmd{{2, Status{}}}},
		"NUL bytes in prose":        {body: "a\x00b\x00\n/status", want: []cmd{{2, Status{}}}},
		"invalid UTF-8":             {body: "/run \xff", fails: []fail{{1, "not valid UTF-8", nil}}},
		"a very long line": {
			body:  "/run " + strings.Repeat("a", 2*MaxLineBytes),
			fails: []fail{{1, "this command line is too long (8197 bytes; the limit is 4096)", nil}}},
		"too many arguments": {
			body:  "/run" + strings.Repeat(" a", MaxArgs+1),
			fails: []fail{{1, "too many arguments (the limit is 200)", nil}}},
		"a line of backticks and comment openers": {
			body: strings.Repeat("` `` <!-- ``` ", 15000) + "\n/status",
			want: []cmd{{2, Status{}}}},
		"thousands of comment openers": {body: many("<!-- a -->  <!-- b", 5000) + "-->\n/status", want: []cmd{{5002, Status{}}}},
		"a line of comment openers, never closed": {
			body: "a" + strings.Repeat("<!--", MaxCommentBytes/4-4) + "\n/status",
			want: []cmd{{2, Status{}}}},
		"a paragraph of 10k lines": {
			body: "/release a\nControls: d\nContext: c\n" + many("more context", 10000),
			want: []cmd{{1, Release{Paths: []string{"a"}, Context: "c" + strings.Repeat("\nmore context", 10000), Controls: "d"}}}},
		"thousands of fences": {body: many("```", 10001) + "/status"},
		"thousands of labels": {
			body:  many("Context: x", 5000) + "/release a.csv\nControls: d",
			fails: []fail{{5001, "the comment has 5000 `Context:` paragraphs (lines 1, 2, 3, 4, 5, …); keep one", nil}}},
	})
}
