package app

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/ghemu"
)

// The go-github adapter against the GitHub emulator, which checks every
// request against GitHub's REST description.

const runsInstallation = 77

// runsEmu is an emulator with the app (testAppID, testAppKeyPEM) installed
// on ana's account, ana/study, and an adapter acting as the installation.
type runsEmu struct {
	emu  *ghemu.Emulator
	repo *ghemu.Repo
	ref  checks.Repo
	gh   *RunsGitHub
}

func startRunsEmu(t *testing.T, opts ...RunsGitHubOption) *runsEmu {
	t.Helper()
	block, _ := pem.Decode(testAppKeyPEM())
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	emu := ghemu.New(
		ghemu.WithAppKey(&key.PublicKey, testAppID),
		ghemu.WithSpecFailure(func(err error) { t.Errorf("request GitHub would reject: %v", err) }),
	)
	t.Cleanup(emu.Close)
	emu.AddInstallation(runsInstallation, "ana")
	s := &runsEmu{
		emu:  emu,
		repo: emu.CreateRepo("ana", "study", ghemu.Private()),
		ref:  checks.Repo{InstallationID: runsInstallation, Owner: "ana", Name: "study"},
	}
	s.gh = NewRunsGitHub(emuClients(t, emu.URL()+"/"), opts...)
	return s
}

func emuClients(t *testing.T, apiURL string, opts ...ClientOption) *ClientFactory {
	t.Helper()
	opts = append([]ClientOption{
		WithRetryWait(time.Millisecond, 5*time.Millisecond),
		WithClientLogger(slog.New(slog.NewTextHandler(t.Output(), nil))),
	}, opts...)
	f, err := NewClientFactory(testAppID, testAppKeyPEM(), apiURL, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// openStudyPR commits files on branch and has ana open a pull request.
func (s *runsEmu) openStudyPR(branch string, files map[string]string) (int, string) {
	s.repo.Commit(branch, files, "study")
	return s.repo.OpenPR(branch, "main", "Study", "ana")
}

func TestRunsGitHubPullRequest(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	n, sha := s.openStudyPR("cohort", map[string]string{"project.yaml": "version: '4.0'\n"})
	s.repo.Fork("ben").Commit("fix", map[string]string{"a.py": "print(2)\n"}, "fix")
	forkN, forkSHA := s.repo.OpenPR("ben:fix", "main", "Fix", "ben")
	s.repo.ClosePR(forkN, "ben")

	cases := map[string]struct {
		number int
		want   PullRequest
		fork   bool
	}{
		"from a branch":       {n, PullRequest{Number: n, Open: true, Author: "ana", HeadSHA: sha, HeadRef: "cohort", HeadRepo: "ana/study", BaseRepo: "ana/study", BaseRef: "main"}, false},
		"closed, from a fork": {forkN, PullRequest{Number: forkN, Open: false, Author: "ben", HeadSHA: forkSHA, HeadRef: "fix", HeadRepo: "ben/study", BaseRepo: "ana/study", BaseRef: "main"}, true},
	}
	for name, tc := range cases {
		got, err := s.gh.PullRequest(t.Context(), s.ref, tc.number)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != tc.want || got.Fork() != tc.fork {
			t.Errorf("%s: PullRequest = %+v (fork %v)\nwant %+v (fork %v)", name, got, got.Fork(), tc.want, tc.fork)
		}
	}

	_, err := s.gh.PullRequest(t.Context(), s.ref, 999)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusNotFound || Retryable(err) || !strings.Contains(err.Error(), "ana/study#999") {
		t.Errorf("missing pull request: err = %v, want a 404 naming ana/study#999, not retryable", err)
	}
}

func TestRunsGitHubMergeable(t *testing.T) {
	t.Parallel()
	const pullPath = "/repos/{owner}/{repo}/pulls/{pull_number}"
	cases := map[string]struct {
		set           func(r *ghemu.Repo, n int)
		mergeable     bool
		known         bool
		reads         int
		wantReadsSent int
	}{
		"clean":                         {set: func(*ghemu.Repo, int) {}, mergeable: true, known: true, reads: 4, wantReadsSent: 1},
		"conflict":                      {set: func(r *ghemu.Repo, n int) { r.SetMergeable(n, false) }, known: true, reads: 4, wantReadsSent: 1},
		"computed on the third read":    {set: func(r *ghemu.Repo, n int) { r.MergeableUnknown(n, 2) }, mergeable: true, known: true, reads: 4, wantReadsSent: 3},
		"still computing after 3 reads": {set: func(r *ghemu.Repo, n int) { r.MergeableUnknown(n, 10) }, reads: 3, wantReadsSent: 3},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startRunsEmu(t, WithMergeablePolls(tc.reads, time.Millisecond))
			n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
			tc.set(s.repo, n)
			m, known, err := s.gh.Mergeable(t.Context(), s.ref, n)
			if err != nil || m != tc.mergeable || known != tc.known {
				t.Errorf("Mergeable = %v, %v, %v; want %v, %v", m, known, err, tc.mergeable, tc.known)
			}
			if got := s.emu.Requests("GET", pullPath); got != tc.wantReadsSent {
				t.Errorf("%d reads of the pull request, want %d", got, tc.wantReadsSent)
			}
		})
	}

	t.Run("gives up when the context ends", func(t *testing.T) {
		t.Parallel()
		s := startRunsEmu(t, WithMergeablePolls(4, time.Hour))
		n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
		s.repo.MergeableUnknown(n, 10)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			_ = s.emu.WaitFor(ctx, func() bool { return s.emu.Requests("GET", pullPath) >= 1 })
			cancel()
		}()
		_, known, err := s.gh.Mergeable(ctx, s.ref, n)
		if known || !errors.Is(err, context.Canceled) {
			t.Errorf("Mergeable = known %v, %v; want context.Canceled", known, err)
		}
		if got := s.emu.Requests("GET", pullPath); got != 1 {
			t.Errorf("%d reads, want 1", got)
		}
	})
}

