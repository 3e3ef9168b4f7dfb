package app

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/release"
)

// The releases' go-github adapter against the GitHub emulator.

func startReleasesEmu(t *testing.T) (*runsEmu, *ReleasesGitHub) {
	t.Helper()
	s := startRunsEmu(t)
	return s, NewReleasesGitHub(s.gh)
}

// testFile is a file to commit, held in memory, that counts its openings.
type testFile struct {
	path    string
	content []byte
	opens   atomic.Int32
}

func (f *testFile) commitFile() release.CommitFile {
	return release.CommitFile{Path: f.path, Size: int64(len(f.content)), Open: func() (io.ReadCloser, error) {
		f.opens.Add(1)
		return io.NopCloser(bytes.NewReader(f.content)), nil
	}}
}

func commitFiles(files ...*testFile) []release.CommitFile {
	out := make([]release.CommitFile, len(files))
	for i, f := range files {
		out[i] = f.commitFile()
	}
	return out
}

// everyBytePNG is a real PNG, stored without compression, whose pixels are
// every byte value from 0 to 255.
func everyBytePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 256, 4))
	for x := range 256 {
		for y := range 4 {
			img.SetGray(x, y, color.Gray{Y: uint8(x)})
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	seen := map[byte]bool{}
	for _, b := range buf.Bytes() {
		seen[b] = true
	}
	if len(seen) != 256 {
		t.Fatalf("the PNG holds %d distinct byte values, want 256", len(seen))
	}
	return buf.Bytes()
}

func TestReleasesGitHubDefaultBranchAndBranchHeads(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	release3 := s.repo.Commit("fivesafes/release-3", map[string]string{"releases/3/manifest.json": "{}"}, "manifest")
	hash := s.repo.Commit("fivesafes/release#4+100%", map[string]string{"releases/4/manifest.json": "{}"}, "manifest")

	branch, sha, err := gh.DefaultBranch(t.Context(), s.ref)
	if err != nil || branch != "main" || sha != s.repo.Head("main") {
		t.Errorf("DefaultBranch = %s, %s, %v; want main at %s", branch, sha, err, s.repo.Head("main"))
	}
	trunk := s.emu.CreateRepo("ana", "trunk-study", ghemu.DefaultBranch("trunk"))
	branch, sha, err = gh.DefaultBranch(t.Context(), checks.Repo{InstallationID: runsInstallation, Owner: "ana", Name: "trunk-study"})
	if err != nil || branch != "trunk" || sha != trunk.Head("trunk") {
		t.Errorf("DefaultBranch of trunk-study = %s, %s, %v; want trunk at %s", branch, sha, err, trunk.Head("trunk"))
	}

	cases := map[string]struct {
		branch string
		sha    string
		found  bool
	}{
		"slashes in the name":         {"fivesafes/release-3", release3, true},
		"# + and % in the name":       {"fivesafes/release#4+100%", hash, true},
		"a prefix of a branch":        {"fivesafes", "", false},
		"a branch that is not there":  {"fivesafes/release-9", "", false},
		"a name only another matches": {"fivesafes/release-3/x", "", false},
	}
	for name, tc := range cases {
		sha, found, err := gh.BranchHead(t.Context(), s.ref, tc.branch)
		if err != nil || sha != tc.sha || found != tc.found {
			t.Errorf("%s: BranchHead(%q) = %q, %v, %v; want %q, %v", name, tc.branch, sha, found, err, tc.sha, tc.found)
		}
	}

	s.emu.Fail("GET", "/repos/{owner}/{repo}/git/ref/{ref}", 10, http.StatusBadGateway)
	_, _, err = gh.BranchHead(t.Context(), s.ref, "fivesafes/release-3")
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusBadGateway || !Retryable(err) ||
		!strings.Contains(err.Error(), "branch fivesafes/release-3 of ana/study") {
		t.Errorf("GitHub failing: %v, want a retryable error naming the branch", err)
	}
}

func TestReleasesGitHubCreateAndMoveBranches(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	main := s.repo.Head("main")
	const branch = "fivesafes/release#3"

	if err := gh.CreateBranch(t.Context(), s.ref, branch, main); err != nil {
		t.Fatal(err)
	}
	if got := s.repo.Head(branch); got != main {
		t.Fatalf("%s at %q after CreateBranch, want %s", branch, got, main)
	}
	err := gh.CreateBranch(t.Context(), s.ref, branch, main)
	if !errors.Is(err, release.ErrExists) || Retryable(err) || !strings.Contains(err.Error(), branch) {
		t.Errorf("creating it again: %v, want ErrExists naming the branch, not retryable", err)
	}
	err = gh.CreateBranch(t.Context(), s.ref, "fivesafes/release-4", strings.Repeat("1", 40))
	if err == nil || errors.Is(err, release.ErrExists) {
		t.Errorf("a branch at a commit that is not there: %v, want an error other than ErrExists", err)
	}

	ahead := s.repo.Commit("elsewhere", map[string]string{"a": "1"}, "ahead") // main + 1
	if err := gh.MoveBranch(t.Context(), s.ref, branch, ahead, false); err != nil {
		t.Fatalf("fast-forward: %v", err)
	}
	beside := s.repo.Commit("beside", map[string]string{"b": "1"}, "beside") // main + 1, not after ahead
	err = gh.MoveBranch(t.Context(), s.ref, branch, beside, false)
	if err == nil || Retryable(err) || s.repo.Head(branch) != ahead {
		t.Errorf("not a fast-forward, without force: %v, branch at %s; want a refusal, branch still at %s", err, s.repo.Head(branch), ahead)
	}
	if err := gh.MoveBranch(t.Context(), s.ref, branch, beside, true); err != nil || s.repo.Head(branch) != beside {
		t.Errorf("with force: %v, branch at %s; want it at %s", err, s.repo.Head(branch), beside)
	}
	if err := gh.MoveBranch(t.Context(), s.ref, "fivesafes/release-9", main, true); err == nil {
		t.Error("moving a branch that is not there: no error")
	}
}

func TestReleasesGitHubCommitFiles(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	const branch = "fivesafes/release-1"
	parent := s.repo.Commit(branch, map[string]string{
		"releases/1/manifest.json": `{"files":3}`, "releases/1/manifest.md": "# Release 1\n",
	}, "Release 1: manifest")
	pngFile := &testFile{path: "released_outputs/ws/output/plot.png", content: everyBytePNG(t)}
	odd := make([]byte, 3*blobChunk+1) // several reads, and base64 padding at the end
	for i := range odd {
		odd[i] = byte(i * 7)
	}
	files := []*testFile{
		{path: "releases/1/manifest.md", content: []byte("# Release 1\n\nReleased.\n")}, // replaces the parent's
		pngFile,
		{path: "released_outputs/ws/output/table.csv", content: []byte("age,n\n18-30,15\n")},
		{path: "released_outputs/ws/output/chunks.bin", content: odd},
		{path: "released_outputs/ws/output/empty.txt", content: []byte{}},
		{path: "released_outputs/ws/output/two.bin", content: []byte{0xff, 0x00}},
	}
	plus2 := time.FixedZone("", 2*60*60)
	at := time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, plus2)
	const message = "Release 1: 6 files\n"

	sha, err := gh.CommitFiles(t.Context(), s.ref, parent, commitFiles(files...), message, at)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := s.emu.GitCommit(sha)
	if !ok {
		t.Fatalf("commit %s is not in the repository", sha)
	}
	want := map[string]string{"README.md": "# study\n", "releases/1/manifest.json": `{"files":3}`}
	for _, f := range files {
		want[f.path] = string(f.content)
	}
	for p, content := range want {
		if got.Files[p] != content {
			t.Errorf("%s: %d bytes in the commit, want %d bytes byte for byte", p, len(got.Files[p]), len(content))
		}
	}
	if len(got.Files) != len(want) {
		t.Errorf("the commit holds %d files, want %d: %v", len(got.Files), len(want), slices.Sorted(maps.Keys(got.Files)))
	}
	botID, _ := s.emu.UserID(ghemu.AppLogin)
	bot := ghemu.Signature{Name: ghemu.AppLogin, Email: fmt.Sprintf("%d+%s@users.noreply.github.com", botID, ghemu.AppLogin)}
	for role, sig := range map[string]ghemu.Signature{"author": got.Author, "committer": got.Committer} {
		if sig.Name != bot.Name || sig.Email != bot.Email || !sig.Date.Equal(at.Truncate(time.Second)) {
			t.Errorf("%s = %+v, want the app's bot user %s <%s> dated %v", role, sig, bot.Name, bot.Email, at.Truncate(time.Second))
		}
	}
	if !slices.Equal(got.Parents, []string{parent}) || got.Message != message {
		t.Errorf("parents %v, message %q; want [%s], %q", got.Parents, got.Message, parent, message)
	}
	if s.repo.Head(branch) != parent {
		t.Errorf("CommitFiles moved %s to %s", branch, s.repo.Head(branch))
	}
	for _, f := range files {
		if n := f.opens.Load(); n != 1 {
			t.Errorf("%s opened %d times, want once", f.path, n)
		}
	}

	// The same files, parent, message and time make the same commit, in
	// whichever time zone the time comes; a second later another one.
	again, err := gh.CommitFiles(t.Context(), s.ref, parent, commitFiles(files...), message, at.UTC())
	if err != nil || again != sha {
		t.Errorf("the same commit again = %s, %v; want %s", again, err, sha)
	}
	later, err := gh.CommitFiles(t.Context(), s.ref, parent, commitFiles(files...), message, at.Add(time.Second))
	if err != nil || later == sha {
		t.Errorf("a second later = %s, %v; want another commit than %s", later, err, sha)
	}
	if n := s.emu.Requests("GET", "/users/{username}"); n != 1 {
		t.Errorf("asked GitHub for the app's bot user %d times, want once", n)
	}

	// Moved onto the branch, the files are there byte for byte.
	if err := gh.MoveBranch(t.Context(), s.ref, branch, sha, false); err != nil {
		t.Fatal(err)
	}
	if content, ok := s.repo.File(branch, pngFile.path); !ok || content != string(pngFile.content) {
		t.Errorf("%s on %s: %d bytes, want the PNG's %d", pngFile.path, branch, len(content), len(pngFile.content))
	}
}

