package release

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/protocol"
)

func intp(n int) *int { return &n }

// testManifest is revision 2 of release #3: a CSV with findings, a PNG
// without, and a file the agent could not inspect, listed out of order.
func testManifest() Manifest {
	return Manifest{
		Release: "0a1b2c3d4e5f60718293a4b5", Number: 3, Revision: 2, Repo: "lab/study",
		ResearchPR: 7, ResearchPRURL: "https://github.com/lab/study/pull/7", Workspace: "lab/study/main",
		Backend: "tpp", Requester: "rea", RequestedAt: time.Date(2025, 3, 1, 10, 30, 0, 0, time.FixedZone("CET", 3600)),
		Context:  "Counts of patients by region.\nMade by analysis/count.py.",
		Controls: "Counts below 8 redacted; all counts rounded to the nearest 5.",
		Files: []File{
			{Path: "output/plot.png", Size: 20480, SHA256: strings.Repeat("b", 64), Type: "png"},
			{Path: "output/counts.csv", Size: 1536, SHA256: strings.Repeat("a", 64), Type: "csv", Rows: intp(120), Columns: intp(4),
				Findings: []Finding{
					{Check: protocol.CheckSmallCount, Message: "3 cells in column count are between 1 and 7 (rows 4, 9, 17)"},
					{Check: protocol.CheckUnroundedCount, Message: "12 cells in column count are not multiples of 5"},
				}},
			{Path: "output/missing.csv", Type: "csv", Problem: "not in the medium privacy store"},
		},
	}
}

func TestManifestJSONIsCanonical(t *testing.T) {
	t.Parallel()
	m := testManifest()
	got := m.JSON()

	var decoded Manifest
	if err := json.Unmarshal(got, &decoded); err != nil {
		t.Fatalf("manifest.json does not decode: %v\n%s", err, got)
	}
	want := testManifest()
	want.RequestedAt = want.RequestedAt.UTC()
	want.Files = []File{want.Files[0], want.Files[1], want.Files[2]}
	want.Files[0], want.Files[1], want.Files[2] = testManifest().Files[1], testManifest().Files[2], testManifest().Files[0]
	want.Files[1].Findings, want.Files[2].Findings = []Finding{}, []Finding{}
	if !reflect.DeepEqual(decoded, want) {
		t.Errorf("decoded manifest.json:\n%+v\nwant\n%+v", decoded, want)
	}

	for _, s := range []string{
		"{\n  \"release\": \"0a1b2c3d4e5f60718293a4b5\",\n  \"number\": 3,\n  \"revision\": 2,\n",
		`"requested_at": "2025-03-01T09:30:00Z"`, // UTC, whatever zone it was made in
		"\n      \"findings\": [],\n",            // never null
		"\"rows\": 120,\n      \"columns\": 4,",
	} {
		if !bytes.Contains(got, []byte(s)) {
			t.Errorf("manifest.json lacks %q:\n%s", s, got)
		}
	}
	if bytes.Contains(got, []byte("null")) {
		t.Errorf("manifest.json has a null:\n%s", got)
	}
	if n := bytes.Count(got, []byte(`"rows"`)); n != 1 {
		t.Errorf("manifest.json has rows %d times; want only the CSV's (omitted when nil)", n)
	}
	if !bytes.HasSuffix(got, []byte("}\n")) || bytes.HasSuffix(got, []byte("\n\n")) {
		t.Errorf("manifest.json should end with one newline: %q", got[len(got)-5:])
	}
	if paths := jsonPaths(t, got); !slices.IsSorted(paths) {
		t.Errorf("files not sorted by path: %q", paths)
	}
	if m.Files[0].Path != "output/plot.png" || m.Files[1].Findings == nil || m.Files[0].Findings != nil {
		t.Errorf("JSON changed the caller's manifest: %+v", m.Files)
	}
}

// The same manifest makes the same bytes, so its Git blob SHA is stable:
// called again, with its files in another order, or its time in another
// zone.
func TestManifestJSONIsStable(t *testing.T) {
	t.Parallel()
	first := testManifest().JSON()
	if again := testManifest().JSON(); !bytes.Equal(first, again) {
		t.Errorf("second call differs:\n%s\n%s", first, again)
	}
	m := testManifest()
	slices.Reverse(m.Files)
	m.RequestedAt = m.RequestedAt.In(time.UTC)
	if reordered := m.JSON(); !bytes.Equal(first, reordered) {
		t.Errorf("file order or time zone changed the bytes:\n%s\n%s", first, reordered)
	}
	m.Files[0].Size++
	if bytes.Equal(first, m.JSON()) {
		t.Error("a changed size made the same bytes")
	}
}

