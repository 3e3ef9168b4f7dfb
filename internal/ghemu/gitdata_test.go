package ghemu_test

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

func TestTreeIDsAreGits(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	sha := repo.Commit("feature", map[string]string{
		"README.md": ghemu.Deleted, "project.yaml": "version: \"4.0\"\n", "analysis/a.py": "print('a')\n",
		"analysis/sub/b.txt": "x", "analysis.txt": "y",
	}, "study")
	commit, _, err := gh.Git.GetCommit(t.Context(), "ana", "study", sha)
	if err != nil {
		t.Fatal(err)
	}
	// What `git write-tree` and `git ls-tree -r -t` say for the same files.
	if got := commit.GetTree().GetSHA(); got != "d10ffb68bbb9b6edb527949f95ca921468861e94" {
		t.Errorf("tree %s", got)
	}
	tree, _, err := gh.Git.GetTree(t.Context(), "ana", "study", commit.GetTree().GetSHA(), true)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, en := range tree.Entries {
		lines = append(lines, en.GetMode()+" "+en.GetType()+" "+en.GetSHA()+" "+en.GetPath())
	}
	want := []string{
		"100644 blob e25f1814e51579d5f55c0f1fe0135ddb28a47f4a analysis.txt",
		"040000 tree a85d8d3681339f32bbefd902ab85e9087497bca6 analysis",
		"100644 blob 192805cbc0bd29603520505eee5e58a883481ee3 analysis/a.py",
		"040000 tree 01cc09486627c642a9ec37ee69658e70cf98f230 analysis/sub",
		"100644 blob c1b0730e0133447badcfd47fd144e254807b06e1 analysis/sub/b.txt",
		"100644 blob 17e23fe26c29dd61ea0ad4f99f3dabc9bdebeae2 project.yaml",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("recursive tree\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	top, _, err := gh.Git.GetTree(t.Context(), "ana", "study", "feature", false)
	if err != nil || len(top.Entries) != 3 || top.GetSHA() != commit.GetTree().GetSHA() {
		t.Errorf("top level by branch name: %d entries, %v", len(top.Entries), err)
	}
	sub, _, err := gh.Git.GetTree(t.Context(), "ana", "study", "a85d8d3681339f32bbefd902ab85e9087497bca6", false)
	if err != nil || len(sub.Entries) != 2 || sub.Entries[0].GetPath() != "a.py" {
		t.Errorf("a subtree: %+v %v", sub, err)
	}
}

func TestCommittingReleasedFilesWithTheGitDataAPI(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := t.Context()
	head := repo.Commit("release-1", map[string]string{"releases/1/manifest.json": "{}", "releases/1/manifest.md": "# 1"}, "manifest")
	n, _ := repo.OpenPR("release-1", "main", "Release 1", "ana")
	before := len(rc.all())

	csv := "age,count\n18-30,15\n"
	utf8Blob, resp, err := gh.Git.CreateBlob(ctx, "ana", "study", github.Blob{Content: github.Ptr(csv), Encoding: github.Ptr("utf-8")})
	if err != nil || resp.StatusCode != http.StatusCreated || utf8Blob.GetSHA() != gitHash(csv) {
		t.Fatalf("utf-8 blob: %+v %v", utf8Blob, err)
	}
	binary := "\x89PNG\r\n\x1a\n\x00\x01"
	b64Blob, _, err := gh.Git.CreateBlob(ctx, "ana", "study", github.Blob{Content: github.Ptr(base64.StdEncoding.EncodeToString([]byte(binary))), Encoding: github.Ptr("base64")})
	if err != nil || b64Blob.GetSHA() != gitHash(binary) {
		t.Fatalf("base64 blob: %+v %v", b64Blob, err)
	}
	back, _, err := gh.Git.GetBlob(ctx, "ana", "study", b64Blob.GetSHA())
	if decoded, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(back.GetContent(), "\n", "")); err != nil || string(decoded) != binary || back.GetSize() != len(binary) || back.GetEncoding() != "base64" {
		t.Fatalf("blob back: %q %v", decoded, err)
	}

	base, _, err := gh.Git.GetCommit(ctx, "ana", "study", head)
	if err != nil {
		t.Fatal(err)
	}
	tree, _, err := gh.Git.CreateTree(ctx, "ana", "study", base.GetTree().GetSHA(), []*github.TreeEntry{
		{Path: github.Ptr("released_outputs/ws/table.csv"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), SHA: utf8Blob.SHA},
		{Path: github.Ptr("released_outputs/ws/plot.png"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), SHA: b64Blob.SHA},
		{Path: github.Ptr("released_outputs/ws/README.md"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), Content: github.Ptr("Released\n")},
		{Path: github.Ptr("releases/1/manifest.md"), Mode: github.Ptr("100644"), Type: github.Ptr("blob")}, // sha null: delete
	})
	if err != nil {
		t.Fatal(err)
	}
	var top []string
	for _, en := range tree.Entries {
		top = append(top, en.GetType()+":"+en.GetPath())
	}
	if got := strings.Join(top, " "); got != "blob:README.md tree:released_outputs tree:releases" {
		t.Errorf("new tree's top level: %s", got)
	}
	commit, _, err := gh.Git.CreateCommit(ctx, "ana", "study", github.Commit{
		Message: github.Ptr("Release 1: 3 files"), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: github.Ptr(head)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if commit.GetAuthor().GetName() != ghemu.AppLogin || len(commit.Parents) != 1 || commit.Parents[0].GetSHA() != head ||
		commit.GetTree().GetSHA() != tree.GetSHA() || commit.GetVerification() == nil {
		t.Errorf("commit %+v", commit)
	}
	again, _, err := gh.Git.GetCommit(ctx, "ana", "study", commit.GetSHA())
	if err != nil || again.GetMessage() != "Release 1: 3 files" {
		t.Errorf("get commit: %+v %v", again, err)
	}
	if len(rc.all()) != before {
		t.Fatalf("a commit nobody's branch points at sent %d events", len(rc.all())-before)
	}

	ref, _, err := gh.Git.UpdateRef(ctx, "ana", "study", "refs/heads/release-1", github.UpdateRef{SHA: commit.GetSHA()})
	if err != nil || ref.GetObject().GetSHA() != commit.GetSHA() || ref.GetRef() != "refs/heads/release-1" {
		t.Fatalf("update ref: %+v %v", ref, err)
	}
	for path, want := range map[string]string{"released_outputs/ws/table.csv": csv, "released_outputs/ws/plot.png": binary, "releases/1/manifest.json": "{}"} {
		if got, ok := repo.File("release-1", path); !ok || got != want {
			t.Errorf("%s: %q %v", path, got, ok)
		}
	}
	if _, ok := repo.File("release-1", "releases/1/manifest.md"); ok {
		t.Error("the deleted file survived")
	}
	got := rc.all()[before:]
	if len(got) != 2 {
		t.Fatalf("%d events after the push, want synchronize and check_suite requested", len(got))
	}
	if ev := got[0].event.(*github.PullRequestEvent); ev.GetAction() != "synchronize" || ev.GetNumber() != n ||
		ev.GetBefore() != head || ev.GetAfter() != commit.GetSHA() || ev.GetSender().GetLogin() != ghemu.AppLogin {
		t.Errorf("synchronize %+v", ev)
	}
	if ev := got[1].event.(*github.CheckSuiteEvent); ev.GetAction() != "requested" || ev.GetCheckSuite().GetHeadSHA() != commit.GetSHA() {
		t.Errorf("check_suite %+v", ev)
	}

	// A commit beside the branch is not a fast forward.
	main, _, _ := gh.Git.GetRef(ctx, "ana", "study", "heads/main")
	side, _, err := gh.Git.CreateCommit(ctx, "ana", "study", github.Commit{
		Message: github.Ptr("side"), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: main.GetObject().SHA}},
		Author: &github.CommitAuthor{Name: github.Ptr("Ana"), Email: github.Ptr("ana@example.org")},
	}, nil)
	if err != nil || side.GetAuthor().GetEmail() != "ana@example.org" || side.GetCommitter().GetName() != "Ana" {
		t.Fatalf("side commit %+v %v", side, err)
	}
	if _, _, err := gh.Git.UpdateRef(ctx, "ana", "study", "heads/release-1", github.UpdateRef{SHA: side.GetSHA()}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("non-fast-forward without force: %v, want 422", err)
	}
	if _, _, err := gh.Git.UpdateRef(ctx, "ana", "study", "heads/release-1", github.UpdateRef{SHA: side.GetSHA(), Force: github.Ptr(true)}); err != nil {
		t.Errorf("forced: %v", err)
	}
	if repo.Head("release-1") != side.GetSHA() {
		t.Errorf("release-1 at %s after the forced update", repo.Head("release-1"))
	}

	created, resp, err := gh.Git.CreateRef(ctx, "ana", "study", github.CreateRef{Ref: "refs/heads/release-2", SHA: main.GetObject().GetSHA()})
	if err != nil || resp.StatusCode != http.StatusCreated || created.GetRef() != "refs/heads/release-2" || repo.Head("release-2") != main.GetObject().GetSHA() {
		t.Fatalf("create ref: %+v %v", created, err)
	}
	if _, _, err := gh.Git.CreateRef(ctx, "ana", "study", github.CreateRef{Ref: "refs/heads/release-2", SHA: head}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("an existing ref: %v, want 422", err)
	}
	if _, _, err := gh.Git.GetRef(ctx, "ana", "study", "heads/nope"); statusOf(err) != http.StatusNotFound {
		t.Errorf("a missing ref: %v, want 404", err)
	}
	if _, _, err := gh.Git.GetBlob(ctx, "ana", "study", strings.Repeat("0", 40)); statusOf(err) != http.StatusNotFound {
		t.Errorf("a missing blob: %v, want 404", err)
	}
	if _, _, err := gh.Git.CreateCommit(ctx, "ana", "study", github.Commit{Message: github.Ptr("x"), Tree: &github.Tree{SHA: github.Ptr(head)}}, nil); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("a commit whose tree is a commit: %v, want 422", err)
	}
}