func TestRunsGitHubPermission(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	for user, role := range map[string]string{"mo": "maintain", "wes": "write", "tri": "triage", "rea": "read"} {
		s.repo.SetPermission(user, role)
	}
	s.emu.AddUser("stranger")
	cases := map[string]string{
		"ana":      "admin", // the owner
		"mo":       "maintain",
		"wes":      "write",
		"tri":      "triage",
		"rea":      "read",
		"stranger": "none", // a user without a role on a private repository
		"nobody":   "none", // no such user: 404
	}
	for user, want := range cases {
		got, err := s.gh.Permission(t.Context(), s.ref, user)
		if err != nil || got != want {
			t.Errorf("Permission(%s) = %q, %v; want %q", user, got, err, want)
		}
	}

	s.emu.CreateRepo("ana", "open-study")
	got, err := s.gh.Permission(t.Context(), checks.Repo{InstallationID: runsInstallation, Owner: "ana", Name: "open-study"}, "stranger")
	if err != nil || got != "read" {
		t.Errorf("Permission on a public repository = %q, %v; want read", got, err)
	}
}

func TestPermissionRole(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ roleName, permission, want string }{
		"admin":                        {"admin", "admin", "admin"},
		"maintain shows as write":      {"maintain", "write", "maintain"},
		"write":                        {"write", "write", "write"},
		"triage shows as read":         {"triage", "read", "triage"},
		"read":                         {"read", "read", "read"},
		"none":                         {"none", "none", "none"},
		"custom role based on write":   {"data-steward", "write", "write"},
		"custom role based on admin":   {"security-lead", "admin", "admin"},
		"custom role based on read":    {"auditor", "read", "read"},
		"no role name: legacy field":   {"", "write", "write"},
		"unknown legacy value":         {"auditor", "pull", "none"},
		"nothing at all":               {"", "", "none"},
		"role name wins over legacy":   {"triage", "write", "triage"},
		"custom role without any base": {"viewer", "none", "none"},
	}
	for name, tc := range cases {
		if got := permissionRole(tc.roleName, tc.permission); got != tc.want {
			t.Errorf("%s: permissionRole(%q, %q) = %q, want %q", name, tc.roleName, tc.permission, got, tc.want)
		}
	}
}

