package agent

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTarball(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "code.tar.gz")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtractStripsTheTopDirectoryAndKeepsEarlierOutputs(t *testing.T) {
	t.Parallel()
	ws := filepath.Join(t.TempDir(), "ws")
	if err := os.MkdirAll(filepath.Join(ws, "output"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "output", "dataset.csv"), []byte("earlier"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "project.yaml"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	tb := writeTarball(t, tarball(t,
		tarEntry{Name: "pax_global_header", Type: tar.TypeXGlobalHeader},
		tarEntry{Name: "acme-study-abc1234/", Type: tar.TypeDir},
		tarEntry{Name: "acme-study-abc1234/project.yaml", Body: "new"},
		tarEntry{Name: "acme-study-abc1234/analysis/", Type: tar.TypeDir},
		tarEntry{Name: "acme-study-abc1234/analysis/a.py", Body: "print(1)"},
		tarEntry{Name: "acme-study-abc1234/analysis/b.py", Type: tar.TypeLink, Linkname: "acme-study-abc1234/analysis/a.py"},
		tarEntry{Name: "acme-study-abc1234/latest", Type: tar.TypeSymlink, Linkname: "analysis/a.py"},
	))
	if err := ExtractCode(tb, ws, DefaultExtractLimits()); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"project.yaml":       "new",
		"analysis/a.py":      "print(1)",
		"analysis/b.py":      "print(1)",
		"latest":             "print(1)",
		"output/dataset.csv": "earlier",
	} {
		got, err := os.ReadFile(filepath.Join(ws, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(ws, "acme-study-abc1234")); err == nil {
		t.Error("the top-level directory was not stripped")
	}
}

func TestExtractRefusesHostileArchives(t *testing.T) {
	t.Parallel()
	top := tarEntry{Name: "r-abc/", Type: tar.TypeDir}
	cases := map[string][]tarEntry{
		"dot-dot path":             {top, {Name: "r-abc/../../evil", Body: "x"}},
		"absolute path":            {{Name: "/tmp/evil", Body: "x"}},
		"symlink escaping":         {top, {Name: "r-abc/link", Type: tar.TypeSymlink, Linkname: "../../outside"}},
		"symlink absolute":         {top, {Name: "r-abc/link", Type: tar.TypeSymlink, Linkname: "/etc"}},
		"file through symlink":     {top, {Name: "r-abc/d", Type: tar.TypeSymlink, Linkname: "sub"}, {Name: "r-abc/d/x", Body: "x"}},
		"hardlink escaping":        {top, {Name: "r-abc/h", Type: tar.TypeLink, Linkname: "/etc/passwd"}},
		"hardlink to other top":    {top, {Name: "r-abc/h", Type: tar.TypeLink, Linkname: "other/x"}},
		"device file":              {top, {Name: "r-abc/dev", Type: tar.TypeChar}},
		"fifo":                     {top, {Name: "r-abc/fifo", Type: tar.TypeFifo}},
		"two top-level dirs":       {top, {Name: "other/x", Body: "x"}},
		"file at the top":          {{Name: "README", Body: "x"}},
		"too many files":           {top, {Name: "r-abc/1", Body: "1"}, {Name: "r-abc/2", Body: "2"}, {Name: "r-abc/3", Body: "3"}},
		"too many bytes":           {top, {Name: "r-abc/big", Body: strings.Repeat("x", 101)}},
		"backslash path":           {top, {Name: `r-abc/..\..\evil`, Body: "x"}},
		"dot-dot inside directory": {top, {Name: "r-abc/a/../../evil", Body: "x"}},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			ws := filepath.Join(base, "ws")
			err := ExtractCode(writeTarball(t, tarball(t, entries...)), ws, ExtractLimits{MaxBytes: 100, MaxFiles: 3})
			if !errors.Is(err, ErrHostileArchive) {
				t.Fatalf("err = %v, want ErrHostileArchive", err)
			}
			// Nothing is written before the whole archive is checked.
			if _, err := os.Stat(ws); err == nil {
				t.Error("the workspace was created for a refused archive")
			}
			left, _ := os.ReadDir(base)
			if len(left) != 0 {
				t.Errorf("files were written next to the workspace: %v", left)
			}
		})
	}
}

func TestExtractRefusesJunk(t *testing.T) {
	t.Parallel()
	err := ExtractCode(writeTarball(t, []byte("not a tarball")), filepath.Join(t.TempDir(), "ws"), DefaultExtractLimits())
	if !errors.Is(err, ErrHostileArchive) {
		t.Fatalf("err = %v, want ErrHostileArchive", err)
	}
}