// gitHash is `git hash-object` of content.
func gitHash(content string) string {
	return fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content))))
}

func TestBadGitDataRequestsAreSpecFailures(t *testing.T) {
	emu, repo, failures := startRecording(t)
	gh := client(t, emu)
	ctx := t.Context()
	blob := gitHash("# study\n")
	treeSHA := func() string {
		c, _, err := gh.Git.GetCommit(ctx, "ana", "study", repo.Head("main"))
		if err != nil {
			t.Fatal(err)
		}
		return c.GetTree().GetSHA()
	}()
	cases := map[string]struct {
		path    string
		body    any
		message string
	}{
		"a blob in latin1": {"git/blobs", map[string]any{"content": "x", "encoding": "latin1"}, "encoding"},
		"bad base64":       {"git/blobs", map[string]any{"content": "!!!", "encoding": "base64"}, "Base64"},
		"sha and content": {"git/trees", map[string]any{"tree": []any{map[string]any{
			"path": "a", "mode": "100644", "type": "blob", "sha": blob, "content": "x"}}}, "either"},
		"a mode git does not have": {"git/trees", map[string]any{"tree": []any{map[string]any{
			"path": "a", "mode": "100600", "type": "blob", "content": "x"}}}, "mode"},
		"a path with ..": {"git/trees", map[string]any{"base_tree": treeSHA, "tree": []any{map[string]any{
			"path": "../a", "mode": "100644", "type": "blob", "content": "x"}}}, "malformed"},
		"an executable (not modelled)": {"git/trees", map[string]any{"tree": []any{map[string]any{
			"path": "run.sh", "mode": "100755", "type": "blob", "content": "x"}}}, "does not support"},
		"a ref without refs/":     {"git/refs", map[string]any{"ref": "heads/x", "sha": repo.Head("main")}, "refs"},
		"a commit without a tree": {"git/commits", map[string]any{"message": "x"}, "tree"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(failures.list())
			req, err := gh.NewRequest(ctx, "POST", "repos/ana/study/"+tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			resp, _ := gh.Do(req, nil)
			if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %v, want 422", resp)
			}
			if f := failures.list()[before:]; len(f) != 1 || !strings.Contains(f[0].Error(), tc.message) {
				t.Errorf("spec failures %v, want one mentioning %q", f, tc.message)
			}
		})
	}
	if _, ok := repo.File("main", "a"); ok || repo.Head("x") != "" {
		t.Error("a refused request changed the repository")
	}
}

