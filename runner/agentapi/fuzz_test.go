package agentapi

import (
	"encoding/json"
	"path"
	"strings"
	"testing"
)

// FuzzToUpdate: whatever an agent sends, reading it never panics, and what
// is accepted names only clean paths inside the workspace and known codes.
func FuzzToUpdate(f *testing.F) {
	for _, s := range []string{
		`{"attempt":1,"seq":1,"stage":"executing","status_code":"executing"}`,
		`{"attempt":1,"seq":4,"stage":"done","status_code":"succeeded","exit_code":0,"results":{"moderately_sensitive":[{"path":"output/a.csv","level":"moderately_sensitive","size":1,"sha256":"` + strings.Repeat("a", 64) + `"}]}}`,
		`{"attempt":1,"seq":2,"status_code":"unmatched_patterns","exit_code":0,"results":{"unmatched_patterns":["output/*.png"]}}`,
		`{"attempt":1,"seq":2,"status_code":"succeeded","results":{"moderately_sensitive":[{"path":"../../etc/passwd"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var u UpdateJSON
		if json.Unmarshal(body, &u) != nil {
			return
		}
		up, err := toUpdate(u)
		if err != nil {
			return
		}
		if up.Stage != "" && !up.Stage.IsStage() || up.Status != "" && !up.Status.IsOutcome() {
			t.Fatalf("accepted stage %q status %q", up.Stage, up.Status)
		}
		if up.Results == nil {
			return
		}
		for _, fr := range up.Results.Files {
			p := fr.Path
			if path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "\\") {
				t.Fatalf("accepted path %q", p)
			}
		}
	})
}
