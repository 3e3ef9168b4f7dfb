package outputs

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"

	"github.com/fivesafes/fivesafes/checks"
)

// Report is all that the agent may say about a job's outputs outside the
// secure zone: names, sizes and hashes of moderately sensitive files, and
// only counts of the others.
type Report struct {
	Unmatched               []string     `json:"unmatched_patterns,omitempty"`
	Files                   []FileReport `json:"moderately_sensitive"`
	HighlySensitiveCount    int          `json:"highly_sensitive_count"`
	MinimallySensitiveCount int          `json:"minimally_sensitive_count"`
}

// FileReport describes one moderately sensitive output.
type FileReport struct {
	Path   string              `json:"path"`
	Level  checks.PrivacyLevel `json:"level"`
	Size   int64               `json:"size"`
	SHA256 string              `json:"sha256"`
	// Refused says why the file was kept out of the medium privacy store;
	// empty when it was copied there.
	Refused string `json:"refused,omitempty"`
}

// Finalize matches an action's declared outputs in its workspace and
// persists them (Persist). A job with unmatched patterns still has its other
// outputs persisted, as in job-runner; the caller fails it with
// unmatched_patterns when Report.Unmatched is not empty.
func Finalize(workdir, mediumDir string, outputs []checks.OutputGroup, lim Limits) (Report, Matches, error) {
	m, err := Match(workdir, outputs)
	if err != nil {
		return Report{}, m, err
	}
	r, err := Persist(workdir, mediumDir, m.Files, lim)
	r.Unmatched = m.Unmatched
	return r, m, err
}

// Persist stores a job's matched files. The workspace is the high privacy
// store: highly (and minimally) sensitive files stay there and are only
// counted. Moderately sensitive files that pass the level-4 gates are copied
// to mediumDir (medium_privacy_dir/WORKSPACE) under the same relative path,
// each atomically; one that fails is not copied, any earlier copy of it is
// removed, and a note saying why is left at PATH.txt (job-runner's name).
// Other files in mediumDir, earlier jobs' outputs, are left alone.
func Persist(workdir, mediumDir string, files []MatchedFile, lim Limits) (Report, error) {
	r := Report{Files: []FileReport{}}
	var moderate []MatchedFile
	for _, f := range files {
		switch f.Level {
		case checks.HighlySensitive:
			r.HighlySensitiveCount++
		case checks.MinimallySensitive:
			r.MinimallySensitiveCount++
		case checks.ModeratelySensitive:
			moderate = append(moderate, f)
		default:
			return r, fmt.Errorf("output %s: unknown privacy level %q", f.Path, f.Level)
		}
	}
	if len(moderate) == 0 {
		return r, nil
	}
	ws, err := os.OpenRoot(workdir)
	if err != nil {
		return r, fmt.Errorf("open workspace: %w", err)
	}
	defer ws.Close()
	if err := os.MkdirAll(mediumDir, 0o750); err != nil {
		return r, fmt.Errorf("medium privacy store: %w", err)
	}
	medium, err := os.OpenRoot(mediumDir)
	if err != nil {
		return r, fmt.Errorf("medium privacy store: %w", err)
	}
	defer medium.Close()
	outputs := map[string]bool{}
	for _, f := range files {
		outputs[f.Path] = true
	}
	for _, f := range moderate {
		fr, err := persistModerate(ws, medium, f.Path, lim, outputs)
		if err != nil {
			return r, fmt.Errorf("output %s: %w", f.Path, err)
		}
		r.Files = append(r.Files, fr)
	}
	return r, nil
}

func persistModerate(ws, medium *os.Root, p string, lim Limits, outputs map[string]bool) (FileReport, error) {
	content, size, sum, err := readOutput(ws, p, lim.MaxSize)
	if err != nil {
		return FileReport{}, err
	}
	fr := FileReport{Path: p, Level: checks.ModeratelySensitive, Size: size, SHA256: sum}
	v := Level4(p, size, content, lim)
	if v.OK() {
		// The bytes copied are the bytes hashed and checked.
		if err := writeAtomic(medium, p, content); err != nil {
			return fr, err
		}
		for _, note := range notePaths(p) {
			if !outputs[note] && isNote(medium, note) {
				if err := medium.Remove(note); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fr, err
				}
			}
		}
		return fr, nil
	}
	fr.Refused = v.Reason()
	if fi, err := medium.Lstat(p); err == nil && fi.Mode().IsRegular() {
		if err := medium.Remove(p); err != nil {
			return fr, fmt.Errorf("remove the earlier copy of a refused file: %w", err)
		}
	}
	for _, note := range notePaths(p) {
		if outputs[note] {
			continue // the job's own output of that name wins
		}
		if _, err := medium.Lstat(note); err == nil && !isNote(medium, note) {
			continue // another job's output
		}
		return fr, writeAtomic(medium, note, []byte(RefusalNote(p, v)))
	}
	return fr, fmt.Errorf("no free name for the refusal note of %s", p)
}

// notePaths are the names a refusal note may take, job-runner's first.
func notePaths(p string) []string { return []string{p + ".txt", p + ".fivesafes-refused.txt"} }

func isNote(root *os.Root, p string) bool {
	f, err := root.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(noteHeader))
	_, err = io.ReadFull(f, head)
	return err == nil && bytes.Equal(head, []byte(noteHeader))
}

// readOutput hashes a workspace file and returns its bytes when it is no
// larger than max (a larger file is refused on its size alone).
func readOutput(ws *os.Root, p string, max int64) (content []byte, size int64, sum string, err error) {
	f, err := ws.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, 0, "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, 0, "", fmt.Errorf("not a regular file")
	}
	h := sha256.New()
	content, err = io.ReadAll(io.TeeReader(io.LimitReader(f, max+1), h))
	if err != nil {
		return nil, 0, "", err
	}
	size = int64(len(content))
	if size > max {
		rest, err := io.Copy(h, f)
		if err != nil {
			return nil, 0, "", err
		}
		content, size = nil, size+rest
	}
	return content, size, hex.EncodeToString(h.Sum(nil)), nil
}

// writeAtomic replaces a file in the store so that readers see the old or
// the new version whole.
func writeAtomic(root *os.Root, p string, data []byte) error {
	if err := root.MkdirAll(path.Dir(p), 0o750); err != nil {
		return err
	}
	tmp := path.Join(path.Dir(p), "."+path.Base(p)+".tmp-"+rand.Text()[:10])
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, p)
	}
	if err != nil {
		_ = root.Remove(tmp)
	}
	return err
}
