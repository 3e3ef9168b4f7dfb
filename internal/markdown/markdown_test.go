package markdown

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		s     string
		limit int
		want  string
	}{
		"as it is":                          {"describe", 20, "describe"},
		"line breaks become spaces":         {"line one\nline two\r\nthree", 40, "line one line two  three"},
		"separators and controls too":       {"a\u2028b\u2029c\x00d\te", 20, "a b c d e"},
		"bidi overrides become U+FFFD":      {"out/\u202eevil\u2066gpj.csv", 40, "out/\uFFFDevil\uFFFDgpj.csv"},
		"a run of invalid UTF-8 is one":     {"a\xff\xfeb", 20, "a\uFFFDb"},
		"shortened by runes, with …":        {strings.Repeat("é", 30), 10, strings.Repeat("é", 9) + "…"},
		"markup is not escaped: plain text": {"a|b<script> `x`", 40, "a|b<script> `x`"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Line(tc.s, tc.limit); got != tc.want {
				t.Errorf("Line(%q, %d) = %q, want %q", tc.s, tc.limit, got, tc.want)
			}
		})
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s     string
		limit int
		want  string
	}{
		{"generate_dataset", 16, "generate_dataset"},
		{"generate_dataset", 9, "generate…"},
		{"ééé", 2, "é…"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
	}
	for _, tc := range cases {
		if got := Shorten(tc.s, tc.limit); got != tc.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tc.s, tc.limit, got, tc.want)
		}
	}
}

// Every character that starts Markdown or HTML in a line is escaped, on
// one line; only TextNoMentions breaks mentions.
func TestText(t *testing.T) {
	t.Parallel()
	const hostile = "a|b<script>\n`x` *y* _z_ [l](javascript:y) ~s~ &amp; $m$ \\ @team"
	escaped := `a\|b\<script\> \` + "`x\\`" + ` \*y\* \_z\_ \[l\](javascript:y) \~s\~ \&amp; \$m\$ \\ `
	if got, want := Text(hostile, 200), escaped+"@team"; got != want {
		t.Errorf("Text =\n%s\nwant\n%s", got, want)
	}
	if got, want := TextNoMentions(hostile, 200), escaped+"@\u200bteam"; got != want {
		t.Errorf("TextNoMentions =\n%s\nwant\n%s", got, want)
	}
	if got, want := Text(strings.Repeat("<", 10), 4), `\<\<\<…`; got != want {
		t.Errorf("Text shortens before it escapes: got %q, want %q", got, want)
	}
}

func TestCode(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ s, want string }{
		"plain":                         {"output/counts.csv", "`output/counts.csv`"},
		"a backtick inside":             {"output/`x`.csv", "``output/`x`.csv``"},
		"a run of backticks":            {"out/a|b`c``d</details><script>.csv", "```out/a|b`c``d</details><script>.csv```"},
		"a backtick at the end":         {"tpp`", "`` tpp` ``"},
		"a space at the start":          {" a", "`  a `"},
		"empty":                         {"", "` `"},
		"one line, no bidi override":    {"out/\u202eevil\ngpj.csv", "`out/\uFFFDevil gpj.csv`"},
		"mentions and markup stay code": {"a|b`c</details>@ana.csv", "``a|b`c</details>@ana.csv``"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Code(tc.s, 200); got != tc.want {
				t.Errorf("Code(%q) = %q, want %q", tc.s, got, tc.want)
			}
		})
	}
	if got, want := Code(strings.Repeat("a", 300), 10), "`"+strings.Repeat("a", 9)+"…`"; got != want {
		t.Errorf("Code does not shorten: %q, want %q", got, want)
	}
}

func TestCell(t *testing.T) {
	t.Parallel()
	// GitHub splits a row at a pipe even inside code: only "\|" keeps it.
	if got, want := Cell("out/a|b`c``d</details><script>.csv", 200), "```out/a\\|b`c``d</details><script>.csv```"; got != want {
		t.Errorf("Cell = %q, want %q", got, want)
	}
}

// The context and controls are quoted line by line, as written: nothing a
// researcher types starts a heading, a list, a rule or code, or ends the
// quote.
func TestQuote(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ text, want string }{
		"one line":                 {"Counts by region.", "> Counts by region."},
		"line breaks are kept":     {"one\ntwo\r\nthree", "> one\\\n> two\\\n> three"},
		"paragraphs are kept once": {"one\n\n\n\ntwo", "> one\n>\n> two"},
		"a heading":                {"# Approved", "> \\# Approved"},
		"list items":               {"- a\n+ b\n1. c\n22) d", "> \\- a\\\n> \\+ b\\\n> 1\\. c\\\n> 22\\) d"},
		"rules and underlines":     {"text\n---\n===", "> text\\\n> \\---\\\n> \\==="},
		"indented code":            {"        x = 1", "> x = 1"},
		"a quote in the quote":     {"> nested", "> \\> nested"},
		"a backslash at the end":   {`a\` + "\nb", `> a\\\` + "\n> b"},
		"nothing":                  {"  \n\t\n", "> _(none given)_"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Quote(tc.text); got != tc.want {
				t.Errorf("Quote(%q) =\n%s\nwant\n%s", tc.text, got, tc.want)
			}
		})
	}
}

// Only a real login is mentioned.
func TestMention(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ login, markdown, plain string }{
		"a login":      {"ana", "@ana", "@ana"},
		"a bot":        {"fivesafes[bot]", "@fivesafes[bot]", "@fivesafes[bot]"},
		"nobody":       {"", "someone", "someone"},
		"HTML":         {"<img src=x>", `\<img src=x\>`, "<img src=x>"},
		"a mention in": {"x @org/team", "x @\u200borg/team", "x @org/team"},
		"a new line":   {"a\nb", "a b", "a b"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Mention(tc.login); got != tc.markdown {
				t.Errorf("Mention(%q) = %q, want %q", tc.login, got, tc.markdown)
			}
			if got := PlainMention(tc.login); got != tc.plain {
				t.Errorf("PlainMention(%q) = %q, want %q", tc.login, got, tc.plain)
			}
		})
	}
}

func TestShortSHA(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"abc1234def5678abc1234def5678abc1234def56": "`abc1234`",
		"4F2A9C1E":      "`4f2a9c1`",
		"abc":           "`abc`",
		"":              "an unknown commit",
		"`; rm -rf <b>": "an unknown commit",
	}
	for sha, want := range cases {
		if got := ShortSHA(sha); got != want {
			t.Errorf("ShortSHA(%q) = %q, want %q", sha, got, want)
		}
	}
}