func TestReleasesGitHubCommitFilesResendsABlobByOpeningTheFileAgain(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	parent := s.repo.Head("main")
	plot := &testFile{path: "released_outputs/plot.png", content: everyBytePNG(t)}
	table := &testFile{path: "released_outputs/table.csv", content: []byte("a,b\n1,2\n")}
	// A secondary rate limit that is over already (its reset is in the
	// past): the limiter re-sends the same request at once.
	s.emu.Fail("POST", "/repos/{owner}/{repo}/git/blobs", 1, http.StatusForbidden,
		ghemu.SecondaryRateLimit(0), ghemu.FaultHeader("X-RateLimit-Reset", "1"))

	sha, err := gh.CommitFiles(t.Context(), s.ref, parent, commitFiles(plot, table), "Release", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if n := s.emu.Requests("POST", "/repos/{owner}/{repo}/git/blobs"); n != 3 {
		t.Errorf("%d blob requests, want 3: the first file's twice", n)
	}
	if p, tb := plot.opens.Load(), table.opens.Load(); p != 2 || tb != 1 {
		t.Errorf("files opened %d and %d times, want 2 (re-sent by opening it again) and 1", p, tb)
	}
	got, _ := s.emu.GitCommit(sha)
	if got.Files[plot.path] != string(plot.content) || got.Files[table.path] != string(table.content) {
		t.Errorf("after the re-send: plot %d bytes, table %q", len(got.Files[plot.path]), got.Files[table.path])
	}
}

func TestReleasesGitHubCommitFilesRefusesWhatItCannotCommit(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	parent := s.repo.Head("main")
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	gone := errors.New("the upload is gone")
	sized := func(p string, content string, size int64) release.CommitFile {
		return release.CommitFile{Path: p, Size: size, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}
	}
	cases := map[string]struct {
		file release.CommitFile
		is   error
		says string
	}{
		"shorter than said": {file: sized("out/a.csv", "0123456789", 12), says: "out/a.csv is 10 bytes, not the 12"},
		"longer than said":  {file: sized("out/a.csv", strings.Repeat("x", blobChunk+5), blobChunk+4), says: "longer than the"},
		"cannot be opened": {file: release.CommitFile{Path: "out/a.csv", Size: 1, Open: func() (io.ReadCloser, error) { return nil, gone }},
			is: gone, says: "open out/a.csv"},
		"a path out of the repository": {file: sized("../a.csv", "a", 1), says: `"../a.csv" is not a path`},
		"a path into .git":             {file: sized("x/.git/config", "a", 1), says: "not a path"},
		"an absolute path":             {file: sized("/a.csv", "a", 1), says: "not a path"},
	}
	for name, tc := range cases {
		_, err := gh.CommitFiles(t.Context(), s.ref, parent, []release.CommitFile{tc.file}, "Release", at)
		if err == nil || !strings.Contains(err.Error(), tc.says) || (tc.is != nil && !errors.Is(err, tc.is)) || Retryable(err) {
			t.Errorf("%s: %v; want an error saying %q, not retryable", name, err, tc.says)
		}
	}
	twice := []release.CommitFile{sized("a.csv", "a", 1), sized("a.csv", "b", 1)}
	if _, err := gh.CommitFiles(t.Context(), s.ref, parent, twice, "Release", at); err == nil || !strings.Contains(err.Error(), "a.csv is given twice") {
		t.Errorf("a path given twice: %v", err)
	}
	if n := s.emu.Requests("POST", "/repos/{owner}/{repo}/git/trees"); n != 0 {
		t.Errorf("%d trees created from files that could not be committed", n)
	}

	s.emu.Fail("POST", "/repos/{owner}/{repo}/git/trees", 1, http.StatusBadGateway)
	_, err := gh.CommitFiles(t.Context(), s.ref, parent, []release.CommitFile{sized("a.csv", "a", 1)}, "Release", at)
	if !Retryable(err) || !strings.Contains(err.Error(), "create the tree") {
		t.Errorf("GitHub failing to make the tree: %v, want a retryable error saying so", err)
	}
}

func TestReleasesGitHubPullRequests(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	const head = "fivesafes/release-1"
	s.repo.Commit(head, map[string]string{"releases/1/manifest.json": "{}"}, "manifest")
	s.repo.Commit("develop", map[string]string{"d": "1"}, "develop")
	s.repo.Fork("ben").Commit(head, map[string]string{"releases/1/manifest.json": `{"ben":1}`}, "a fork's branch of the same name")
	forkPR, _ := s.repo.OpenPR("ben:"+head, "main", "Not the bot's", "ben")
	otherBase, _ := s.repo.OpenPR(head, "develop", "Into develop", "ana")

	if n, found, err := gh.FindPullRequest(t.Context(), s.ref, head, "main"); err != nil || found {
		t.Fatalf("before it is opened: FindPullRequest = %d, %v, %v; want none (not #%d from a fork, nor #%d into develop)", n, found, err, forkPR, otherBase)
	}
	n, err := gh.CreatePullRequest(t.Context(), s.ref, head, "main", "Release 1", "Manifest of release 1")
	if err != nil {
		t.Fatal(err)
	}
	pr, ok := s.repo.PullRequest(n)
	if !ok || pr.Title != "Release 1" || pr.Body != "Manifest of release 1" || pr.User != ghemu.AppLogin ||
		pr.HeadRef != head || pr.HeadRepo != "ana/study" || pr.BaseRef != "main" || pr.State != "open" {
		t.Errorf("opened %+v", pr)
	}
	if got, found, err := gh.FindPullRequest(t.Context(), s.ref, head, "main"); err != nil || !found || got != n {
		t.Errorf("FindPullRequest = %d, %v, %v; want #%d", got, found, err, n)
	}
	_, err = gh.CreatePullRequest(t.Context(), s.ref, head, "main", "Release 1", "again")
	if err == nil || Retryable(err) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second one: %v, want GitHub's refusal", err)
	}

	for range 2 { // closing a closed one is fine
		if err := gh.ClosePullRequest(t.Context(), s.ref, n); err != nil {
			t.Fatal(err)
		}
	}
	if pr, _ := s.repo.PullRequest(n); pr.State != "closed" {
		t.Errorf("state %s after ClosePullRequest", pr.State)
	}
	if got, found, err := gh.FindPullRequest(t.Context(), s.ref, head, "main"); err != nil || found {
		t.Errorf("after closing: FindPullRequest = %d, %v, %v; want none", got, found, err)
	}
	if pr, _ := s.repo.PullRequest(otherBase); pr.State != "open" {
		t.Errorf("the pull request into develop is %s, want open", pr.State)
	}
	err = gh.ClosePullRequest(t.Context(), s.ref, 999)
	if err == nil || Retryable(err) || !strings.Contains(err.Error(), "ana/study#999") {
		t.Errorf("closing a missing pull request: %v, want a 404 naming it", err)
	}
}

