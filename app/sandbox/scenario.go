package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/ghemu"
)

// DemoBackend is the backend the demo runs on.
const DemoBackend = "tpp"

// Scenario plays the demo: a researcher opens a pull request with a valid
// project.yaml and runs it with `/run all`, which waits queued until the
// backend's agent connects (the scenario starts one for DemoBackend unless
// the stack has agents already) and then runs; then she pushes a broken
// project.yaml and asks again. It writes a transcript to out and returns an
// error naming every step that did not do what it should.
func Scenario(ctx context.Context, s *Stack, out io.Writer) error {
	p := printer{w: out}
	p.say("GitHub emulator at %s; bot at %s", s.Emulator.URL(), s.BotURL())
	p.say("Repository %s, app installed (installation %d)", s.Repo.FullName(), InstallationID)
	s.Repo.SetPermission("ana", "write")
	for _, c := range Checkers {
		s.Repo.SetPermission(c, "read")
	}
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	branch := "describe-cohort"
	s.Repo.Commit(branch, map[string]string{
		"project.yaml":                   validPipeline,
		"analysis/dataset_definition.py": datasetDefinition,
	}, "Add the dataset definition and a cohort description")
	number, sha := s.Repo.OpenPR(branch, "main", "Describe the cohort", "ana")
	p.step("ana opens pull request #%d (head %s) with a valid project.yaml", number, short(sha))
	first, err := waitCheck(ctx, s, sha)
	if err != nil {
		return err
	}
	p.checkRun(first, validPipeline)
	if first.Conclusion != checks.ConclusionSuccess {
		problem("the valid project.yaml got %q, want success", first.Conclusion)
	}

	comment := s.Repo.Comment(number, "ana", "/run all")
	p.step("ana comments `/run all`")
	name := "fivesafes / run #1 (" + DemoBackend + ")"
	var seen []string
	if len(s.agents) == 0 {
		queued, err := waitRunStatus(ctx, s, sha, name, "queued")
		if err != nil {
			return err
		}
		seen = append(seen, queued.Status)
		p.say("   %s: %s — %s", name, queued.Status, queued.Output.Title)
		a, err := s.StartAgent(ctx, DemoBackend)
		if err != nil {
			return err
		}
		p.say("   the backend agent for %q connects (local executor, built-in stand-ins for ehrql and summary)", a.Backend)
	}
	run, more, err := watchRun(ctx, s, sha, name)
	if err != nil {
		return err
	}
	for _, st := range more {
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
	}
	p.say("   reactions on the comment: %s", strings.Join(s.Repo.Reactions(comment), ", "))
	p.runCheck(run, seen)
	if run.Conclusion != "success" {
		problem("run #1 got %q (%s), want success", run.Conclusion, run.Output.Title)
	}
	if !slices.Contains(seen, "queued") || seen[len(seen)-1] != "completed" {
		problem("run #1 went %s, want queued first and completed last", strings.Join(seen, " → "))
	}
	if status, err := waitStatusComment(ctx, s, number, "✅"); err != nil {
		problem("no status comment shows run #1 succeeded: %v", err)
	} else {
		p.say("   status comment on the pull request:")
		p.indent(visible(status.Body), "     | ")
	}
	if data, err := os.ReadFile(s.MediumPrivacyFile(DemoBackend, branch, "output/table1.csv")); err != nil {
		problem("table1.csv is not in the medium privacy store: %v", err)
	} else {
		p.say("   in the backend's medium privacy store, output/table1.csv:")
		p.indent(string(data), "     | ")
	}

	if err := releaseTable(ctx, s, &p, number, branch, problem); err != nil {
		return err
	}

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
	if second.Conclusion != checks.ConclusionFailure {
		problem("the broken project.yaml got %q, want failure", second.Conclusion)
	}
	if len(second.Annotations) == 0 {
		problem("the broken project.yaml has no annotations")
	}
	for _, a := range second.Annotations {
		if a.Path != "project.yaml" || a.StartLine < 1 {
			problem("annotation %q is not on a line of project.yaml", a.Message)
		}
	}

	refused := s.Repo.Comment(number, "ana", "/run all")
	p.step("ana comments `/run all` again, on the broken commit")
	reply, err := s.Repo.WaitComment(ctx, number, func(c ghemu.Comment) bool {
		return c.ID > refused && strings.Contains(c.Body, "did not start this run")
	})
	if err != nil {
		problem("no reply refusing the run on a broken project.yaml: %v", err)
	} else {
		p.say("   reactions on the comment: %s", strings.Join(s.Repo.Reactions(refused), ", "))
		p.say("   the bot replies:")
		p.indent(visible(reply.Body), "     | ")
	}
	if n := len(s.Repo.CheckRuns(sha2)); n != 1 {
		problem("%d check runs on the broken commit, want only the project.yaml check", n)
	}
	p.pages(ctx, s, number)
	if len(problems) > 0 {
		return fmt.Errorf("%w:\n- %s", ErrScenario, strings.Join(problems, "\n- "))
	}
	p.say("")
	p.say("Every step did what it should.")
	return nil
}

