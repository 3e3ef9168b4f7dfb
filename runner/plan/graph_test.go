package plan

import (
	"slices"
	"testing"

	"github.com/fivesafes/fivesafes/checks"
)

func TestDetectCycle(t *testing.T) {
	cases := map[string]struct {
		p    *checks.Pipeline
		want []string
	}{
		"no needs": {
			p: pipeline(act("a", "python:v2 a.py"), act("b", "python:v2 b.py")),
		},
		"a chain": {p: chain()},
		"a diamond": {
			p: pipeline(act("a", "x:v1 a"), act("b", "x:v1 b", "a"), act("c", "x:v1 c", "a"), act("d", "x:v1 d", "b", "c")),
		},
		"an action that needs itself": {
			p:    pipeline(act("a", "x:v1 a"), act("b", "x:v1 b", "a", "b")),
			want: []string{"b", "b"},
		},
		"two actions that need each other": {
			p:    pipeline(act("a", "x:v1 a", "b"), act("b", "x:v1 b", "a")),
			want: []string{"a", "b", "a"},
		},
		"the shortest cycle through the first action on one": {
			p: pipeline(
				act("z", "x:v1 z"),
				act("a", "x:v1 a", "b", "d"),
				act("b", "x:v1 b", "c"),
				act("c", "x:v1 c", "a"),
				act("d", "x:v1 d", "a"),
			),
			want: []string{"a", "d", "a"},
		},
		"a cycle downstream of a fine action": {
			p:    pipeline(act("a", "x:v1 a"), act("b", "x:v1 b", "a", "c"), act("c", "x:v1 c", "b")),
			want: []string{"b", "c", "b"},
		},
		"needs of unknown actions are ignored": {
			p: pipeline(act("a", "x:v1 a", "ghost"), act("b", "x:v1 b", "a")),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := DetectCycle(tc.p); !slices.Equal(got, tc.want) {
				t.Errorf("cycle %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTwoActionsWithOneName(t *testing.T) {
	_, err := Make(Request{Pipeline: pipeline(act("1", "x:v1 a"), act("1", "x:v1 b")), All: true})
	if err == nil || err.Error() != "cannot plan: project.yaml has two actions named 1" {
		t.Errorf("error %v, want two actions named 1", err)
	}
}