func TestReleasesGitHubRequestReviewers(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	s.emu.AddTeamMember("ana", "output-checkers", "cat")
	s.emu.AddTeamMember("ana", "senior-checkers", "eve")
	s.repo.SetPermission("dan", "write")
	s.emu.AddUser("stranger")
	s.repo.Commit("fivesafes/release-1", map[string]string{"releases/1/manifest.json": "{}"}, "manifest")
	n, err := gh.CreatePullRequest(t.Context(), s.ref, "fivesafes/release-1", "main", "Release 1", "")
	if err != nil {
		t.Fatal(err)
	}
	const requests = "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"

	if err := gh.RequestReviewers(t.Context(), s.ref, n, []string{"dan", "cat"}, []string{"ana/output-checkers"}); err != nil {
		t.Fatal(err)
	}
	// Again, with a team named without its organisation.
	if err := gh.RequestReviewers(t.Context(), s.ref, n, []string{"dan"}, []string{"output-checkers", "senior-checkers"}); err != nil {
		t.Errorf("asking again: %v", err)
	}
	pr, _ := s.repo.PullRequest(n)
	if !slices.Equal(pr.RequestedReviewers, []string{"dan", "cat"}) || !slices.Equal(pr.RequestedTeams, []string{"output-checkers", "senior-checkers"}) {
		t.Errorf("requested %v and teams %v; want [dan cat] and [output-checkers senior-checkers]", pr.RequestedReviewers, pr.RequestedTeams)
	}

	sent := s.emu.Requests("POST", requests)
	if err := gh.RequestReviewers(t.Context(), s.ref, n, nil, []string{}); err != nil {
		t.Errorf("nobody to ask: %v", err)
	}
	if err := gh.RequestReviewers(t.Context(), s.ref, n, nil, []string{"elsewhere/checkers"}); err == nil || !strings.Contains(err.Error(), "elsewhere/checkers") {
		t.Errorf("a team of another organisation: %v, want an error naming it", err)
	}
	if got := s.emu.Requests("POST", requests); got != sent {
		t.Errorf("%d requests for nobody or an impossible team, want none", got-sent)
	}
	if err := gh.RequestReviewers(t.Context(), s.ref, n, []string{"stranger"}, nil); err == nil || Retryable(err) || !strings.Contains(err.Error(), "stranger") {
		t.Errorf("a user who is no collaborator: %v, want GitHub's refusal naming them", err)
	}
}

