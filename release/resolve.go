package release

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// Resolve turns the paths a researcher asked to release (each a workspace
// path, where `*` matches any run of characters but `/`) into files: the
// moderately sensitive outputs that the latest job of an action in the
// workspace produced, succeeded, and copied to the medium privacy store.
// For each path that names none it says exactly why, in a sentence: a
// highly sensitive output, a job that did not succeed, a file the level-4
// gates refused, or not an output at all. It is pure: the jobs are the
// workspace's latest of each action on the backend (jobs.WorkspaceJobs).
func Resolve(asked []string, workspace []jobs.Job) (paths []string, problems []string) {
	for _, a := range asked {
		var found []string
		for _, j := range workspace {
			if j.State != plan.Succeeded || j.Outputs == nil {
				continue
			}
			for _, f := range j.Outputs.Files {
				if f.Refused == "" && matches(a, f.Path) && !slices.Contains(paths, f.Path) && !slices.Contains(found, f.Path) {
					found = append(found, f.Path)
				}
			}
		}
		if len(found) == 0 {
			problems = append(problems, whyNot(a, workspace))
			continue
		}
		slices.Sort(found)
		paths = append(paths, found...)
	}
	return paths, problems
}

// whyNot says why asked names no releasable file.
func whyNot(asked string, workspace []jobs.Job) string {
	what := markdown.Code(asked, pathShown)
	for _, j := range workspace {
		if j.State != plan.Succeeded || j.Outputs == nil {
			continue
		}
		for _, f := range j.Outputs.Files {
			if f.Refused != "" && matches(asked, f.Path) {
				return fmt.Sprintf("%s was refused at level 4 when %s ran, so it never reached the medium privacy store: %s.",
					markdown.Code(f.Path, pathShown), markdown.Code(j.Action, pathShown), strings.TrimSuffix(f.Refused, "."))
			}
		}
	}
	for _, j := range workspace {
		for _, g := range j.Spec.Outputs {
			for _, o := range g.Outputs {
				if !overlaps(asked, o.Path) {
					continue
				}
				switch {
				case g.Level == checks.HighlySensitive:
					return fmt.Sprintf("%s is a highly sensitive output of %s: it never leaves the secure zone. Release only moderately sensitive outputs.",
						what, markdown.Code(j.Action, pathShown))
				case j.State != plan.Succeeded:
					return fmt.Sprintf("%s is an output of %s, whose latest job has not succeeded (%s): run it again first.",
						what, markdown.Code(j.Action, pathShown), j.Status)
				}
			}
		}
	}
	var known []string
	for _, j := range workspace {
		if j.State == plan.Succeeded && j.Outputs != nil {
			for _, f := range j.Outputs.Files {
				if f.Refused == "" {
					known = append(known, markdown.Code(f.Path, pathShown))
				}
			}
		}
	}
	if len(known) == 0 {
		return fmt.Sprintf("%s is not an output of a succeeded job in this workspace, which has no moderately sensitive outputs yet.", what)
	}
	slices.Sort(known)
	return fmt.Sprintf("%s is not a moderately sensitive output of a succeeded job in this workspace (those are: %s).",
		what, strings.Join(known, ", "))
}

// matches reports whether the workspace path name fits pattern, where `*`
// matches any run of characters but `/` and nothing else is special.
func matches(pattern, name string) bool {
	ok, err := path.Match(escapeGlob(pattern), name)
	return err == nil && ok
}

// overlaps reports whether asked (a path or pattern) and declared (an
// output pattern) can name the same file: either fits the other.
func overlaps(asked, declared string) bool {
	return matches(declared, asked) || matches(asked, declared)
}

func escapeGlob(p string) string {
	return strings.NewReplacer(`\`, `\\`, `?`, `\?`, `[`, `\[`).Replace(p)
}
