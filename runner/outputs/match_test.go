package outputs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/fivesafes/fivesafes/checks"
)

// makeWorkspace lays out files (content) and symlinks (target, marked with
// a leading "->") under a new directory.
func makeWorkspace(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case len(content) > 2 && content[:2] == "->":
			err = os.Symlink(content[2:], p)
		case content == "/":
			err = os.Mkdir(p, 0o755)
		default:
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func outputsAt(level checks.PrivacyLevel, paths ...string) checks.OutputGroup {
	g := checks.OutputGroup{Level: level}
	for i, p := range paths {
		g.Outputs = append(g.Outputs, checks.Output{Name: "o" + string(rune('a'+i)), Path: p})
	}
	return g
}

func TestMatch(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "x.csv"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	ws := makeWorkspace(t, map[string]string{
		"top.csv":             "t",
		"output/a.csv":        "a",
		"output/b.csv":        "b",
		"output/.hidden.csv":  "h",
		"output/notes.txt":    "n",
		"output/sub/c.csv":    "c",
		"output/sub2/c.csv":   "c",
		"output/ab_cd_ef.csv": "m",
		"output/dir.csv":      "/",
		"output/link.csv":     "->../top.csv",
		"output/escape.csv":   "->" + filepath.Join(outside, "x.csv"),
		"escdir":              "->" + outside,
	})
	cases := map[string]struct {
		pattern string
		want    []string
	}{
		"star within one directory":        {"output/*.csv", []string{"output/.hidden.csv", "output/a.csv", "output/ab_cd_ef.csv", "output/b.csv"}},
		"star does not cross a slash":      {"*.csv", []string{"top.csv"}},
		"star as a directory":              {"output/*/c.csv", []string{"output/sub/c.csv", "output/sub2/c.csv"}},
		"plain path":                       {"output/a.csv", []string{"output/a.csv"}},
		"several stars":                    {"output/a*_*_*.csv", []string{"output/ab_cd_ef.csv"}},
		"no match":                         {"output/missing_*.csv", nil},
		"a directory is not a file":        {"output/dir.csv", nil},
		"a symlink is not followed":        {"output/link.csv", nil},
		"a symlinked directory is skipped": {"escdir/*.csv", nil},
		"case matters":                     {"output/A.csv", nil},
		"other glob characters are plain":  {"output/?.csv", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := Match(ws, []checks.OutputGroup{outputsAt(checks.ModeratelySensitive, tc.pattern)})
			if err != nil {
				t.Fatal(err)
			}
			if got := m.ByPattern[tc.pattern]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("matched %q, want %q", got, tc.want)
			}
			if unmatched := len(m.Unmatched) == 1; unmatched != (tc.want == nil) {
				t.Errorf("unmatched = %q", m.Unmatched)
			}
		})
	}
	m, err := Match(ws, []checks.OutputGroup{outputsAt(checks.ModeratelySensitive, "output/*.csv", "output/link.csv", "output/dir.csv")})
	if err != nil {
		t.Fatal(err)
	}
	wantSkipped := map[string]string{
		"output/link.csv":   "is a symbolic link, which is never followed",
		"output/escape.csv": "is a symbolic link, which is never followed",
		"output/dir.csv":    "is a directory, not a file",
	}
	if !reflect.DeepEqual(m.Skipped, wantSkipped) {
		t.Errorf("skipped = %q, want %q", m.Skipped, wantSkipped)
	}
}

func TestMatchRefusesPatternsOutsideTheWorkspace(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	ws := filepath.Join(parent, "ws")
	if err := os.MkdirAll(filepath.Join(ws, "output"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "x.csv"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	patterns := []string{"../x.csv", "../*.csv", "output/../../x.csv", "/etc/*", `output\x.csv`, "output//x.csv", "./x.csv", ""}
	m, err := Match(ws, []checks.OutputGroup{outputsAt(checks.HighlySensitive, patterns...)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Unmatched, patterns) {
		t.Errorf("unmatched = %q, want every pattern", m.Unmatched)
	}
	want := map[string]string{
		"../x.csv":           "points outside the workspace",
		"../*.csv":           "points outside the workspace",
		"output/../../x.csv": "points outside the workspace",
		"/etc/*":             "is an absolute path",
		`output\x.csv`:       "contains a back slash",
		"output//x.csv":      "is not in standard form",
		"./x.csv":            "is not in standard form",
		"":                   "is empty",
	}
	if !reflect.DeepEqual(m.Refused, want) {
		t.Errorf("refused = %q", m.Refused)
	}
	if len(m.Files) != 0 {
		t.Errorf("files = %v", m.Files)
	}
}

func TestMatchKeepsTheMostSensitiveLevel(t *testing.T) {
	t.Parallel()
	ws := makeWorkspace(t, map[string]string{"output/a.csv": "a", "output/b.csv": "b", "output/c.txt": "c"})
	m, err := Match(ws, []checks.OutputGroup{
		outputsAt(checks.HighlySensitive, "output/a.csv"),
		outputsAt(checks.ModeratelySensitive, "output/*.csv", "output/a.csv"),
		outputsAt(checks.MinimallySensitive, "output/*"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []MatchedFile{
		{Path: "output/a.csv", Level: checks.HighlySensitive, Pattern: "output/a.csv"},
		{Path: "output/b.csv", Level: checks.ModeratelySensitive, Pattern: "output/*.csv"},
		{Path: "output/c.txt", Level: checks.MinimallySensitive, Pattern: "output/*"},
	}
	if !reflect.DeepEqual(m.Files, want) {
		t.Errorf("files:\n got %+v\nwant %+v", m.Files, want)
	}
	if len(m.Unmatched) != 0 {
		t.Errorf("unmatched = %q", m.Unmatched)
	}
}

func TestWildcard(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true},
		{"*", ".hidden", true},
		{"*.csv", "a.csv", true},
		{"*.csv", "a.csv.gz", false},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"*a*b", "xaxxb", true},
		{"*a*b", "xaxxbx", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
		{"**", "x", true},
		{"x", "x", true},
		{"x", "X", false},
		{"?", "a", false},
		{"[a]", "a", false},
		{"[a]", "[a]", true},
		{"*aaa", "aaaaaaaaaaaaaaaaab", false},
	}
	for _, tc := range cases {
		if got := wildcard(tc.pattern, tc.name); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}