func TestPutContents(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	gh := client(t, emu)
	ctx := t.Context()
	repo.Commit("release-1", map[string]string{"m": "1"}, "m")
	n, head := repo.OpenPR("release-1", "main", "Release", "ana")
	before := len(rc.all())

	res, resp, err := gh.Repositories.CreateFile(ctx, "ana", "study", "released_outputs/a.csv", &github.RepositoryContentFileOptions{
		Message: github.Ptr("Release a.csv"), Content: []byte("a,b\n"), Branch: github.Ptr("release-1"),
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v", err)
	}
	if res.GetContent().GetSHA() != gitHash("a,b\n") || res.Parents[0].GetSHA() != head || repo.Head("release-1") != res.GetSHA() {
		t.Errorf("created %+v", res)
	}
	if got := len(rc.all()) - before; got != 2 {
		t.Errorf("%d events, want synchronize and check_suite requested", got)
	}
	if ev := rc.all()[before].event.(*github.PullRequestEvent); ev.GetNumber() != n || ev.GetAction() != "synchronize" {
		t.Errorf("event %+v", ev)
	}
	update := &github.RepositoryContentFileOptions{Message: github.Ptr("again"), Content: []byte("a,b\n1,2\n"), Branch: github.Ptr("release-1")}
	if _, _, err := gh.Repositories.UpdateFile(ctx, "ana", "study", "released_outputs/a.csv", update); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("replacing without sha: %v, want 422", err)
	}
	update.SHA = github.Ptr(strings.Repeat("1", 40))
	if _, _, err := gh.Repositories.UpdateFile(ctx, "ana", "study", "released_outputs/a.csv", update); statusOf(err) != http.StatusConflict {
		t.Errorf("replacing with a stale sha: %v, want 409", err)
	}
	update.SHA = github.Ptr(gitHash("a,b\n"))
	if _, resp, err := gh.Repositories.UpdateFile(ctx, "ana", "study", "released_outputs/a.csv", update); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("replacing: %v", err)
	}
	if got, _ := repo.File("release-1", "released_outputs/a.csv"); got != "a,b\n1,2\n" {
		t.Errorf("content %q", got)
	}
	if _, _, err := gh.Repositories.CreateFile(ctx, "ana", "study", "x", &github.RepositoryContentFileOptions{
		Message: github.Ptr("x"), Content: []byte("x"), Branch: github.Ptr("nope"),
	}); statusOf(err) != http.StatusNotFound {
		t.Errorf("a missing branch: %v, want 404", err)
	}
}

