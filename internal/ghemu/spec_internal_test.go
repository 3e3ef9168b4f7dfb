package ghemu

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fivesafes/fivesafes/internal/ghemu/openapi"
)

// fullSpec is where GitHub's full description lives next to a checkout;
// a fresh clone without it skips the drift check.
const fullSpec = "../../../shared/github/api.github.com.json.gz"

// TestEmbeddedDescriptionIsUpToDate checks cheaply that the embedded
// description was generated from the full one next to this checkout and
// holds exactly openapi.Operations. (Regenerating it takes seconds.)
func TestEmbeddedDescriptionIsUpToDate(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(trimmedSpec))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Info  struct{ Description string }
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	if want := slices.Sorted(slices.Values(openapi.Operations)); !slices.Equal(ops, want) {
		t.Errorf("embedded operations %v\nwant %v: run `go generate` in internal/ghemu", ops, want)
	}

	gz, err := os.ReadFile(fullSpec)
	if err != nil {
		t.Skipf("no full description to compare with: %v", err)
	}
	if zr, err = gzip.NewReader(bytes.NewReader(gz)); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		t.Fatal(err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); !strings.Contains(doc.Info.Description, sum) {
		t.Errorf("embedded description was not generated from %s (sha256 %s): run `go generate` in internal/ghemu", fullSpec, sum)
	}
}

func TestRoutesCoverTheOperations(t *testing.T) {
	routes, err := loadRoutes()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != len(openapi.Operations) || len(routes) != len(handlers()) {
		t.Errorf("%d routes, %d operations, %d handlers", len(routes), len(openapi.Operations), len(handlers()))
	}
	t.Logf("embedded description: %d bytes gzipped, parsed in %v", len(trimmedSpec), specLoadTime())
}

func TestResponsesAreValidated(t *testing.T) {
	e := New()
	defer e.Close()
	e.AddInstallation(1, "ana")
	e.CreateRepo("ana", "study")
	rt, params, _ := e.findRoute("GET", "/repos/ana/study")
	r := httptest.NewRequest("GET", "/repos/ana/study", nil)
	e.mu.Lock()
	good := e.repoJSON(e.st.repos["ana/study"], true)
	e.mu.Unlock()
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	body, _ := json.Marshal(good)
	if err := validateResponse(r.Context(), rt, r, params, 200, h, body); err != nil {
		t.Errorf("the emulator's repository: %v", err)
	}
	delete(good, "default_branch")
	body, _ = json.Marshal(good)
	if err := validateResponse(r.Context(), rt, r, params, 200, h, body); err == nil {
		t.Errorf("a repository without default_branch passed validation")
	}
}

func TestRouteMatching(t *testing.T) {
	e := New()
	defer e.Close()
	cases := map[string]struct{ method, path, template, param, value string }{
		"nested contents path":     {"GET", "/repos/a/b/contents/dir/sub/f.yaml", "/repos/{owner}/{repo}/contents/{path}", "path", "dir/sub/f.yaml"},
		"annotations":              {"GET", "/repos/a/b/check-runs/12/annotations", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", "check_run_id", "12"},
		"check run":                {"PATCH", "/repos/a/b/check-runs/12", "/repos/{owner}/{repo}/check-runs/{check_run_id}", "check_run_id", "12"},
		"runs for a ref":           {"GET", "/repos/a/b/commits/main/check-runs", "/repos/{owner}/{repo}/commits/{ref}/check-runs", "ref", "main"},
		"escaped slash in a label": {"DELETE", "/repos/a/b/issues/1/labels/area%2Fethics", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", "name", "area/ethics"},
		"escaped contents path":    {"GET", "/repos/a/b/contents/my%20study/project%20%231.yaml", "/repos/{owner}/{repo}/contents/{path}", "path", "my study/project #1.yaml"},
	}
	for name, tc := range cases {
		rt, params, _ := e.findRoute(tc.method, tc.path)
		if rt == nil || rt.template != tc.template || params[tc.param] != tc.value {
			t.Errorf("%s: %v %v", name, rt, params)
		}
	}
	if rt, _, known := e.findRoute("DELETE", "/repos/a/b"); rt != nil || !known {
		t.Errorf("DELETE /repos/a/b: %v, path known %v", rt, known)
	}
}
