package agent

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/agentapi"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
)

// codeSource serves the same tarball for any commit.
type codeSource []byte

func (c codeSource) Tarball(context.Context, int64, string, string) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(c)), nil
}

// The agent against the bot's real agent API and job store: a two-action
// pipeline runs to the end.
func TestAgainstTheBotsAgentAPI(t *testing.T) {
	t.Parallel()
	st := jobs.New(jobstest.OpenDB(t))
	api, err := agentapi.New(st, []agentapi.Backend{{Name: "test", TokenSHA256: agentapi.HashToken(testToken)}},
		codeSource(studyCode(t)), agentapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	updated := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/update") {
			select {
			case updated <- struct{}{}:
			default:
			}
		}
	}))
	t.Cleanup(srv.Close)

	action := func(name, run string, out OutputGroup, needs ...string) checks.Action {
		g := checks.OutputGroup{Level: out.Level}
		for _, o := range out.Outputs {
			g.Outputs = append(g.Outputs, checks.Output{Name: o.Name, Path: o.Path})
		}
		return checks.Action{Name: name, Run: run, RunParts: strings.Fields(run), Needs: needs, Outputs: []checks.OutputGroup{g}}
	}
	p := &checks.Pipeline{Version: 4, Actions: []checks.Action{
		action("generate_dataset", "ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv",
			highly("dataset", "output/dataset.csv")),
		action("summary", "summary:v1 output/dataset.csv output/summary.csv",
			moderately("summary", "output/summary.csv"), "generate_dataset"),
	}}
	req, js := jobstest.Run(t, st, p, "test", "interop", "summary")
	if len(js) != 2 {
		t.Fatalf("planned %d jobs, want 2", len(js))
	}

	cfg := zoneFor(t, srv.URL)
	startAgent(t, cfg)
	ctx := testContext(t)
	timeout := time.After(20 * time.Second)
	for _, want := range js {
		for {
			j, err := st.Job(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.Finished() {
				if j.Status != jobs.Succeeded {
					t.Fatalf("job %s is %s (%s), want succeeded", j.Action, j.Status, j.Message)
				}
				break
			}
			select {
			case <-updated:
			case <-timeout:
				t.Fatalf("job %s is still %s (%s)", j.Action, j.Status, j.Message)
			}
		}
	}
	ws, err := WorkspaceDir(req.Workspace)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.MediumPrivacyDir, ws, "output", "summary.csv")); err != nil {
		t.Errorf("the summary is not in the medium privacy store: %v", err)
	}
}
