package ghemu_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
)

func TestRequestCountsListEveryRequestByOperation(t *testing.T) {
	emu, repo, _ := startRecording(t) // the unknown path is a spec failure, on purpose
	gh := client(t, emu)
	ctx := context.Background()
	for range 2 {
		if _, _, err := gh.Repositories.Get(ctx, "ana", "study"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := gh.Git.GetTree(ctx, "ana", "study", repo.Head("main"), true); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(emu.URL() + "/repos/ana/study/nonsense"); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	got := emu.RequestCounts()
	want := map[string]int{
		"POST /app/installations/{installation_id}/access_tokens": 1,
		"GET /repos/{owner}/{repo}":                               2,
		"GET /repos/{owner}/{repo}/git/trees/{tree_sha}":          1,
		"GET /repos/ana/study/nonsense":                           1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("RequestCounts() = %v\nwant %v", got, want)
	}
	for key, n := range got {
		method, path, _ := strings.Cut(key, " ")
		if m := emu.Requests(method, path); m != n {
			t.Errorf("%s: RequestCounts says %d, Requests %d", key, n, m)
		}
	}

	got["GET /repos/{owner}/{repo}"] = 100
	if n := emu.Requests("GET", "/repos/{owner}/{repo}"); n != 2 {
		t.Errorf("changing the map changed the emulator's count to %d", n)
	}
}