func TestRunsGitHubReviewsAllPagesOldestFirst(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	n, sha := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
	s.repo.Review(n, "ben", "CHANGES_REQUESTED", "fix the cohort")
	for i := range 100 {
		s.repo.Review(n, fmt.Sprintf("r%d", i), "COMMENTED", "looks fine")
	}
	sha2 := s.repo.Push("cohort", map[string]string{"a.py": "2\n"})
	s.repo.Review(n, "ben", "APPROVED", "")

	got, err := s.gh.Reviews(t.Context(), s.ref, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 102 {
		t.Fatalf("%d reviews, want 102", len(got))
	}
	first, last := got[0], got[101]
	if first.User != "ben" || first.State != "CHANGES_REQUESTED" || first.CommitID != sha || first.SubmittedAt.IsZero() {
		t.Errorf("first review = %+v", first)
	}
	if last.User != "ben" || last.State != "APPROVED" || last.CommitID != sha2 || last.SubmittedAt.Before(first.SubmittedAt) {
		t.Errorf("last review = %+v", last)
	}
	if got := s.emu.Requests("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"); got != 2 {
		t.Errorf("%d list requests, want 2 pages of 100", got)
	}
}

func gitBlobSHA(content string) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00%s", len(content), content)
	return hex.EncodeToString(h.Sum(nil))
}

func TestRunsGitHubTreeOfACommit(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	files := map[string]string{
		"project.yaml":                      "version: '4.0'\n",
		"analysis/dataset_definition.py":    "dataset = 1\n",
		"analysis/lib/deep/helpers.py":      "def f(): pass\n",
		"docs/my notes #1.md":               "notes\n",
		"analysis/lib/deep/other helper.py": "x = 2\n",
	}
	sha := s.repo.Commit("cohort", files, "study")

	got, truncated, err := s.gh.Tree(t.Context(), s.ref, sha)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"README.md": gitBlobSHA("# study\n")}
	for p, content := range files {
		want[p] = gitBlobSHA(content)
	}
	if truncated || !maps.Equal(got, want) {
		t.Errorf("Tree = %v (truncated %v)\nwant %v", got, truncated, want)
	}
}

// recordingTransport is a base transport that records what goes on the
// wire: below the auth layer, so it sees the Authorization header sent.
type recordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []wireRequest
}

type wireRequest struct{ Host, Path, Auth string }

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.sent = append(rt.sent, wireRequest{Host: req.URL.Host, Path: req.URL.Path, Auth: req.Header.Get("Authorization")})
	rt.mu.Unlock()
	return rt.next.RoundTrip(req)
}

func (rt *recordingTransport) requests() []wireRequest {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.sent)
}

// untarFiles reads a gzip'd tar into name -> content for regular files.
func untarFiles(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[h.Name] = string(b)
		}
	}
}

func TestRunsGitHubTarball(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	sha := s.repo.Commit("cohort", map[string]string{"analysis/a.py": "print(1)\n"}, "study")
	s.repo.Commit("cohort", map[string]string{"analysis/a.py": "print(2)\n"}, "later")
	prefix := "ana-study-" + sha[:7] + "/"

	// The emulator's API and its codeload share a host and port, so the
	// client follows the redirect itself. Named "localhost", the API is on
	// another host than codeload's 127.0.0.1 link, as api.github.com is
	// than codeload.github.com: then the adapter fetches the link itself.
	port := strings.TrimPrefix(s.emu.URL(), "http://127.0.0.1:")
	for name, apiURL := range map[string]string{
		"redirect on the API's host": s.emu.URL() + "/",
		"redirect to another host":   "http://localhost:" + port + "/",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wire := &recordingTransport{next: http.DefaultTransport}
			gh := NewRunsGitHub(emuClients(t, apiURL, WithBaseTransport(wire)))
			body, err := gh.Tarball(t.Context(), s.ref, sha)
			if err != nil {
				t.Fatal(err)
			}
			files := untarFiles(t, body)
			if err := body.Close(); err != nil {
				t.Error(err)
			}
			want := map[string]string{prefix + "README.md": "# study\n", prefix + "analysis/a.py": "print(1)\n"}
			if !maps.Equal(files, want) {
				t.Errorf("tarball files = %v, want %v", files, want)
			}
			var sawCodeload bool
			for _, w := range wire.requests() {
				apiHost := strings.TrimSuffix(strings.TrimPrefix(apiURL, "http://"), "/")
				if w.Host != apiHost && w.Auth != "" {
					t.Errorf("credentials sent to %s%s, not the API's host %s", w.Host, w.Path, apiHost)
				}
				if strings.Contains(w.Path, "/tarball/") && w.Auth == "" {
					t.Errorf("API request %s without credentials", w.Path)
				}
				sawCodeload = sawCodeload || strings.Contains(w.Path, "legacy.tar.gz")
			}
			if !sawCodeload {
				t.Errorf("no archive download on the wire: %+v", wire.requests())
			}
		})
	}

	t.Run("missing commit", func(t *testing.T) {
		t.Parallel()
		_, err := s.gh.Tarball(t.Context(), s.ref, strings.Repeat("0", 40))
		var er *github.ErrorResponse
		if !errors.As(err, &er) || er.Response.StatusCode != http.StatusNotFound || Retryable(err) {
			t.Errorf("err = %v, want a 404 that is not retryable", err)
		}
	})
}

