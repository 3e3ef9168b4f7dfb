package commands

import (
	"reflect"
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	commands := []string{"run", "cancel", "release", "status", "help"}
	flags := []string{"backend", "force-run-dependencies", "f"}
	actions := []string{"generate_dataset", "generate_dataset_2019", "analyse", "describe_dataset", "make_charts"}
	cases := map[string]struct {
		word       string
		candidates []string
		want       []string
	}{
		"a swap":                              {"rnu", commands, []string{"run"}},
		"a letter missing":                    {"relase", commands, []string{"release"}},
		"a letter extra":                      {"helpp", commands, []string{"help"}},
		"a swap in a longer word":             {"stauts", commands, []string{"status"}},
		"case is ignored":                     {"RUN", commands, []string{"run"}},
		"a misspelt beginning":                {"forse", flags, []string{"force-run-dependencies"}},
		"a beginning":                         {"back", flags, []string{"backend"}},
		"one letter matches its flags":        {"f", flags, []string{"f", "force-run-dependencies"}},
		"one letter is not a typo of another": {"b", []string{"f"}, nil},
		"a typo in an action":                 {"generate_datset", actions, []string{"generate_dataset", "generate_dataset_2019"}},
		"a part of an action":                 {"dataset", actions, []string{"generate_dataset", "generate_dataset_2019", "describe_dataset"}},
		"closest first":                       {"analyze", actions, []string{"analyse"}},
		"nothing close":                       {"deploy", commands, nil},
		"empty word":                          {"", commands, nil},
		"no candidates":                       {"run", nil, nil},
		"repeated candidates count once":      {"rn", []string{"run", "run"}, []string{"run"}},
		"a hostile word costs nothing":        {strings.Repeat("a", 100000), []string{strings.Repeat("a", 100000)}, nil},
		"non-ASCII":                           {"résumé", []string{"resume", "résumé_2"}, []string{"résumé_2", "resume"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Suggest(tc.word, tc.candidates); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Suggest(%.20q) = %q, want %q", tc.word, got, tc.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"run", "run", 0},
		{"rnu", "run", 1}, // a swap
		{"ca", "abc", 3},  // optimal string alignment: no part edited twice
		{"kitten", "sitting", 3},
		{"abc", "", 3},
	}
	for _, tc := range cases {
		if got := editDistance([]rune(tc.a), []rune(tc.b), 10); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance([]rune(tc.a), []rune(tc.b), 1); got != min(tc.want, 2) {
			t.Errorf("editDistance(%q, %q) with limit 1 = %d, want %d", tc.a, tc.b, got, min(tc.want, 2))
		}
	}
}