func TestManifestJSONWithoutFiles(t *testing.T) {
	t.Parallel()
	got := Manifest{Release: "r"}.JSON()
	if !bytes.Contains(got, []byte(`"files": []`)) {
		t.Errorf("no files should be an empty list:\n%s", got)
	}
}

func jsonPaths(t *testing.T, b []byte) []string {
	t.Helper()
	var m struct{ Files []struct{ Path string } }
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	return out
}

// What an output checker reads in manifest.md.
func TestManifestMarkdownReads(t *testing.T) {
	t.Parallel()
	md := testManifest().Markdown()
	for _, want := range []string{
		"# Release #3, revision 2\n",
		"](https://github.com/lab/study/pull/7)",
		"**Requested by:** @rea on 2025-03-01 09:30 UTC",
		"**Backend:** `tpp`",
		"**Workspace:** `lab/study/main`",
		"> Counts of patients by region.\\\n> Made by analysis/count.py.\n",
		"> Counts below 8 redacted; all counts rounded to the nearest 5.\n",
		"3 files, 21.5 KB in all.",
		"| Path | Type | Size | Rows × columns | SHA-256 | Findings |",
		"| `output/counts.csv` | csv | 1.5 KB | 120 × 4 | `" + strings.Repeat("a", 64) + "` | 2 |",
		"| `output/plot.png` | png | 20.0 KB |  | `" + strings.Repeat("b", 64) + "` | none |",
		"| `output/missing.csv` | csv | 0 B |  | ",
		"| not inspected |",
		"Findings are advice from automated disclosure checks, not a verdict",
		"- `output/counts.csv`\n  - **Small count:** 3 cells in column count are between 1 and 7 (rows 4, 9, 17)\n" +
			"  - **Unrounded count:** 12 cells in column count are not multiples of 5\n",
		"- `output/missing.csv` could not be inspected: not in the medium privacy store\n",
		"No findings for the other 1 file.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("manifest.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "output/counts.csv") > strings.Index(md, "output/plot.png") {
		t.Error("files should be listed by path")
	}
}

