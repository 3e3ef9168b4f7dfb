package release

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// ManifestDir is the folder of a release's manifest on its release pull
// request: releases/<id>, the ID made safe as one path component (IDs are
// hex, so it is the ID itself).
func ManifestDir(releaseID string) string {
	return "releases/" + pathComponent(releaseID)
}

// ReleasedPath is where a released file is committed:
// released_outputs/<branch>/<path>, the research branch made one path
// component, so that releases from different branches do not mix, and the
// workspace path cleaned so that it stays below that folder.
func ReleasedPath(branch, file string) string {
	dir := "released_outputs/" + pathComponent(branch)
	if file = strings.TrimPrefix(path.Clean("/"+file), "/"); file == "" {
		return dir
	}
	return dir + "/" + file
}

// pathComponent is name as one safe path component: "/" and every
// character outside [A-Za-z0-9._-] become "-", and it is never empty, "."
// or "..".
func pathComponent(name string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, strings.ToValidUTF8(name, "-"))
	if safe == "" || strings.Trim(safe, ".") == "" {
		return strings.Repeat("-", max(len(safe), 1))
	}
	return safe
}

// JSON is the manifest as releases/<id>/manifest.json: indented two
// spaces, files sorted by path, every file's findings a list (never null),
// the time in UTC and a trailing newline. The same manifest always makes
// the same bytes, so its Git blob, and the commit checkers approve, are
// the same however often it is written.
func (m Manifest) JSON() []byte {
	c := m
	c.RequestedAt = m.RequestedAt.UTC()
	if y := c.RequestedAt.Year(); y < 0 || y > 9999 {
		c.RequestedAt = time.Time{} // JSON cannot hold it; no real request has it
	}
	c.Files = sortedFiles(m.Files)
	for i := range c.Files {
		if c.Files[i].Findings == nil {
			c.Files[i].Findings = []Finding{}
		}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("release: manifest JSON: %v", err)) // only plain values: cannot happen
	}
	return append(b, '\n')
}

// sortedFiles is a copy of files sorted by path (then hash and size, so
// that even duplicates sort one way).
func sortedFiles(files []File) []File {
	out := make([]File, len(files))
	copy(out, files)
	slices.SortStableFunc(out, func(a, b File) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.SHA256, b.SHA256), cmp.Compare(a.Size, b.Size))
	})
	return out
}

// Longest a value is shown in the manifest, in runes.
const (
	pathShown    = 200
	findingShown = 500
)

// Markdown is the manifest as releases/<id>/manifest.md, for output
// checkers to read on GitHub: who asked, from where, what the files are
// and how disclosure was controlled (as the researcher wrote it), a table
// of the files, and the automated findings per file. It is complete, never
// cut short: it is what checkers approve, with manifest.json.
func (m Manifest) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Release #%d, revision %d\n\n", m.Number, m.Revision)
	b.WriteString("Output files a researcher asks to release from the secure zone. Output checkers: approve this " +
		"pull request to release exactly these files, byte for byte, or request changes to return the request " +
		"to the researcher. No file has left the secure zone yet.\n\n")

	fmt.Fprintf(&b, "- **Research pull request:** %s\n", researchLink(m))
	fmt.Fprintf(&b, "- **Requested by:** %s", markdown.Mention(m.Requester))
	if !m.RequestedAt.IsZero() {
		fmt.Fprintf(&b, " on %s", m.RequestedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "- **Backend:** %s\n", markdown.Code(m.Backend, 60))
	fmt.Fprintf(&b, "- **Workspace:** %s\n", markdown.Code(m.Workspace, 200))
	fmt.Fprintf(&b, "- **Release:** %s\n\n", markdown.Code(m.Release, 80))

	b.WriteString("## Context\n\nWhat these files are and how they were made, as the researcher wrote it:\n\n")
	b.WriteString(markdown.Quote(m.Context) + "\n\n")
	b.WriteString("## Disclosure controls\n\nWhat disclosure controls were applied, as the researcher wrote it:\n\n")
	b.WriteString(markdown.Quote(m.Controls) + "\n\n")

	files := sortedFiles(m.Files)
	var total int64
	for _, f := range files {
		total += max(f.Size, 0)
	}
	fmt.Fprintf(&b, "## Files\n\n%s, %s in all.\n\n", markdown.Plural(len(files), "file"), markdown.Size(total))
	if len(files) > 0 {
		b.WriteString("| Path | Type | Size | Rows × columns | SHA-256 | Findings |\n|---|---|---|---|---|---|\n")
		for _, f := range files {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", markdown.Cell(f.Path, pathShown), markdown.TextNoMentions(f.Type, 20),
				markdown.Size(f.Size), shape(f), markdown.SHA256(f.SHA256), findingsCell(f))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Automated findings\n\n")
	b.WriteString("Findings are advice from automated disclosure checks, not a verdict: they point at what to look " +
		"at, and output checkers decide.\n\n")
	clean := 0
	for _, f := range files {
		if f.Problem == "" && len(f.Findings) == 0 {
			clean++
			continue
		}
		fmt.Fprintf(&b, "- %s", markdown.Code(f.Path, pathShown))
		if f.Problem != "" {
			fmt.Fprintf(&b, " could not be inspected: %s", markdown.TextNoMentions(f.Problem, findingShown))
		}
		b.WriteString("\n")
		for _, fd := range f.Findings {
			fmt.Fprintf(&b, "  - **%s:** %s\n", checkLabel(fd.Check), markdown.TextNoMentions(fd.Message, findingShown))
		}
	}
	switch {
	case clean == len(files):
		b.WriteString("No findings.\n")
	case clean > 0:
		fmt.Fprintf(&b, "\nNo findings for the other %s.\n", markdown.Plural(clean, "file"))
	}
	return b.String()
}

// researchLink is a link to the research pull request, or its name if the
// manifest has no URL fit for a link.
func researchLink(m Manifest) string {
	name := markdown.TextNoMentions(fmt.Sprintf("%s#%d", m.Repo, m.ResearchPR), 120)
	if u := markdown.SafeURL(m.ResearchPRURL); u != "" {
		return "[" + name + "](" + u + ")"
	}
	return name
}

// shape is a CSV's rows and columns, "" for other files.
func shape(f File) string {
	switch {
	case f.Rows != nil && f.Columns != nil:
		return fmt.Sprintf("%d × %d", *f.Rows, *f.Columns)
	case f.Rows != nil:
		return markdown.Plural(*f.Rows, "row")
	case f.Columns != nil:
		return markdown.Plural(*f.Columns, "column")
	}
	return ""
}

// findingsCell is how many findings a file has, or that it was not
// inspected.
func findingsCell(f File) string {
	switch {
	case f.Problem != "":
		return "not inspected"
	case len(f.Findings) == 0:
		return "none"
	}
	return fmt.Sprint(len(f.Findings))
}

// checkLabel is a disclosure check's name in words.
func checkLabel(check string) string {
	switch check {
	case protocol.CheckSmallCount:
		return "Small count"
	case protocol.CheckUnroundedCount:
		return "Unrounded count"
	case protocol.CheckTooManyRows:
		return "Too many rows"
	case protocol.CheckPatientIDColumn:
		return "patient\\_id column"
	case protocol.CheckFileType:
		return "File type"
	}
	return markdown.TextNoMentions(check, 40)
}
