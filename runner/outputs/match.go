// Package outputs decides what happens to a job's files once it has ended:
// which declared outputs it produced, which moderately sensitive ones pass
// the level-4 gates and go to the medium privacy store, and what the agent
// may report about them outside the secure zone.
package outputs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/fivesafes/fivesafes/checks"
)

// MatchedFile is one file a job produced for a declared output.
type MatchedFile struct {
	Path    string // slash-separated, relative to the workspace
	Level   checks.PrivacyLevel
	Pattern string
}

// Matches is the result of matching an action's outputs in its workspace.
type Matches struct {
	// Files are the matched files in path order, each once. A file that
	// several patterns match takes the most sensitive of their levels.
	Files []MatchedFile
	// ByPattern lists the files of each pattern, in path order.
	ByPattern map[string][]string
	// Unmatched are the patterns that matched no file, in declaration
	// order; any makes the job fail with unmatched_patterns.
	Unmatched []string
	// Refused says why a pattern was never tried (it points outside the
	// workspace, ...); those patterns are in Unmatched too.
	Refused map[string]string
	// Skipped says why a path that fits a pattern was not taken (a symlink,
	// a directory, ...), for the job's log.
	Skipped map[string]string
}

// Match finds the files of an action's declared outputs in workdir. As in
// OpenSAFELY's job-runner, a pattern is a path whose components may hold `*`,
// which matches any run of characters except `/` (dot files included); no
// other character is special. Symlinks are never followed and nothing
// outside workdir is ever looked at.
func Match(workdir string, outputs []checks.OutputGroup) (Matches, error) {
	root, err := os.OpenRoot(workdir)
	if err != nil {
		return Matches{}, fmt.Errorf("open workspace: %w", err)
	}
	defer root.Close()
	m := Matches{ByPattern: map[string][]string{}, Refused: map[string]string{}, Skipped: map[string]string{}}
	levels := map[string]checks.PrivacyLevel{}
	patterns := map[string]string{}
	for _, g := range outputs {
		for _, o := range g.Outputs {
			if _, seen := m.ByPattern[o.Path]; seen {
				if err := m.take(o.Path, g.Level, m.ByPattern[o.Path], levels, patterns); err != nil {
					return Matches{}, err
				}
				continue
			}
			if why := refusePattern(o.Path); why != "" {
				m.Refused[o.Path] = why
				m.Unmatched = append(m.Unmatched, o.Path)
				m.ByPattern[o.Path] = nil
				continue
			}
			files, err := glob(root, o.Path, m.Skipped)
			if err != nil {
				return Matches{}, fmt.Errorf("match output %s: %w", o.Path, err)
			}
			m.ByPattern[o.Path] = files
			if len(files) == 0 {
				m.Unmatched = append(m.Unmatched, o.Path)
			}
			if err := m.take(o.Path, g.Level, files, levels, patterns); err != nil {
				return Matches{}, err
			}
		}
	}
	for _, p := range slices.Sorted(maps.Keys(levels)) {
		m.Files = append(m.Files, MatchedFile{Path: p, Level: levels[p], Pattern: patterns[p]})
	}
	return m, nil
}

// take records files at a level, keeping the most sensitive level per file.
func (m *Matches) take(pattern string, level checks.PrivacyLevel, files []string, levels map[string]checks.PrivacyLevel, patterns map[string]string) error {
	rank := slices.Index(checks.PrivacyLevels[:], level)
	if rank < 0 {
		return fmt.Errorf("output %s: unknown privacy level %q", pattern, level)
	}
	for _, f := range files {
		if prev, ok := levels[f]; ok && slices.Index(checks.PrivacyLevels[:], prev) <= rank {
			continue
		}
		levels[f], patterns[f] = level, pattern
	}
	return nil
}

// refusePattern says why a pattern cannot name files in the workspace.
func refusePattern(p string) string {
	switch {
	case p == "":
		return "is empty"
	case strings.HasPrefix(p, "/"):
		return "is an absolute path"
	case strings.Contains(p, `\`):
		return "contains a back slash"
	}
	for c := range strings.SplitSeq(p, "/") {
		switch c {
		case "..":
			return "points outside the workspace"
		case "", ".":
			return "is not in standard form"
		}
	}
	return ""
}

// glob expands a pattern component by component, descending only into real
// directories and taking only regular files.
func glob(root *os.Root, pattern string, skipped map[string]string) ([]string, error) {
	comps := strings.Split(pattern, "/")
	dirs := []string{"."}
	for i, comp := range comps {
		last := i == len(comps)-1
		var next []string
		for _, dir := range dirs {
			names, err := candidates(root, dir, comp)
			if err != nil {
				return nil, err
			}
			for _, name := range names {
				p := path.Join(dir, name)
				fi, err := root.Lstat(p)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return nil, err
				}
				switch {
				case fi.Mode()&fs.ModeSymlink != 0:
					if last || !strings.Contains(comp, "*") {
						skipped[p] = "is a symbolic link, which is never followed"
					}
				case last && fi.Mode().IsRegular():
					next = append(next, p)
				case last && fi.IsDir():
					if !strings.Contains(comp, "*") {
						skipped[p] = "is a directory, not a file"
					}
				case last:
					skipped[p] = "is not a regular file"
				case fi.IsDir():
					next = append(next, p)
				}
			}
		}
		dirs = next
		if len(dirs) == 0 {
			return nil, nil
		}
	}
	slices.Sort(dirs)
	return dirs, nil
}

// candidates lists the names in dir that fit one pattern component.
func candidates(root *os.Root, dir, comp string) ([]string, error) {
	if !strings.Contains(comp, "*") {
		return []string{comp}, nil
	}
	f, err := root.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if wildcard(comp, e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// wildcard reports whether name fits pattern, where `*` matches any run of
// characters and everything else matches itself.
func wildcard(pattern, name string) bool {
	// Greedy with backtracking to the last star: linear for one star, at
	// worst O(len(pattern)*len(name)).
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
