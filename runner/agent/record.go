package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// record is what the agent keeps about a run_job task it holds, so that a
// restarted agent can resume it: the task as claimed and the last update
// sequence number used (the bot applies each seq once).
type record struct {
	Task Task  `json:"task"`
	Seq  int64 `json:"seq"`
	// Done is the final update once it is decided: a restarted agent sends
	// exactly it again, so the bot sees one result whatever happens.
	Done *Update `json:"done,omitempty"`
}

// records is a directory of task records, one file per job ID.
type records struct{ dir string }

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// checkName refuses an ID from the bot that cannot be a file name.
func checkName(what, s string) error {
	if !namePattern.MatchString(s) {
		return fmt.Errorf("%s %q is not usable as a directory name (want letters, digits, '_', '.', '-', at most 128)", what, s)
	}
	return nil
}

func (r records) path(jobID string) string { return filepath.Join(r.dir, jobID+".json") }

func (r records) save(rec record) error {
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(r.dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), r.path(rec.Task.Job.ID))
}

func (r records) get(jobID string) (record, bool) {
	var rec record
	data, err := os.ReadFile(r.path(jobID))
	if err != nil || json.Unmarshal(data, &rec) != nil {
		return record{}, false
	}
	return rec, true
}

func (r records) remove(jobID string) error {
	if err := os.Remove(r.path(jobID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// all returns every readable record; unreadable ones are reported in errs.
func (r records) all() (recs []record, errs []error) {
	entries, err := os.ReadDir(r.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{err}
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		rec, ok := r.get(id)
		if !ok || rec.Task.Job.ID != id {
			errs = append(errs, fmt.Errorf("task record %s is unreadable", r.path(id)))
			continue
		}
		recs = append(recs, rec)
	}
	return recs, errs
}
