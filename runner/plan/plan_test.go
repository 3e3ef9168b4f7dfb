package plan

import (
	"errors"
	"slices"
	"testing"

	"github.com/fivesafes/fivesafes/checks"
)

func TestMake(t *testing.T) {
	p, files := chain(), tree()
	past := func() *history { return ranAt(t, p, files) }
	cases := map[string]struct {
		req  Request // Pipeline and Files default to chain and tree
		want []string
	}{
		"fresh workspace: the whole chain runs, dependencies first": {
			req:  Request{Actions: []string{"model"}},
			want: []string{"generate_dataset run", "prepare run", "model run"},
		},
		"requested action runs again; its succeeded dependency is reused and not looked past": {
			req:  Request{Actions: []string{"model"}, Latest: past().succeeded("generate_dataset", "prepare", "model").jobs},
			want: []string{"prepare reuse", "model run"},
		},
		"dependency whose last job failed runs again, pulling in its own dependencies": {
			req:  Request{Actions: []string{"model"}, Latest: past().succeeded("generate_dataset").failed("prepare").jobs},
			want: []string{"generate_dataset reuse", "prepare run", "model run"},
		},
		"--force-run-dependencies runs every dependency": {
			req:  Request{Actions: []string{"model"}, Force: true, Latest: past().succeeded("generate_dataset", "prepare").jobs},
			want: []string{"generate_dataset run", "prepare run", "model run"},
		},
		"pending dependency is waited on, and what it needs is not looked at": {
			req:  Request{Actions: []string{"model"}, Latest: past().pending("prepare").jobs},
			want: []string{"prepare wait", "model run"},
		},
		"--force-run-dependencies still waits for a running dependency": {
			req:  Request{Actions: []string{"model"}, Force: true, Latest: past().running("prepare").jobs},
			want: []string{"prepare wait", "model run"},
		},
		"requested action already running is waited on, not started twice": {
			req:  Request{Actions: []string{"model"}, Latest: past().running("model").jobs},
			want: []string{"model wait"},
		},
		"requested dependency runs even though it succeeded": {
			req:  Request{Actions: []string{"model", "generate_dataset"}, Latest: past().succeeded("generate_dataset", "prepare").jobs},
			want: []string{"generate_dataset run", "prepare reuse", "model run"},
		},
		"all requests every action": {
			req:  Request{All: true, Latest: past().succeeded("generate_dataset", "prepare", "model").jobs},
			want: []string{"generate_dataset run", "prepare run", "model run"},
		},
		"run_all named explicitly means all": {
			req:  Request{Actions: []string{"run_all"}},
			want: []string{"generate_dataset run", "prepare run", "model run"},
		},
		"a repeated request is one step": {
			req:  Request{Actions: []string{"prepare", "prepare"}, Latest: past().succeeded("generate_dataset").jobs},
			want: []string{"generate_dataset reuse", "prepare run"},
		},
		"a changed analysis file reruns its action and everything downstream": {
			req: Request{
				Actions: []string{"model"},
				Files:   with(files, "analysis/dataset_definition.py", "blob-dd-2"),
				Latest:  past().succeeded("generate_dataset", "prepare", "model").jobs,
			},
			want: []string{"generate_dataset run", "prepare run", "model run"},
		},
		"a changed file downstream leaves upstream work reused": {
			req: Request{
				Actions: []string{"model"},
				Files:   with(files, "analysis/prepare.py", "blob-prep-2"),
				Latest:  past().succeeded("generate_dataset", "prepare", "model").jobs,
			},
			want: []string{"generate_dataset reuse", "prepare run", "model run"},
		},
		"a file no argument names changes nothing": {
			req: Request{
				Actions: []string{"model"},
				Files:   with(files, "README.md", "blob-readme-2"),
				Latest:  past().succeeded("generate_dataset", "prepare", "model").jobs,
			},
			want: []string{"prepare reuse", "model run"},
		},
		"latest jobs of actions no longer in project.yaml are ignored": {
			req:  Request{Actions: []string{"generate_dataset"}, Latest: map[string]PriorJob{"old": {ID: "j", State: Running}}},
			want: []string{"generate_dataset run"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := tc.req
			if req.Pipeline == nil {
				req.Pipeline = p
			}
			if req.Files == nil {
				req.Files = files
			}
			got := lines(mustMake(t, req))
			if !slices.Equal(got, tc.want) {
				t.Errorf("plan\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMakeReasons(t *testing.T) {
	p, files := chain(), tree()
	changed := with(files, "analysis/dataset_definition.py", "blob-dd-2")
	cases := map[string]struct {
		req    Request
		action string
		want   string
	}{
		"requested": {
			req:    Request{Actions: []string{"model"}},
			action: "model", want: "requested",
		},
		"never ran": {
			req:    Request{Actions: []string{"model"}},
			action: "prepare", want: "never run in this workspace",
		},
		"failed": {
			req:    Request{Actions: []string{"model"}, Latest: ranAt(t, p, files).failed("prepare").jobs},
			action: "prepare", want: "its last job (job-prepare) failed",
		},
		"forced": {
			req:    Request{Actions: []string{"model"}, Force: true, Latest: ranAt(t, p, files).succeeded("prepare").jobs},
			action: "prepare", want: "--force-run-dependencies was given",
		},
		"reused": {
			req:    Request{Actions: []string{"model"}, Latest: ranAt(t, p, files).succeeded("prepare").jobs},
			action: "prepare", want: "succeeded before (job job-prepare), unchanged since",
		},
		"pending": {
			req:    Request{Actions: []string{"model"}, Latest: ranAt(t, p, files).pending("prepare").jobs},
			action: "prepare", want: "already pending as job job-prepare",
		},
		"requested and running": {
			req:    Request{Actions: []string{"model"}, Latest: ranAt(t, p, files).running("model").jobs},
			action: "model", want: "requested, but already running as job job-model",
		},
		"running from before a change": {
			req:    Request{Actions: []string{"model"}, Files: changed, Latest: ranAt(t, p, files).running("generate_dataset").failed("prepare").jobs},
			action: "generate_dataset", want: "already running as job job-generate_dataset, planned before a change (its inputs changed: analysis/dataset_definition.py)",
		},
		"its analysis file changed": {
			req:    Request{Actions: []string{"model"}, Files: changed, Latest: ranAt(t, p, files).succeeded("generate_dataset", "prepare").jobs},
			action: "generate_dataset", want: "succeeded before (job job-generate_dataset), but its inputs changed: analysis/dataset_definition.py",
		},
		"a dependency changed": {
			req:    Request{Actions: []string{"model"}, Files: changed, Latest: ranAt(t, p, files).succeeded("generate_dataset", "prepare").jobs},
			action: "prepare", want: "succeeded before (job job-prepare), but a dependency changed: generate_dataset",
		},
		"its run line changed": {
			req: Request{
				Pipeline: pipeline(act("a", "python:v2 analysis/prepare.py --verbose"), act("b", "python:v2 analysis/model.R", "a")),
				Actions:  []string{"b"},
				Latest:   ranAt(t, pipeline(act("a", "python:v2 analysis/prepare.py"), act("b", "python:v2 analysis/model.R", "a")), files).succeeded("a").jobs,
			},
			action: "a", want: "succeeded before (job job-a), but its run line, outputs or config changed",
		},
		"a new file argument and another change": {
			req: Request{
				Pipeline: pipeline(act("a", "python:v2 analysis/prepare.py analysis/model.R"), act("b", "python:v2 x", "a")),
				Actions:  []string{"b"},
				Latest:   ranAt(t, pipeline(act("a", "python:v2 analysis/prepare.py"), act("b", "python:v2 x", "a")), files).succeeded("a").jobs,
			},
			action: "a", want: "succeeded before (job job-a), but its inputs changed: analysis/model.R (new); its run line, outputs or config changed",
		},
		"no fingerprint recorded": {
			req:    Request{Actions: []string{"model"}, Latest: map[string]PriorJob{"prepare": {ID: "old", State: Succeeded}}},
			action: "prepare", want: "succeeded before (job old), but recorded no fingerprint",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := tc.req
			if req.Pipeline == nil {
				req.Pipeline = p
			}
			if req.Files == nil {
				req.Files = files
			}
			if got := step(t, mustMake(t, req), tc.action).Reason; got != tc.want {
				t.Errorf("reason\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMakeWaitCarriesTheJob(t *testing.T) {
	p, files := chain(), tree()
	plan := mustMake(t, Request{Pipeline: p, Files: files, Actions: []string{"model"}, Latest: ranAt(t, p, files).pending("prepare").jobs})
	if s := step(t, plan, "prepare"); s.WaitsOn != "job-prepare" || s.Requested || s.Needs != nil {
		t.Errorf("prepare: WaitsOn %q, Requested %v, Needs %q; want job-prepare, false, none", s.WaitsOn, s.Requested, s.Needs)
	}
	if s := step(t, plan, "model"); !s.Requested || !slices.Equal(s.Needs, []string{"prepare"}) {
		t.Errorf("model: Requested %v, Needs %q; want true, [prepare]", s.Requested, s.Needs)
	}
	// The requested job waits for the pending one instead of duplicating it.
	if got := plan.DependencyJobIDs("model", "req-7"); !slices.Equal(got, []string{"job-prepare"}) {
		t.Errorf("model waits for %q, want [job-prepare]", got)
	}
}

func TestDependencyJobIDs(t *testing.T) {
	p := pipeline(
		act("a", "python:v2 a.py"),
		act("b", "python:v2 b.py"),
		act("c", "python:v2 c.py"),
		act("d", "python:v2 d.py", "a", "b", "c"),
	)
	files := tree()
	plan := mustMake(t, Request{
		Pipeline: p, Files: files, Actions: []string{"d"},
		Latest: ranAt(t, p, files).succeeded("b").running("c").jobs,
	})
	want := []string{JobID("req-1", "a"), "job-c"} // b is reused: nothing to wait for
	if got := plan.DependencyJobIDs("d", "req-1"); !slices.Equal(got, want) {
		t.Errorf("d waits for %q, want %q", got, want)
	}
	if got := plan.DependencyJobIDs("b", "req-1"); got != nil {
		t.Errorf("a reused step waits for %q, want nothing", got)
	}
}

func TestMakeNothingToDo(t *testing.T) {
	p, files := chain(), tree()
	plan := mustMake(t, Request{Pipeline: p, Files: files, Actions: []string{"model", "prepare"}, Latest: ranAt(t, p, files).pending("model").running("prepare").jobs})
	if !plan.NothingToDo() || len(plan.ToRun()) != 0 {
		t.Fatalf("plan %q has something to do", lines(plan))
	}
	if got, want := plan.Summary(), "nothing to run: everything requested is already pending or running"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestSummary(t *testing.T) {
	p := pipeline(
		act("a", "python:v2 a.py"),
		act("b", "python:v2 b.py"),
		act("c", "python:v2 c.py", "a", "b"),
		act("d", "python:v2 d.py", "c"),
		act("e", "python:v2 e.py"),
	)
	files := tree()
	plan := mustMake(t, Request{Pipeline: p, Files: files, Actions: []string{"d", "e"}, Latest: ranAt(t, p, files).failed("c").succeeded("a").running("b").jobs})
	if got, want := plan.Summary(), "3 to run, 1 reused, 1 already pending or running"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if got, want := len(plan.ToRun()), 3; got != want {
		t.Errorf("%d to run, want %d", got, want)
	}
	if plan.NothingToDo() {
		t.Error("NothingToDo with jobs to run")
	}
	empty := mustMake(t, Request{Pipeline: pipeline(), All: true})
	if !empty.NothingToDo() || empty.Summary() != "nothing to run: project.yaml has no actions" {
		t.Errorf("empty pipeline: NothingToDo %v, summary %q", empty.NothingToDo(), empty.Summary())
	}
}

func TestMakeOrder(t *testing.T) {
	cases := map[string]struct {
		p    *checks.Pipeline
		want []string
	}{
		"file order among actions free to go": {
			p:    pipeline(act("z", "python:v2 z.py"), act("y", "python:v2 y.py"), act("x", "python:v2 x.py")),
			want: []string{"z run", "y run", "x run"},
		},
		"a dependency written later still goes first": {
			p:    pipeline(act("report", "python:v2 r.py", "extract"), act("other", "python:v2 o.py"), act("extract", "python:v2 e.py")),
			want: []string{"other run", "extract run", "report run"},
		},
		"a repeated need is harmless": {
			p:    pipeline(act("a", "python:v2 a.py"), act("b", "python:v2 b.py", "a", "a")),
			want: []string{"a run", "b run"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			plan := mustMake(t, Request{Pipeline: tc.p, All: true})
			if got := lines(plan); !slices.Equal(got, tc.want) {
				t.Errorf("plan\n got %q\nwant %q", got, tc.want)
			}
			for _, s := range plan.Steps {
				if len(s.Needs) > 1 && s.Needs[0] == s.Needs[1] {
					t.Errorf("%s needs %q: repeated", s.Action, s.Needs)
				}
			}
			if again := mustMake(t, Request{Pipeline: tc.p, All: true}); !slices.Equal(lines(again), lines(plan)) {
				t.Errorf("second plan %q differs from %q", lines(again), lines(plan))
			}
		})
	}
}

func TestMakeRefuses(t *testing.T) {
	cases := map[string]struct {
		req     Request
		unknown []string // want *UnknownActionsError with these names
		cycle   []string // want *CycleError with this cycle
		message string
	}{
		"unknown actions, each named once in request order": {
			req:     Request{Pipeline: chain(), Actions: []string{"modle", "model", "prep", "modle"}},
			unknown: []string{"modle", "prep"},
			message: "project.yaml has no actions named modle, prep",
		},
		"one unknown action": {
			req:     Request{Pipeline: chain(), Actions: []string{"all"}},
			unknown: []string{"all"},
			message: "project.yaml has no action named all",
		},
		"a cycle": {
			req: Request{Pipeline: pipeline(
				act("a", "python:v2 a.py", "c"),
				act("b", "python:v2 b.py", "a"),
				act("c", "python:v2 c.py", "b"),
				act("d", "python:v2 d.py"),
			), Actions: []string{"d"}},
			cycle:   []string{"a", "c", "b", "a"},
			message: "cannot plan: `needs` form a cycle: a -> c -> b -> a; break the cycle",
		},
		"an action that needs itself": {
			req:     Request{Pipeline: pipeline(act("a", "python:v2 a.py"), act("b", "python:v2 b.py", "a", "b")), Actions: []string{"b"}},
			cycle:   []string{"b", "b"},
			message: "cannot plan: action b needs itself (b -> b); remove b from its `needs`",
		},
		"nothing requested": {
			req:     Request{Pipeline: chain()},
			message: "cannot plan: no actions requested",
		},
		"a need of an unknown action": {
			req:     Request{Pipeline: pipeline(act("a", "python:v2 a.py", "ghost")), Actions: []string{"a"}},
			message: "cannot plan: action a needs ghost, which is not an action in project.yaml",
		},
		"a job in an unknown state": {
			req:     Request{Pipeline: chain(), Actions: []string{"prepare"}, Latest: map[string]PriorJob{"prepare": {ID: "j1", State: "paused"}}},
			message: `cannot plan: job j1 of action prepare has unknown state "paused"`,
		},
		"no pipeline": {
			req:     Request{All: true},
			message: "cannot plan: no pipeline",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Make(tc.req)
			if err == nil {
				t.Fatal("Make succeeded")
			}
			if err.Error() != tc.message {
				t.Errorf("error\n got %q\nwant %q", err, tc.message)
			}
			var unknown *UnknownActionsError
			if errors.As(err, &unknown) != (tc.unknown != nil) || (unknown != nil && !slices.Equal(unknown.Names, tc.unknown)) {
				t.Errorf("error %#v, want unknown actions %q", err, tc.unknown)
			}
			var cycle *CycleError
			if errors.As(err, &cycle) != (tc.cycle != nil) || (cycle != nil && !slices.Equal(cycle.Cycle, tc.cycle)) {
				t.Errorf("error %#v, want cycle %q", err, tc.cycle)
			}
		})
	}
}

func TestMakeRunAllDefinedByTheUser(t *testing.T) {
	// Before version 5 a project may define run_all; job-runner expands the
	// name to every other action anyway.
	p := pipeline(act("a", "python:v2 a.py"), act("run_all", "python:v2 all.py", "a"))
	got := lines(mustMake(t, Request{Pipeline: p, Actions: []string{"run_all"}}))
	if want := []string{"a run"}; !slices.Equal(got, want) {
		t.Errorf("plan %q, want %q", got, want)
	}
}
