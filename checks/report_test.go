package checks

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRenderValid(t *testing.T) {
	src := v5(needs("a", "[]") + needs("b|c", "[a, a]"))
	rep := Render("project.yaml", Validate([]byte(src)))
	if rep.Conclusion != ConclusionSuccess || rep.Title != "project.yaml is valid: 2 actions, 1 warning" {
		t.Fatalf("conclusion %q, title %q", rep.Conclusion, rep.Title)
	}
	for _, want := range []string{
		"| Action | Needs | Highly sensitive | Moderately sensitive | Minimally sensitive |",
		"| `a` |  | `out/a.csv` |  |  |",
		"| `b\\|c` | `a`<br>`a` | `out/b\\|c.csv` |  |  |",
		"### Warnings",
		"- **line 11**: Action b|c lists a more than once in its `needs`",
	} {
		if !strings.Contains(rep.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, rep.Summary)
		}
	}
	want := Annotation{Path: "project.yaml", StartLine: 11, EndLine: 11, StartColumn: 16, EndColumn: 16, Level: "warning",
		Title: "needs", Message: "Action b|c lists a more than once in its `needs`"}
	if len(rep.Annotations) != 1 || rep.Annotations[0] != want {
		t.Errorf("annotations = %+v", rep.Annotations)
	}
}

func TestRenderInvalid(t *testing.T) {
	rep := Render("project.yaml", Validate([]byte(moderately("out/x.pdf")+"extra: 1\n")))
	if rep.Conclusion != ConclusionFailure || rep.Title != "project.yaml has 2 errors" {
		t.Fatalf("conclusion %q, title %q", rep.Conclusion, rep.Title)
	}
	for _, want := range []string{
		"- **line 8**: Unexpected parameters (extra) in project\n",
		"- **line 7**: Output path out/x.pdf is invalid: out/x.pdf is not an allowed file type for moderately_sensitive outputs\n",
	} {
		if !strings.Contains(rep.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, rep.Summary)
		}
	}
	if len(rep.Annotations) != 2 || rep.Annotations[0].Level != "failure" || rep.Annotations[0].StartLine != 8 || rep.Annotations[0].StartColumn != 1 {
		t.Errorf("annotations = %+v", rep.Annotations)
	}

	empty := Render("project.yaml", Validate(nil))
	if a := empty.Annotations; empty.Title != "project.yaml has 1 error" || len(a) != 1 || a[0].StartLine != 1 || a[0].StartColumn != 0 {
		t.Errorf("empty file: %q %+v", empty.Title, a)
	}
}

func TestRenderTruncates(t *testing.T) {
	var r Result
	long := strings.Repeat("é", 500)
	for i := range 2000 {
		r.Problems = append(r.Problems, Problem{Line: i + 1, Column: 1, Message: long, Severity: SeverityError, Rule: "x"})
	}
	r.Problems[0].Message = strings.Repeat("ü", 40000) // a single over-long message
	rep := Render("project.yaml", r)
	for name, s := range map[string]string{"summary": rep.Summary, "title": rep.Title} {
		if len(s) > maxOutputText || !utf8.ValidString(s) {
			t.Errorf("%s: %d bytes, valid UTF-8 %v", name, len(s), utf8.ValidString(s))
		}
	}
	if !strings.HasSuffix(rep.Summary, "(truncated: see the annotations for every problem)") {
		t.Errorf("no truncation note: %q", rep.Summary[len(rep.Summary)-100:])
	}
	if len(rep.Annotations) != 2000 {
		t.Errorf("%d annotations", len(rep.Annotations))
	}
	for _, a := range rep.Annotations {
		if len(a.Message) > maxAnnotationText || !utf8.ValidString(a.Message) {
			t.Fatalf("annotation message of %d bytes", len(a.Message))
		}
	}
	if got := truncate(strings.Repeat("x", 300), 50); len(got) > 50 || !strings.HasSuffix(got, "…") {
		t.Errorf("short truncation = %q", got)
	}
}

func TestUnreadable(t *testing.T) {
	rep := Unreadable("project.yaml", "There is no project.yaml at the root of this commit. Add one.")
	if rep.Conclusion != ConclusionFailure || rep.Title != "project.yaml could not be checked" ||
		rep.Summary != "There is no project.yaml at the root of this commit. Add one." || len(rep.Annotations) != 0 {
		t.Errorf("%+v", rep)
	}
}