func TestRunsGitHubReactTwiceIsFine(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
	id := s.repo.Comment(n, "ana", "/run all")
	for _, content := range []string{"eyes", "eyes", "rocket"} {
		if err := s.gh.React(t.Context(), s.ref, id, content); err != nil {
			t.Fatalf("React(%s): %v", content, err)
		}
	}
	if got := s.repo.Reactions(id); !slices.Equal(got, []string{"eyes", "rocket"}) {
		t.Errorf("reactions = %v, want [eyes rocket]", got)
	}
	if err := s.gh.React(t.Context(), s.ref, 1, "eyes"); err == nil || Retryable(err) {
		t.Errorf("reaction to a missing comment: err = %v, want a 404", err)
	}
}

func TestRunsGitHubCreateAndUpdateComment(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
	id, err := s.gh.CreateComment(t.Context(), s.ref, n, "Run 1: queued")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.gh.UpdateComment(t.Context(), s.ref, id, "Run 1: running"); err != nil {
		t.Fatal(err)
	}
	got := s.repo.Comments(n)
	if len(got) != 1 || got[0].ID != id || got[0].User != ghemu.AppLogin || got[0].Body != "Run 1: running" || got[0].Edits != 1 {
		t.Errorf("comments = %+v, want the app's one comment, edited once", got)
	}
}

func TestRunsGitHubFindComment(t *testing.T) {
	t.Parallel()
	const marker = "<!-- fivesafes:status -->"
	t.Run("the app's newest, not others' with the marker", func(t *testing.T) {
		t.Parallel()
		s := startRunsEmu(t)
		n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
		older, _ := s.gh.CreateComment(t.Context(), s.ref, n, marker+"\nRun 1")
		newer, _ := s.gh.CreateComment(t.Context(), s.ref, n, marker+"\nRun 2")
		s.repo.Comment(n, "ana", "copied: "+marker)
		s.repo.BotComment(n, "dependabot", marker)
		if _, err := s.gh.CreateComment(t.Context(), s.ref, n, "no marker here"); err != nil {
			t.Fatal(err)
		}
		id, found, err := s.gh.FindComment(t.Context(), s.ref, n, marker)
		if err != nil || !found || id != newer {
			t.Errorf("FindComment = %d, %v, %v; want %d (not the older %d)", id, found, err, newer, older)
		}
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		s := startRunsEmu(t)
		n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
		s.repo.Comment(n, "ana", marker)
		s.repo.BotComment(n, "dependabot", marker)
		id, found, err := s.gh.FindComment(t.Context(), s.ref, n, marker)
		if err != nil || found {
			t.Errorf("FindComment = %d, %v, %v; want none", id, found, err)
		}
	})
	t.Run("the app's bot user when GitHub does not name the app", func(t *testing.T) {
		t.Parallel()
		s := startRunsEmu(t)
		n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
		want := s.repo.BotComment(n, "fivesafes", marker+"\nRun 1")
		s.repo.BotComment(n, "dependabot", marker)
		for range 2 {
			id, found, err := s.gh.FindComment(t.Context(), s.ref, n, marker)
			if err != nil || !found || id != want {
				t.Errorf("FindComment = %d, %v, %v; want %d", id, found, err, want)
			}
		}
		if got := s.emu.Requests("GET", "/app"); got != 1 {
			t.Errorf("asked GitHub for the app's slug %d times, want once", got)
		}
	})
	t.Run("on a later page", func(t *testing.T) {
		t.Parallel()
		s := startRunsEmu(t, WithAppSlug("fivesafes"))
		n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
		first, _ := s.gh.CreateComment(t.Context(), s.ref, n, marker+"\nRun 1")
		for i := range 120 {
			s.repo.Comment(n, "ana", fmt.Sprintf("comment %d", i))
		}
		want, _ := s.gh.CreateComment(t.Context(), s.ref, n, marker+"\nRun 2")
		id, found, err := s.gh.FindComment(t.Context(), s.ref, n, marker)
		if err != nil || !found || id != want {
			t.Errorf("FindComment = %d, %v, %v; want %d (not %d on page 1)", id, found, err, want, first)
		}
		if got := s.emu.Requests("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"); got != 2 {
			t.Errorf("%d list requests, want 2 pages of 100", got)
		}
	})
}

