package ghemu_test

import (
	"strings"
	"testing"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

func TestCommitsAreDeterministicAndBranchesFollowThem(t *testing.T) {
	emu, repo := start(t)
	main := repo.Head("main")
	a := repo.Commit("feature", map[string]string{"x.txt": "1"}, "x")
	b := repo.Commit("feature", map[string]string{"x.txt": ghemu.Deleted}, "rm x")
	if len(a) != 40 || a == main || b == a || repo.Head("feature") != b || repo.Head("main") != main {
		t.Fatalf("main %s, a %s, b %s, feature %s", main, a, b, repo.Head("feature"))
	}
	if _, ok := repo.File(b, "x.txt"); ok {
		t.Error("x.txt survived its deletion")
	}
	if got, _ := repo.File(a, "x.txt"); got != "1" {
		t.Errorf("x.txt at %s: %q", a, got)
	}
	other := ghemu.New()
	defer other.Close()
	same := other.CreateRepo("ana", "study").Commit("feature", map[string]string{"x.txt": "1"}, "x")
	if same != a {
		t.Errorf("the same commit in another emulator has SHA %s, want %s", same, a)
	}
	if emu.Repo("ANA/Study") == nil || emu.Repo("ana/nope") != nil {
		t.Error("repositories are found by case-insensitive name, and only those that exist")
	}
}

func TestMisuseIsAClearPanicAndLeavesTheEmulatorUsable(t *testing.T) {
	_, repo := start(t)
	for name, misuse := range map[string]func(){
		"PR from a missing branch": func() { repo.OpenPR("nope", "main", "t", "ana") },
		"PR from a missing fork":   func() { repo.OpenPR("mallory:x", "main", "t", "ana") },
		"closing a missing PR":     func() { repo.ClosePR(9, "ana") },
		"rerun of a missing run":   func() { repo.RerequestCheckRun(1, "ana") },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "ghemu: ") {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			misuse()
		}()
	}
	if sha := repo.Commit("feature", map[string]string{"a": "b"}, "after the panics"); len(sha) != 40 {
		t.Errorf("commit after panics: %q", sha)
	}
}
