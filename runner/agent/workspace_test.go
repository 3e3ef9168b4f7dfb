package agent

import (
	"strings"
	"testing"
)

func TestWorkspaceDirIsOneSafeComponentPerWorkspace(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, ws := range []string{
		"acme/study/main", "acme/study/feature/x", "acme/study/feature%2Fx", "acme/study-feature/x",
		"acme/study/..", "acme/study/.hidden", "a/b/" + strings.Repeat("é", 300), "a/b/" + strings.Repeat("é", 301),
	} {
		d, err := WorkspaceDir(ws)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(d, "/.\x00") || d == "" || len(d) > maxWorkspaceDir {
			t.Errorf("WorkspaceDir(%q) = %q: not one safe path component", ws, d)
		}
		if other, dup := seen[d]; dup {
			t.Errorf("%q and %q share the directory %q", ws, other, d)
		}
		seen[d] = ws
	}
	if d, _ := WorkspaceDir("acme/study/main"); d != "acme%2Fstudy%2Fmain" {
		t.Errorf("WorkspaceDir = %q, want acme%%2Fstudy%%2Fmain", d)
	}
	if _, err := WorkspaceDir(""); err == nil {
		t.Error("an empty workspace was accepted")
	}
}
