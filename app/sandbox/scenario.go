package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/ghemu"
)

// Scenario plays the demo: a researcher opens a pull request with a valid
// project.yaml, then pushes a broken one. It writes a transcript to out and
// returns an error naming every step that did not do what it should.
func Scenario(ctx context.Context, s *Stack, out io.Writer) error {
	p := printer{w: out}
	p.say("GitHub emulator at %s; bot at %s", s.Emulator.URL(), s.BotURL())
	p.say("Repository %s, app installed (installation %d)", s.Repo.FullName(), InstallationID)

	branch := "describe-cohort"
	s.Repo.Commit(branch, map[string]string{
		"project.yaml":                   validPipeline,
		"analysis/dataset_definition.py": datasetDefinition,
		"analysis/describe.py":           describeScript,
	}, "Add the dataset definition and a cohort description")
	number, sha := s.Repo.OpenPR(branch, "main", "Describe the cohort", "ana")
	p.step("ana opens pull request #%d (head %s) with a valid project.yaml", number, short(sha))
	first, err := waitCheck(ctx, s, sha)
	if err != nil {
		return err
	}
	p.checkRun(first, validPipeline)

	sha2 := s.Repo.Push(branch, map[string]string{
		"project.yaml":     brokenPipeline,
		"analysis/model.R": modelScript,
	})
	p.step("ana pushes %s: adds a model action and a PDF report to project.yaml", short(sha2))
	second, err := waitCheck(ctx, s, sha2)
	if err != nil {
		return err
	}
	p.checkRun(second, brokenPipeline)

	var problems []string
	if first.Conclusion != checks.ConclusionSuccess {
		problems = append(problems, fmt.Sprintf("the valid project.yaml got %q, want success", first.Conclusion))
	}
	if second.Conclusion != checks.ConclusionFailure {
		problems = append(problems, fmt.Sprintf("the broken project.yaml got %q, want failure", second.Conclusion))
	}
	if len(second.Annotations) == 0 {
		problems = append(problems, "the broken project.yaml has no annotations")
	}
	for _, a := range second.Annotations {
		if a.Path != "project.yaml" || a.StartLine < 1 {
			problems = append(problems, fmt.Sprintf("annotation %q is not on a line of project.yaml", a.Message))
		}
	}
	if n := len(s.Repo.CheckRuns(sha)) + len(s.Repo.CheckRuns(sha2)); n != 2 {
		problems = append(problems, fmt.Sprintf("%d check runs on the two commits, want 2", n))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w:\n- %s", ErrScenario, strings.Join(problems, "\n- "))
	}
	p.say("")
	p.say("Every step did what it should.")
	return nil
}

// waitCheck waits for the project.yaml check run on sha to complete.
func waitCheck(ctx context.Context, s *Stack, sha string) (ghemu.CheckRun, error) {
	var run ghemu.CheckRun
	err := s.Emulator.WaitFor(ctx, func() bool {
		for _, r := range s.Repo.CheckRuns(sha) {
			if r.Name == checks.CheckName && r.Status == "completed" {
				run = r
				return true
			}
		}
		return false
	})
	if err != nil {
		return run, fmt.Errorf("no completed %q check run on %s: %w", checks.CheckName, short(sha), err)
	}
	return run, nil
}

type printer struct {
	w io.Writer
	n int
}

func (p *printer) say(format string, args ...any) { fmt.Fprintf(p.w, format+"\n", args...) }

func (p *printer) step(format string, args ...any) {
	p.n++
	fmt.Fprintf(p.w, "\n%d. %s\n", p.n, fmt.Sprintf(format, args...))
}

// checkRun prints a check run as a reviewer would see it on the PR.
func (p *printer) checkRun(r ghemu.CheckRun, file string) {
	mark := map[string]string{"success": "✓", "failure": "✗"}[r.Conclusion]
	p.say("   %s %s — %s: %s", mark, r.Name, r.Conclusion, r.Output.Title)
	if r.Conclusion == "success" {
		for _, l := range strings.Split(strings.TrimSpace(r.Output.Summary), "\n") {
			p.say("       %s", l)
		}
	}
	lines := strings.Split(file, "\n")
	for _, a := range r.Annotations {
		p.say("     %s:%d [%s] %s", a.Path, a.StartLine, a.Level, firstLine(a.Message))
		if a.StartLine >= 1 && a.StartLine <= len(lines) {
			p.say("       | %s", lines[a.StartLine-1])
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// ErrScenario is returned when the scenario did not do what it should.
var ErrScenario = errors.New("sandbox scenario failed")