func TestReleasesGitHubReviewsOldestFirst(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	n, sha := s.openStudyPR("fivesafes/release-1", map[string]string{"releases/1/manifest.json": "{}"})
	s.repo.Review(n, "cat", "CHANGES_REQUESTED", "Round the counts")
	sha2 := s.repo.Push("fivesafes/release-1", map[string]string{"releases/1/manifest.json": `{"rounded":true}`})
	s.repo.Review(n, "cat", "APPROVED", "")
	s.repo.Review(n, "dan", "APPROVED", "")

	got, err := gh.Reviews(t.Context(), s.ref, n)
	if err != nil {
		t.Fatal(err)
	}
	want := []release.Review{
		{User: "cat", State: "CHANGES_REQUESTED", CommitID: sha},
		{User: "cat", State: "APPROVED", CommitID: sha2},
		{User: "dan", State: "APPROVED", CommitID: sha2},
	}
	if len(got) != len(want) {
		t.Fatalf("Reviews = %+v, want %+v", got, want)
	}
	for i, r := range got {
		if r.User != want[i].User || r.State != want[i].State || r.CommitID != want[i].CommitID || r.SubmittedAt.IsZero() ||
			(i > 0 && r.SubmittedAt.Before(got[i-1].SubmittedAt)) {
			t.Errorf("review %d = %+v, want %+v, submitted after the one before", i, r, want[i])
		}
	}
}

