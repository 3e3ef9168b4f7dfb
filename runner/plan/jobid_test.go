package plan

import (
	"regexp"
	"testing"
)

func TestJobID(t *testing.T) {
	id := JobID("req-42", "generate_dataset")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("job ID %q: want 32 hex digits", id)
	}
	if again := JobID("req-42", "generate_dataset"); again != id {
		t.Errorf("job ID not deterministic: %s then %s", id, again)
	}
	differ := map[string][2]string{
		"another action":             {"req-42", "model"},
		"another job request":        {"req-43", "generate_dataset"},
		"the same letters cut apart": {"req-42g", "enerate_dataset"},
	}
	for name, in := range differ {
		if other := JobID(in[0], in[1]); other == id {
			t.Errorf("%s: same job ID %s", name, id)
		}
	}
}
