package ghemu_test

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v88/github"
)

// untar lists a gzipped tar: "name" for directories, "name=content" for
// files; the pax global header's comment comes first.
func untar(t *testing.T, r io.Reader) []string {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.PAXRecords["comment"] != "" && len(out) == 0 {
			out = append(out, "comment="+h.PAXRecords["comment"])
		}
		switch h.Typeflag {
		case tar.TypeDir:
			out = append(out, h.Name)
		case tar.TypeReg:
			b, _ := io.ReadAll(tr)
			out = append(out, h.Name+"="+string(b))
		}
	}
}

func TestTarball(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	ctx := t.Context()
	sha := repo.Commit("feature", map[string]string{"project.yaml": "version: '4.0'\n", "analysis/a.py": "print(1)\n"}, "study")
	prefix := "ana-study-" + sha[:7] + "/"
	want := strings.Join([]string{
		"comment=" + sha, prefix, "README.md=# study\n", prefix + "analysis/", prefix + "analysis/a.py=print(1)\n", prefix + "project.yaml=version: '4.0'\n",
	}, "\n")
	want = strings.Replace(want, "README.md", prefix+"README.md", 1)

	link, resp, err := gh.Repositories.GetArchiveLink(ctx, "ana", "study", github.Tarball, &github.RepositoryContentGetOptions{Ref: "feature"}, 0)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("archive link: %v %v", resp, err)
	}
	// The link needs no credentials, like codeload's.
	dl, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Body.Close()
	if dl.StatusCode != http.StatusOK || dl.Header.Get("Content-Type") != "application/x-gzip" {
		t.Fatalf("download: %s %v", dl.Status, dl.Header)
	}
	if got := strings.Join(untar(t, dl.Body), "\n"); got != want {
		t.Errorf("tarball\n%s\nwant\n%s", got, want)
	}
	if cd := dl.Header.Get("Content-Disposition"); !strings.Contains(cd, "ana-study-"+sha[:7]+".tar.gz") {
		t.Errorf("Content-Disposition %q", cd)
	}

	// A client that follows the redirect gets the tarball in one go; the
	// ref may be a SHA, and without one it is the default branch.
	for ref, wantSHA := range map[string]string{"/" + sha: sha, "": repo.Head("main")} {
		req, _ := gh.NewRequest(ctx, "GET", "repos/ana/study/tarball"+ref, nil)
		resp, err := gh.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("ref %q: %s", ref, resp.Status)
		}
		entries := untar(t, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(entries) == 0 || entries[0] != "comment="+wantSHA {
			t.Errorf("ref %q: %d, %v", ref, resp.StatusCode, entries)
		}
	}
	if _, _, err := gh.Repositories.GetArchiveLink(ctx, "ana", "study", github.Tarball, &github.RepositoryContentGetOptions{Ref: "nope"}, 0); err == nil {
		t.Error("archive of a missing ref: no error")
	}
}