func TestRunsGitHubRemoveLabel(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	n, _ := s.openStudyPR("cohort", map[string]string{"a.py": "1\n"})
	labels := []string{"fivesafes:run-all", "needs review", "area/ethics", "keep"}
	for _, l := range labels {
		s.repo.LabelPR(n, l, "ana")
	}
	for _, l := range labels[:3] {
		if err := s.gh.RemoveLabel(t.Context(), s.ref, n, l); err != nil {
			t.Errorf("RemoveLabel(%q): %v", l, err)
		}
	}
	if err := s.gh.RemoveLabel(t.Context(), s.ref, n, "fivesafes:run-all"); err != nil {
		t.Errorf("removing a label that is gone: %v", err)
	}
	if got := s.repo.Labels(n); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("labels = %v, want [keep]", got)
	}
}

func TestRunsGitHubUpdateCheckRunActions(t *testing.T) {
	t.Parallel()
	s := startRunsEmu(t)
	sha := s.repo.Commit("cohort", map[string]string{"a.py": "1\n"}, "study")
	id, err := s.gh.CreateCheckRun(t.Context(), s.ref, checks.NewCheckRun{Name: "fivesafes / run #1", HeadSHA: sha, Status: "in_progress"})
	if err != nil {
		t.Fatal(err)
	}
	buttons := []checks.CheckRunAction{
		{Label: "Cancel", Description: "Cancel the jobs of this run", Identifier: "cancel"},
		{Label: "Re-run failed", Description: "Run the failed actions again", Identifier: "rerun-failed"},
	}
	want := []ghemu.CheckRunAction{
		{Label: "Cancel", Description: "Cancel the jobs of this run", Identifier: "cancel"},
		{Label: "Re-run failed", Description: "Run the failed actions again", Identifier: "rerun-failed"},
	}
	steps := []struct {
		name string
		upd  checks.CheckRunUpdate
		want []ghemu.CheckRunAction
	}{
		{"set", checks.CheckRunUpdate{Status: "in_progress", Actions: buttons}, want},
		{"nil leaves them", checks.CheckRunUpdate{Output: &checks.CheckRunOutput{Title: "2 jobs", Summary: "running"}}, want},
		{"empty removes them", checks.CheckRunUpdate{Status: "completed", Conclusion: "success", Actions: []checks.CheckRunAction{}}, nil},
	}
	for _, step := range steps {
		if err := s.gh.UpdateCheckRun(t.Context(), s.ref, id, step.upd); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		run, _ := s.emu.CheckRun(id)
		if !reflect.DeepEqual(run.Actions, step.want) {
			t.Errorf("%s: buttons = %+v, want %+v", step.name, run.Actions, step.want)
		}
	}
	run, _ := s.emu.CheckRun(id)
	if run.Conclusion != "success" || run.Output.Title != "2 jobs" || run.Updates != 3 {
		t.Errorf("run = %+v", run)
	}
}

func TestRunsGitHubPullRequestFromADeletedFork(t *testing.T) {
	t.Parallel()
	// The emulator cannot delete a fork; GitHub then sends head.repo null.
	g := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, `{"number":5,"state":"open","user":{"login":"ben"},
			"head":{"sha":"`+testSHA+`","ref":"fix","repo":null},
			"base":{"sha":"`+testSHA+`","ref":"main","repo":{"full_name":"octo/study"}}}`)
	})
	f, _ := newTestClients(t, g)
	got, err := NewRunsGitHub(f).PullRequest(t.Context(), testRepo, 5)
	want := PullRequest{Number: 5, Open: true, Author: "ben", HeadSHA: testSHA, HeadRef: "fix", BaseRepo: "octo/study", BaseRef: "main"}
	if err != nil || got != want || !got.Fork() {
		t.Errorf("PullRequest = %+v, %v (fork %v); want %+v, a fork", got, err, got.Fork(), want)
	}
}
