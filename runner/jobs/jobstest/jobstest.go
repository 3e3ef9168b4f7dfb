// Package jobstest holds helpers for tests of job requests: a temporary
// database and a small study to plan.
package jobstest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/store"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// OpenDB opens a database in a temporary directory, closed when t ends.
func OpenDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "fivesafes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Action is an action with one moderately sensitive output; run is its
// whole run line, split on spaces.
func Action(name, run string, needs ...string) checks.Action {
	return checks.Action{
		Name: name, Run: run, RunParts: strings.Fields(run), Needs: needs,
		Outputs: []checks.OutputGroup{{
			Level:   checks.ModeratelySensitive,
			Outputs: []checks.Output{{Name: "out", Path: "output/" + name + ".csv"}},
		}},
	}
}

// Chain is the usual study: generate_dataset, then prepare, then model.
func Chain() *checks.Pipeline {
	return &checks.Pipeline{Version: 5, Actions: []checks.Action{
		Action("generate_dataset", "ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz"),
		Action("prepare", "python:v2 analysis/prepare.py", "generate_dataset"),
		Action("model", "r:v2 analysis/model.R", "prepare"),
	}}
}

// Files is the head commit's tree for Chain.
func Files() map[string]string {
	return map[string]string{
		"project.yaml":                   "blob-yaml",
		"analysis/dataset_definition.py": "blob-dd",
		"analysis/prepare.py":            "blob-prep",
		"analysis/model.R":               "blob-model",
	}
}

// Run plans actions of p (nil: Chain) on backend for a pull request of
// owner/study on branch "study" and creates the job request; trigger makes
// its ID.
func Run(t testing.TB, st *jobs.Store, p *checks.Pipeline, backend, trigger string, actions ...string) (jobs.Request, []jobs.Job) {
	t.Helper()
	ctx := context.Background()
	if p == nil {
		p = Chain()
	}
	ws := jobs.Workspace("owner/study", "study")
	latest, err := st.LatestJobs(ctx, ws, backend)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := plan.Make(plan.Request{Pipeline: p, Actions: actions, Files: Files(), Latest: latest})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRequest(ctx, jobs.Request{
		ID: jobs.RequestID("owner/study", 1, trigger), Repo: "owner/study", PR: 1, Workspace: ws,
		HeadSHA: strings.Repeat("a", 40), Backend: backend, Requester: "ana", Actions: actions,
	}, pl, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	js, err := st.Jobs(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r, js
}
