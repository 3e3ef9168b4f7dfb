package commands

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "/run all", "/rnu all", "/run --backend=tpp -f a b\r\n/cancel\n/status\n/help",
		"```\n/run all\n```\n/status", "~~~~\n~~~\n/run x\n~~~~", "> /run all\n/run b",
		"<!--\n/run all\n-->\n/run a <!-- b --> c", "`<!--` /x\n/run 'a b' \"c\\\"d\" e\\ f # g",
		"/release ./out//a.csv\n**Context:** c\nmore\n\nControls: d", "/run a \"b", "/run --forse", "/run \x00\xff",
		"/run all a", "/cancel a all", "/release /etc/x ../y", "/run “tpp”",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmds, errs := Parse(body)
		lines := strings.Count(body, "\n") + strings.Count(body, "\r") + 1
		if len(cmds) > MaxCommands {
			t.Fatalf("%d commands read, the limit is %d", len(cmds), MaxCommands)
		}
		last := 0
		for _, p := range cmds {
			if p.Line <= last || p.Line > lines {
				t.Fatalf("command on line %d after line %d, in %d lines", p.Line, last, lines)
			}
			last = p.Line
			if _, ok := Lookup(p.Name); !ok {
				t.Fatalf("unknown command name %q", p.Name)
			}
			switch c := p.Command.(type) {
			case Run:
				if c.All == (len(c.Actions) > 0) {
					t.Fatalf("run %+v: all and actions, or neither", c)
				}
				noRepeats(t, c.Actions)
			case Cancel:
				noRepeats(t, c.Actions)
			case Status, Help:
			case Release:
				if len(c.Paths) == 0 || c.Context == "" || c.Controls == "" {
					t.Fatalf("release %+v lacks paths, context or controls", c)
				}
				for _, p := range c.Paths {
					if strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") {
						t.Fatalf("release of %q, outside the workspace", p)
					}
				}
				noRepeats(t, c.Paths)
			default:
				t.Fatalf("unknown command type %T", p.Command)
			}
		}
		for _, e := range errs {
			if e.Reason == "" || e.Usage == "" {
				t.Fatalf("error without reason or usage: %+v", e)
			}
			_ = e.Error()
		}
		if len(errs) > MaxCommands+1 {
			t.Fatalf("%d errors", len(errs))
		}
		if reply := Reply(errs); (reply == "") != (len(errs) == 0) || strings.ContainsRune(reply, 0) {
			t.Fatalf("reply %q for %d errors", reply, len(errs))
		}
	})
}

func noRepeats(t *testing.T, items []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range items {
		if seen[s] {
			t.Fatalf("%q is repeated in %q", s, items)
		}
		seen[s] = true
	}
}
