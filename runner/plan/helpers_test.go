package plan

import (
	"strings"
	"testing"

	"github.com/fivesafes/fivesafes/checks"
)

// act is an action with one highly sensitive output; run is its whole run
// line, split on spaces.
func act(name, run string, needs ...string) checks.Action {
	return checks.Action{
		Name:     name,
		Run:      run,
		RunParts: strings.Fields(run),
		Needs:    needs,
		Outputs: []checks.OutputGroup{{
			Level:   checks.HighlySensitive,
			Outputs: []checks.Output{{Name: "out", Path: "output/" + name + ".csv"}},
		}},
	}
}

func pipeline(actions ...checks.Action) *checks.Pipeline {
	return &checks.Pipeline{Version: 5, Actions: actions}
}

// chain is the usual study: extract, then prepare, then model.
func chain() *checks.Pipeline {
	return pipeline(
		act("generate_dataset", "ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz"),
		act("prepare", "python:v2 analysis/prepare.py --input=output/dataset.csv.gz", "generate_dataset"),
		act("model", "r:v2 analysis/model.R", "prepare"),
	)
}

// tree is the head commit's files for chain.
func tree() map[string]string {
	return map[string]string{
		"project.yaml":                   "blob-yaml",
		"analysis/dataset_definition.py": "blob-dd-1",
		"analysis/prepare.py":            "blob-prep-1",
		"analysis/model.R":               "blob-model-1",
		"README.md":                      "blob-readme",
	}
}

// with returns a copy of files with some blobs changed: path, blob, ...
func with(files map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// history is what a workspace ran before: each job recorded the
// fingerprint of its action at (p, files). Job IDs read "job-ACTION".
type history struct {
	prints map[string]Fingerprint
	jobs   map[string]PriorJob
}

func ranAt(t *testing.T, p *checks.Pipeline, files map[string]string) *history {
	t.Helper()
	prints, err := Fingerprints(p, files)
	if err != nil {
		t.Fatal(err)
	}
	return &history{prints: prints, jobs: map[string]PriorJob{}}
}

func (h *history) job(state JobState, actions ...string) *history {
	for _, a := range actions {
		h.jobs[a] = PriorJob{ID: "job-" + a, State: state, Fingerprint: h.prints[a]}
	}
	return h
}

func (h *history) succeeded(actions ...string) *history { return h.job(Succeeded, actions...) }
func (h *history) failed(actions ...string) *history    { return h.job(Failed, actions...) }
func (h *history) pending(actions ...string) *history   { return h.job(Pending, actions...) }
func (h *history) running(actions ...string) *history   { return h.job(Running, actions...) }

// lines renders a plan as "action decision" in plan order.
func lines(p Plan) []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Action + " " + string(s.Decision)
	}
	return out
}

func mustMake(t *testing.T, req Request) Plan {
	t.Helper()
	p, err := Make(req)
	if err != nil {
		t.Fatalf("Make: %v", err)
	}
	return p
}

func step(t *testing.T, p Plan, action string) Step {
	t.Helper()
	s, ok := p.Step(action)
	if !ok {
		t.Fatalf("no step for %s in %q", action, lines(p))
	}
	return s
}