func TestSHA256(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		strings.Repeat("ab", 32):       "`" + strings.Repeat("ab", 32) + "`",
		"<i>not hex</i>":               `\<i\>not hex\</i\>`,
		strings.Repeat("a", 65):        strings.Repeat("a", 65),
		"ABCDEF":                       "ABCDEF",
		"":                             "",
		"deadbeef @ana":                "deadbeef @\u200bana",
		strings.Repeat("a", 64) + "\n": strings.Repeat("a", 64) + " ",
	}
	for sum, want := range cases {
		if got := SHA256(sum); got != want {
			t.Errorf("SHA256(%q) = %q, want %q", sum, got, want)
		}
	}
}

func TestSafeURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"https://x.example/runs/1":             "https://x.example/runs/1",
		" https://github.com/lab/study/pull/7": "https://github.com/lab/study/pull/7",
		"https://x.example/a (b)<c>":           "https://x.example/a%20%28b%29%3Cc%3E",
		"http://x.example/":                    "http://x.example/",
		"javascript:alert(1)":                  "",
		"https:///no-host":                     "",
		"":                                     "",
	}
	for raw, want := range cases {
		if got := SafeURL(raw); got != want {
			t.Errorf("SafeURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	cases := map[int64]string{-1: "0 B", 0: "0 B", 1023: "1023 B", 1536: "1.5 KB", 20480: "20.0 KB", 5 << 20: "5.0 MB", 3 << 30: "3.0 GB"}
	for n, want := range cases {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPlural(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 files", 1: "1 file", 3: "3 files"} {
		if got := Plural(n, "file"); got != want {
			t.Errorf("Plural(%d, file) = %q, want %q", n, got, want)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		items        []string
		limit        int
		list, elided string
	}{
		"none":         {nil, 3, "", ""},
		"one":          {[]string{"a"}, 3, "a", "a"},
		"two":          {[]string{"a", "b"}, 3, "a and b", "a and b"},
		"three":        {[]string{"a", "b", "c"}, 3, "a, b and c", "a, b and c"},
		"cut short":    {[]string{"a", "b", "c", "d", "e"}, 2, "a, b and 3 more", "a, b … and 3 more"},
		"one too many": {[]string{"a", "b"}, 1, "a and 1 more", "a … and 1 more"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			items := append([]string(nil), tc.items...)
			if got := List(tc.items, tc.limit); got != tc.list {
				t.Errorf("List = %q, want %q", got, tc.list)
			}
			if got := ListElided(tc.items, tc.limit); got != tc.elided {
				t.Errorf("ListElided = %q, want %q", got, tc.elided)
			}
			for i := range items {
				if tc.items[i] != items[i] {
					t.Fatalf("the lists changed their items: %q, was %q", tc.items, items)
				}
			}
		})
	}
}

// FitBytes never returns more than limit bytes, nor invalid UTF-8.
func TestFitBytes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s     string
		limit int
		want  string
	}{
		{"Approve run", 20, "Approve run"},
		{"Run these actions on a-very-long-backend-name", 20, "Run these actions…"},
		{"ééééé", 8, "éé…"}, // 4 bytes of é and 3 of …: the third é would split
		{"abcd", 3, ""},
		{"abcd", 2, ""},
		{"abcd", 0, ""},
		{"", 0, ""},
	}
	for _, tc := range cases {
		got := FitBytes(tc.s, tc.limit)
		if got != tc.want {
			t.Errorf("FitBytes(%q, %d) = %q, want %q", tc.s, tc.limit, got, tc.want)
		}
		if len(got) > tc.limit || !utf8.ValidString(got) {
			t.Errorf("FitBytes(%q, %d) = %q: %d bytes", tc.s, tc.limit, got, len(got))
		}
	}
}

func TestLines(t *testing.T) {
	t.Parallel()
	l := Lines{Budget: 20}
	if !l.Add("0123456789", 5) {
		t.Fatal("a line within the budget less the reserve was refused")
	}
	if l.Add("0123", 5) {
		t.Error("a line into the reserve was written") // 11 + 5 + 5 > 20
	}
	if !l.Add("012", 5) {
		t.Error("a line that just fits was refused") // 11 + 4 + 5 = 20
	}
	l.Must("… and 1 more")
	if got, want := l.String(), "0123456789\n012\n… and 1 more\n"; got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}
