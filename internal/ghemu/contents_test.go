package ghemu_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

func TestContents(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	ctx := context.Background()
	big := strings.Repeat("x", 1<<20+1)
	sha := repo.Commit("feature", map[string]string{
		"project.yaml":     "version: '4.0'\n",
		"analysis/a.py":    "print('a')\n",
		"analysis/big.csv": big,
		"README.md":        ghemu.Deleted,
	}, "Add study")

	t.Run("file as JSON", func(t *testing.T) {
		fc, _, _, err := gh.Repositories.GetContents(ctx, "ana", "study", "project.yaml", &github.RepositoryContentGetOptions{Ref: sha})
		if err != nil {
			t.Fatal(err)
		}
		got, err := fc.GetContent()
		if err != nil || got != "version: '4.0'\n" || fc.GetEncoding() != "base64" || fc.GetSize() != 15 {
			t.Errorf("content %q (%v), encoding %q, size %d", got, err, fc.GetEncoding(), fc.GetSize())
		}
		// Git's blob ID of the content, as `git hash-object` computes it.
		if want := "526c0ad935f6a4aaf5bcf871a1dbcbd59df19ff7"; fc.GetSHA() != want {
			t.Errorf("sha %s, want %s", fc.GetSHA(), want)
		}
	})

	t.Run("file as raw bytes", func(t *testing.T) {
		for _, accept := range []string{"application/vnd.github.raw", "application/vnd.github.raw+json", "application/vnd.github.v3.raw"} {
			req, err := gh.NewRequest(ctx, http.MethodGet, "repos/ana/study/contents/analysis/a.py?ref=feature", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", accept)
			var buf bytes.Buffer
			if _, err := gh.Do(req, &buf); err != nil {
				t.Fatalf("%s: %v", accept, err)
			}
			if buf.String() != "print('a')\n" {
				t.Errorf("%s: got %q", accept, buf.String())
			}
		}
	})

	t.Run("over 1 MB the JSON form has no content", func(t *testing.T) {
		fc, _, _, err := gh.Repositories.GetContents(ctx, "ana", "study", "analysis/big.csv", &github.RepositoryContentGetOptions{Ref: sha})
		if err != nil {
			t.Fatal(err)
		}
		if fc.GetEncoding() != "none" || deref(fc.Content) != "" || fc.GetSize() != len(big) {
			t.Errorf("encoding %q, content %d bytes, size %d", fc.GetEncoding(), len(deref(fc.Content)), fc.GetSize())
		}
		rc, _, err := gh.Repositories.DownloadContents(ctx, "ana", "study", "analysis/big.csv", &github.RepositoryContentGetOptions{Ref: sha})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if b, _ := io.ReadAll(rc); len(b) != len(big) {
			t.Errorf("download_url gave %d bytes, want %d", len(b), len(big))
		}
	})

	t.Run("directory", func(t *testing.T) {
		_, dir, _, err := gh.Repositories.GetContents(ctx, "ana", "study", "analysis", &github.RepositoryContentGetOptions{Ref: sha})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range dir {
			names = append(names, c.GetType()+":"+c.GetPath())
		}
		if got := strings.Join(names, " "); got != "file:analysis/a.py file:analysis/big.csv" {
			t.Errorf("listing %s", got)
		}
	})

	t.Run("root directory", func(t *testing.T) {
		_, dir, _, err := gh.Repositories.GetContents(ctx, "ana", "study", "", &github.RepositoryContentGetOptions{Ref: sha})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range dir {
			names = append(names, c.GetType()+":"+c.GetPath())
		}
		if got := strings.Join(names, " "); got != "dir:analysis file:project.yaml" {
			t.Errorf("listing %s", got)
		}
	})

	t.Run("missing file, deleted file, unknown ref", func(t *testing.T) {
		for _, tc := range []struct{ path, ref string }{
			{"nope.yaml", sha}, {"README.md", sha}, {"project.yaml", "no-such-branch"},
		} {
			_, _, _, err := gh.Repositories.GetContents(ctx, "ana", "study", tc.path, &github.RepositoryContentGetOptions{Ref: tc.ref})
			er, ok := err.(*github.ErrorResponse)
			if !ok || er.Response.StatusCode != http.StatusNotFound || er.Message == "" || er.DocumentationURL == "" {
				t.Errorf("%s at %s: got %v, want GitHub's 404 JSON", tc.path, tc.ref, err)
			}
		}
		if got, ok := repo.File("main", "README.md"); !ok || got != "# study\n" {
			t.Errorf("main's README: %q %v", got, ok)
		}
	})
}

func TestPrivateRepositoriesOfOthersAreNotFound(t *testing.T) {
	emu, _ := start(t)
	emu.CreateRepo("ben", "secret", ghemu.Private())
	emu.CreateRepo("ben", "open")
	gh := client(t, emu)
	ctx := context.Background()
	if _, _, err := gh.Repositories.Get(ctx, "ben", "secret"); statusOf(err) != http.StatusNotFound {
		t.Errorf("ben/secret: %v, want 404", err)
	}
	r, _, err := gh.Repositories.Get(ctx, "ben", "open")
	if err != nil || r.GetFullName() != "ben/open" || r.GetDefaultBranch() != "main" {
		t.Errorf("ben/open: %v %v", r, err)
	}
	_, _, err = gh.Checks.CreateCheckRun(ctx, "ben", "open", github.CreateCheckRunOptions{Name: "x", HeadSHA: emu.Repo("ben/open").Head("main")})
	if statusOf(err) != http.StatusForbidden {
		t.Errorf("check run on ben/open: %v, want 403", err)
	}
}