func TestReleasesGitHubTeamMember(t *testing.T) {
	t.Parallel()
	s, gh := startReleasesEmu(t)
	s.emu.AddTeamMember("ana", "output-checkers", "cat")
	s.emu.AddTeamMember("ana", "output-checkers", "dan")
	s.emu.RemoveTeamMember("ana", "output-checkers", "dan")
	s.emu.InviteTeamMember("ana", "output-checkers", "eve")
	s.emu.AddTeamMember("elsewhere", "output-checkers", "fay")
	cases := map[string]struct {
		org, team, user string
		want            bool
	}{
		"an active member":                {"ana", "output-checkers", "cat", true},
		"logins are not case-sensitive":   {"ana", "output-checkers", "CAT", true},
		"a former member":                 {"ana", "output-checkers", "dan", false},
		"invited, not yet joined":         {"ana", "output-checkers", "eve", false},
		"never a member":                  {"ana", "output-checkers", "ben", false},
		"no such team":                    {"ana", "checkers", "cat", false},
		"a team the app cannot see (404)": {"elsewhere", "output-checkers", "fay", false},
	}
	for name, tc := range cases {
		got, err := gh.TeamMember(t.Context(), s.ref, tc.org, tc.team, tc.user)
		if err != nil || got != tc.want {
			t.Errorf("%s: TeamMember(%s/%s, %s) = %v, %v; want %v", name, tc.org, tc.team, tc.user, got, err, tc.want)
		}
	}
	s.emu.Fail("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", 10, http.StatusServiceUnavailable)
	if _, err := gh.TeamMember(t.Context(), s.ref, "ana", "output-checkers", "cat"); !Retryable(err) || !strings.Contains(err.Error(), "cat's membership of ana/output-checkers") {
		t.Errorf("GitHub down: %v, want a retryable error saying what failed", err)
	}
}