// pages prints where the bot's public pages about the demo are.
func (p *printer) pages(ctx context.Context, s *Stack, number int) {
	base := s.BotURL()
	p.say("")
	p.say("The bot's pages (each decision above is in the log, hash-chained):")
	p.say("   %s/              runs and releases", base)
	if runs, err := s.Server().Jobs().Requests(ctx, s.Repo.FullName(), number); err == nil && len(runs) > 0 {
		p.say("   %s/runs/%s   run #%d", base, runs[0].ID, runs[0].Number)
	}
	if rels, err := s.Server().Releases().ForResearchPR(ctx, s.Repo.FullName(), number); err == nil && len(rels) > 0 {
		p.say("   %s/releases/%s   release #%d", base, rels[0].ID, rels[0].Number)
	}
	p.say("   %s/events        the permanent log (JSON: %s/api/v1/events)", base, base)
}

// waitCheck waits for the project.yaml check run on sha to complete.
func waitCheck(ctx context.Context, s *Stack, sha string) (ghemu.CheckRun, error) {
	run, err := s.Repo.WaitCheckRun(ctx, sha, checks.CheckName)
	if err != nil {
		return run, fmt.Errorf("no completed %q check run on %s: %w", checks.CheckName, short(sha), err)
	}
	return run, nil
}

// watchRun waits for the newest check run called name on sha to complete,
// noting each status it shows on the way.
func watchRun(ctx context.Context, s *Stack, sha, name string) (ghemu.CheckRun, []string, error) {
	var seen []string
	var run ghemu.CheckRun
	err := s.Emulator.WaitFor(ctx, func() bool {
		runs := s.Repo.CheckRuns(sha)
		for i := len(runs) - 1; i >= 0; i-- {
			if runs[i].Name == name {
				run = runs[i]
				if len(seen) == 0 || seen[len(seen)-1] != run.Status {
					seen = append(seen, run.Status)
				}
				return run.Status == "completed"
			}
		}
		return false
	})
	if err != nil {
		return run, seen, fmt.Errorf("%q on %s did not complete (seen: %s): %w", name, short(sha), strings.Join(seen, " → "), err)
	}
	return run, seen, nil
}

// waitRunStatus waits for the newest check run called name on sha to show status.
func waitRunStatus(ctx context.Context, s *Stack, sha, name, status string) (ghemu.CheckRun, error) {
	var run ghemu.CheckRun
	err := s.Emulator.WaitFor(ctx, func() bool {
		runs := s.Repo.CheckRuns(sha)
		for i := len(runs) - 1; i >= 0; i-- {
			if runs[i].Name == name {
				run = runs[i]
				return run.Status == status
			}
		}
		return false
	})
	if err != nil {
		return run, fmt.Errorf("%q on %s never showed %s (last seen: %s): %w", name, short(sha), status, run.Status, err)
	}
	return run, nil
}

// waitStatusComment waits for the bot's status comment to contain want.
func waitStatusComment(ctx context.Context, s *Stack, number int, want string) (ghemu.Comment, error) {
	return s.Repo.WaitComment(ctx, number, func(c ghemu.Comment) bool {
		return strings.Contains(c.Body, "fivesafes:status") && strings.Contains(c.Body, want)
	})
}

// visible drops the HTML comments (markers) a reader of GitHub never sees.
func visible(body string) string {
	var lines []string
	for l := range strings.Lines(body) {
		if !strings.HasPrefix(strings.TrimSpace(l), "<!--") {
			lines = append(lines, strings.TrimRight(l, "\n"))
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
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

func (p *printer) indent(text, prefix string) {
	for l := range strings.Lines(strings.TrimRight(text, "\n")) {
		p.say("%s%s", prefix, strings.TrimRight(l, "\n"))
	}
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

// runCheck prints a run's check run: the statuses it went through, its
// verdict and its table of jobs.
func (p *printer) runCheck(r ghemu.CheckRun, seen []string) {
	mark := map[string]string{"success": "✓", "failure": "✗"}[r.Conclusion]
	p.say("   %s %s: %s (%s)", mark, r.Name, strings.Join(seen, " → "), r.Conclusion)
	p.say("     %s", r.Output.Title)
	p.indent(r.Output.Text, "     | ")
	if r.DetailsURL != "" {
		p.say("     details: %s", r.DetailsURL)
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