func TestManifestMarkdownWithoutContext(t *testing.T) {
	t.Parallel()
	m := testManifest()
	m.Context, m.Controls, m.ResearchPRURL, m.Files = " \n ", "", "javascript:alert(1)", nil
	md := m.Markdown()
	for _, want := range []string{"> _(none given)_", "**Research pull request:** lab/study#7\n", "0 files, 0 B in all.", "No findings."} {
		if !strings.Contains(md, want) {
			t.Errorf("manifest.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "javascript") || strings.Contains(md, "| Path |") {
		t.Errorf("an unsafe link or an empty table:\n%s", md)
	}
}

// Hostile paths, context and findings render as themselves: they cannot
// close the page's HTML, inject tags, split a table row, start a heading
// or end the quote.
func TestManifestMarkdownEscapesUserText(t *testing.T) {
	t.Parallel()
	m := testManifest()
	m.Context = "</details><script>alert(1)</script>\n# Approved already\n    indented code\n| a | b |\n> nested\n- [x](javascript:x) **bold** `code` @team"
	m.Controls = "none\r\n\r\n\r\n<!-- hidden --> &amp; ![img](http://x/y.png)"
	m.Requester = "<img src=x>"
	m.Backend = "tpp`</details>"
	m.Files = []File{
		{Path: "out/a|b`c``d</details><script>.csv", Type: "csv<b>", SHA256: "<i>not hex</i>", Size: 1,
			Findings: []Finding{{Check: "evil</li>", Message: "cell <b>|</b> `x` @ana"}}},
		{Path: "out/\u202eevil\ngpj.csv", Type: "csv", SHA256: strings.Repeat("c", 64)},
	}
	md := m.Markdown()
	assertNoMarkup(t, md)

	for _, want := range []string{
		"> \\</details\\>\\<script\\>alert(1)\\</script\\>\\\n> \\# Approved already\\\n> indented code\\\n> \\| a \\| b \\|\\\n> \\> nested\\\n" +
			"> \\- \\[x\\](javascript:x) \\*\\*bold\\*\\* \\`code\\` @team\n",
		"> none\n>\n> \\<!-- hidden --\\> \\&amp; !\\[img\\](http://x/y.png)\n",
		"| ```out/a\\|b`c``d</details><script>.csv``` |", // only a longer fence closes it, and the pipe is escaped
		"`out/\uFFFDevil gpj.csv`",                       // no bidi override, no new line
		"**Requested by:** \\<img src=x\\>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("manifest.md lacks %q:\n%s", want, md)
		}
	}
	for _, row := range tableRows(md) {
		if n := unescapedPipes(row); n != 7 {
			t.Errorf("table row has %d cell borders, want 7: %s", n, row)
		}
	}
}

// assertNoMarkup fails if any line of md, outside code spans and escapes,
// holds a character that starts HTML or an entity.
func assertNoMarkup(t *testing.T, md string) {
	t.Helper()
	for line := range strings.SplitSeq(md, "\n") {
		if rest := outsideCode(line); strings.ContainsAny(rest, "<&") {
			t.Errorf("markup outside code in %q (%q)", line, rest)
		}
	}
}

// outsideCode is line without its code spans and backslash escapes, as
// CommonMark reads them.
func outsideCode(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		switch line[i] {
		case '\\':
			i += 2
			continue
		case '`':
			n := 0
			for i+n < len(line) && line[i+n] == '`' {
				n++
			}
			fence := strings.Repeat("`", n)
			j := i + n
			for {
				k := strings.Index(line[j:], fence)
				if k < 0 {
					b.WriteString(line[i:]) // not a span: the backticks are literal
					return b.String()
				}
				end := j + k + n
				if end < len(line) && line[end] == '`' { // a longer run does not close it
					for end < len(line) && line[end] == '`' {
						end++
					}
					j = end
					continue
				}
				i = end
				break
			}
			continue
		}
		b.WriteByte(line[i])
		i++
	}
	return b.String()
}

func tableRows(md string) []string {
	var rows []string
	for line := range strings.SplitSeq(md, "\n") {
		if strings.HasPrefix(line, "| ") {
			rows = append(rows, line)
		}
	}
	return rows
}

// unescapedPipes counts the pipes that split a GitHub table row: every one
// not escaped, even inside code.
func unescapedPipes(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func TestManifestDirAndReleasedPath(t *testing.T) {
	t.Parallel()
	if got := ManifestDir("0a1b2c3d4e5f60718293a4b5"); got != "releases/0a1b2c3d4e5f60718293a4b5" {
		t.Errorf("ManifestDir = %q", got)
	}
	if got := ManifestDir("../x"); got != "releases/..-x" {
		t.Errorf("ManifestDir(../x) = %q: an ID must stay one component", got)
	}
	cases := map[string]struct{ branch, path, want string }{
		"a plain branch":                  {"main", "output/counts.csv", "released_outputs/main/output/counts.csv"},
		"slashes in the branch":           {"feature/new-plot", "output/a.png", "released_outputs/feature-new-plot/output/a.png"},
		"characters outside the safe set": {"ana's branch é!", "a.csv", "released_outputs/ana-s-branch---/a.csv"},
		"dots and underscores kept":       {"v1.2_rc-3", "a.csv", "released_outputs/v1.2_rc-3/a.csv"},
		"the branch is never .":           {".", "a.csv", "released_outputs/-/a.csv"},
		"the branch is never ..":          {"..", "a.csv", "released_outputs/--/a.csv"},
		"the branch is never empty":       {"", "a.csv", "released_outputs/-/a.csv"},
		"a path cannot climb out":         {"main", "../../etc/passwd", "released_outputs/main/etc/passwd"},
		"a path is cleaned":               {"main", "/output//./a.csv", "released_outputs/main/output/a.csv"},
		"no path is the branch's folder":  {"main", "", "released_outputs/main"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := ReleasedPath(tc.branch, tc.path); got != tc.want {
				t.Errorf("ReleasedPath(%q, %q) = %q, want %q", tc.branch, tc.path, got, tc.want)
			}
		})
	}
}