// TestAPICommitIDsAreGits: a commit made through the API has the ID Git
// gives it, authors, committers and their dates included, so that the same
// request makes the same commit only when it names the dates.
func TestAPICommitIDsAreGits(t *testing.T) {
	emu, _ := start(t)
	gh := client(t, emu)
	ctx := t.Context()
	tree, _, err := gh.Git.CreateTree(ctx, "ana", "study", "", []*github.TreeEntry{
		{Path: github.Ptr("a.txt"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), Content: github.Ptr("a\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	plus2 := time.FixedZone("", 2*60*60)
	commit := github.Commit{
		Message: github.Ptr("Release 1\n"), Tree: &github.Tree{SHA: tree.SHA},
		Author: &github.CommitAuthor{Name: github.Ptr("Ana"), Email: github.Ptr("ana@example.org"),
			Date: &github.Timestamp{Time: time.Date(2026, 3, 1, 12, 0, 0, 0, plus2)}},
		Committer: &github.CommitAuthor{Name: github.Ptr("fivesafes[bot]"), Email: github.Ptr("123+fivesafes[bot]@users.noreply.github.com"),
			Date: &github.Timestamp{Time: time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)}},
	}
	made, _, err := gh.Git.CreateCommit(ctx, "ana", "study", commit, nil)
	if err != nil {
		t.Fatal(err)
	}
	// What `git commit-tree` makes of the same tree, people, dates and message.
	const want = "da4be896e5876d6230db9d1a5238e18248a3d938"
	if tree.GetSHA() != "08585692ce06452da6f82ae66b90d98b55536fca" || made.GetSHA() != want {
		t.Errorf("tree %s, commit %s; want Git's 0858569, %s", tree.GetSHA(), made.GetSHA(), want)
	}
	again, _, err := gh.Git.CreateCommit(ctx, "ana", "study", commit, nil)
	if err != nil || again.GetSHA() != want {
		t.Errorf("the same request again: %s %v, want %s", again.GetSHA(), err, want)
	}
	got, ok := emu.GitCommit(want)
	if !ok || got.Author.Date.Format(time.RFC3339) != "2026-03-01T12:00:00+02:00" || got.Committer.Name != "fivesafes[bot]" ||
		got.Files["a.txt"] != "a\n" || len(got.Parents) != 0 {
		t.Errorf("stored commit %+v", got)
	}

	commit.Author.Date = &github.Timestamp{Time: time.Date(2026, 3, 1, 12, 0, 1, 0, plus2)}
	later, _, err := gh.Git.CreateCommit(ctx, "ana", "study", commit, nil)
	if err != nil || later.GetSHA() == want {
		t.Errorf("a second later: %s %v, want another commit", later.GetSHA(), err)
	}
}
