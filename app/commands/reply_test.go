package commands

import (
	"strings"
	"testing"
)

func TestReply(t *testing.T) {
	cases := map[string]struct {
		body string
		want []string // in this order
		not  []string
	}{
		"a typo": {
			body: "/rnu all",
			want: []string{
				"Sorry, I could not read this command:",
				"**Line 1:** `/rnu all`",
				"Unknown command `/rnu`. Did you mean `/run`?",
				"```text\n/run [--backend NAME] [-f|--force-run-dependencies] all | ACTION...\n```",
				"Comment `/help` to see every command.",
			},
		},
		"an unknown command shows every usage": {
			body: "/deploy",
			want: []string{"Unknown command `/deploy`.\n", "/run [--backend", "/cancel [ACTION...]", "/status", "/help"},
			not:  []string{"Did you mean"},
		},
		"two suggestions": {
			body: "/r",
			want: []string{"Did you mean `/run` or `/release`?"},
		},
		"several errors, each usage once": {
			body: "/run --forse a\n/run\n/status x",
			want: []string{
				"could not read 3 commands in this comment",
				"**Line 1:** `/run --forse a`", "Unknown option `--forse` for `/run`. Did you mean `--force-run-dependencies`?", "```text\n/run",
				"**Line 2:** `/run`", "Say which actions to run, or `all` for every action.",
				"**Line 3:** `/status x`", "```text\n/status\n```",
			},
		},
		"a release shows its paragraphs": {
			body: "/release a.csv",
			want: []string{"```text\n/release [--backend NAME] PATH...\nContext: what these files are and how they were made\nControls: what disclosure controls were applied (redaction, rounding)\n```"},
		},
		"a backtick at the end of the line is padded": {
			body: "/run 'a`",
			want: []string{"**Line 1:** `` /run 'a` ``"},
		},
		"backticks in the line cannot break the code": {
			body: "/run a ``b` \"c",
			want: []string{"**Line 1:** ```/run a ``b` \"c```"},
		},
		"a NUL byte is not echoed": {
			body: "/run a\x00",
			want: []string{"`/run a\uFFFD`"},
			not:  []string{"\x00"},
		},
		"a long line is shortened": {
			body: "/run " + strings.Repeat("x", MaxLineBytes),
			want: []string{"xxx…`"},
			not:  []string{strings.Repeat("x", maxRawShown)},
		},
		"a long word is shortened": {
			body: "/run --" + strings.Repeat("y", 1000),
			want: []string{"yyy…`"},
			not:  []string{strings.Repeat("y", maxWordShown+1)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, errs := Parse(tc.body)
			got := Reply(errs)
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("reply lacks (in order) %q:\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("reply holds %q:\n%s", n, got)
				}
			}
			if n := strings.Count(got, "```text\n/run ["); n > 1 {
				t.Errorf("the /run usage is shown %d times:\n%s", n, got)
			}
		})
	}
	if got := Reply(nil); got != "" {
		t.Errorf("Reply(nil) = %q, want nothing", got)
	}
}

func TestUnknownWordsTheCallerChecks(t *testing.T) {
	cmds, errs := Parse("Looks good.\n/run generate_datset --backend tp")
	if len(errs) != 0 || len(cmds) != 1 {
		t.Fatalf("Parse: %v %v", cmds, errs)
	}
	p := cmds[0]
	r := p.Command.(Run)
	got := Reply([]*ParseError{
		p.Unknown("action", r.Actions[0], []string{"generate_dataset", "analyse"}),
		p.Unknown("backend", r.Backend, []string{"tpp", "emis"}),
	})
	for _, w := range []string{
		"**Line 2:** `/run generate_datset --backend tp`",
		"Unknown action `generate_datset`. Did you mean `generate_dataset`?",
		"```text\n/run [--backend NAME]",
		"Unknown backend `tp`. Did you mean `tpp`?",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("reply lacks %q:\n%s", w, got)
		}
	}
	e := p.Unknown("action", "x", nil)
	if e.Error() != "line 2: unknown action `x`" {
		t.Errorf("Error() = %q", e.Error())
	}
	e = p.Unknown("action", "analyse_", []string{"analyse"})
	if e.Error() != "line 2: unknown action `analyse_` (did you mean `analyse`?)" {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestHelpTextListsEveryCommand(t *testing.T) {
	help := HelpText()
	for _, c := range All {
		for _, w := range []string{c.Usage, "`/" + c.Name + "`: " + c.Help} {
			if !strings.Contains(help, w) {
				t.Errorf("help lacks %q:\n%s", w, help)
			}
		}
		for _, f := range c.Flags {
			if !strings.Contains(help, "--"+f.Name) || !strings.Contains(help, f.Help) {
				t.Errorf("help lacks flag --%s of /%s:\n%s", f.Name, c.Name, help)
			}
		}
	}
	if !strings.Contains(help, "`-f`, `--force-run-dependencies`") || !strings.Contains(help, "`--backend NAME`") {
		t.Errorf("help does not show the flags' forms:\n%s", help)
	}
}

func TestEveryCommandIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range All {
		switch {
		case seen[c.Name]:
			t.Errorf("/%s is listed twice", c.Name)
		case !strings.HasPrefix(c.Usage, "/"+c.Name):
			t.Errorf("/%s: usage %q does not start with the command", c.Name, c.Usage)
		case c.Parse == nil:
			t.Errorf("/%s has no Parse", c.Name)
		case !strings.HasSuffix(c.Help, ".") || strings.Count(c.Help, ". ") > 0:
			t.Errorf("/%s: help %q is not one sentence", c.Name, c.Help)
		}
		seen[c.Name] = true
		for _, f := range c.Flags {
			if !strings.Contains(c.Usage, "--"+f.Name) {
				t.Errorf("/%s: usage %q does not show --%s", c.Name, c.Usage, f.Name)
			}
		}
	}
}
