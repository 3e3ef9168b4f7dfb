package agentapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// Limits on what an agent may report.
const (
	maxMessage   = 2000
	maxFiles     = 10000
	maxUnmatched = 1000
	maxPath      = 1024
	maxTaskID    = 128
)

// update applies an agent's report on a task and answers whether to cancel.
func (s *Server) update(w http.ResponseWriter, r *http.Request, backend string) {
	id := r.PathValue("id")
	if len(id) > maxTaskID {
		writeError(w, http.StatusNotFound, "no such task for this backend")
		return
	}
	log := s.log.With("backend", backend, "task", id)
	var u UpdateJSON
	if err := decodeStrict(w, r, s.maxBody, &u); err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	up, err := toUpdate(u)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	ans, err := s.st.ApplyUpdate(r.Context(), backend, id, up, s.now())
	if err != nil {
		s.fail(w, r, log, err)
		return
	}
	writeJSON(w, http.StatusOK, AnswerJSON{Cancel: ans.Cancel})
}

var errTooLarge = errors.New("body too large")

func statusOf(err error) int {
	if errors.Is(err, errTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// decodeStrict reads one JSON object of at most limit bytes, refusing
// unknown fields and anything after it.
func decodeStrict(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fmt.Errorf("%w: at most %d bytes", errTooLarge, limit)
		}
		return fmt.Errorf("bad JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("bad JSON: one object only")
	}
	return nil
}

// stageDone is the stage an agent reports with a job's outcome.
const stageDone = "done"

// toUpdate checks an update and reads it: a status_code that is an outcome
// finishes the job; one that is a stage (or a stage alone) moves it.
func toUpdate(u UpdateJSON) (jobs.Update, error) {
	if err := validateUpdate(u); err != nil {
		return jobs.Update{}, err
	}
	up := jobs.Update{Attempt: u.Attempt, Seq: u.Seq, Message: u.Message, ExitCode: u.ExitCode, Results: u.Results}
	if u.Manifest != nil {
		raw, err := json.Marshal(u.Manifest)
		if err != nil {
			return up, err
		}
		up.Result = raw
	}
	stage, code := jobs.StatusCode(u.Stage), jobs.StatusCode(u.StatusCode)
	switch {
	case code.IsOutcome():
		up.Status = code
	case u.Stage == stageDone:
		return up, errors.New("stage done needs an outcome in status_code")
	case code.IsStage() && stage != "" && stage != code:
		return up, fmt.Errorf("stage %q and status_code %q disagree", stage, code)
	case code.IsStage():
		up.Stage = code
	default:
		up.Stage = stage
	}
	return up, nil
}

func validateUpdate(u UpdateJSON) error {
	if u.Attempt < 1 || u.Seq < 1 {
		return errors.New("attempt and seq must be positive")
	}
	if u.Stage != "" && u.Stage != stageDone && !jobs.StatusCode(u.Stage).IsStage() {
		return fmt.Errorf("stage %q is not one of preparing, executing, finalizing, done", u.Stage)
	}
	if c := jobs.StatusCode(u.StatusCode); c != "" && !c.IsOutcome() && !c.IsStage() {
		return fmt.Errorf("status_code %q is not a stage (preparing, executing, finalizing) or an outcome (succeeded, nonzero_exit, unmatched_patterns, cancelled_by_user, internal_error, timed_out)", u.StatusCode)
	}
	if u.Results != nil && !jobs.StatusCode(u.StatusCode).IsOutcome() {
		return errors.New("results come with an outcome in status_code")
	}
	if err := text("message", u.Message, maxMessage); err != nil {
		return err
	}
	if u.ExitCode != nil && (*u.ExitCode < -255 || *u.ExitCode > 255) {
		return fmt.Errorf("exit_code %d is out of range", *u.ExitCode)
	}
	if u.Manifest != nil && !jobs.StatusCode(u.StatusCode).IsOutcome() {
		return errors.New("a manifest comes with an outcome in status_code")
	}
	if u.Results != nil {
		return validateReport(*u.Results)
	}
	return validateManifest(u.Manifest)
}

// Bounds on a prepare_release manifest: enough for any release an output
// checker could review, small enough that a hostile agent costs little.
const (
	maxManifestFiles = 1000
	maxFindings      = 100
	maxTypeLen       = 32
)

func validateManifest(files []protocol.ManifestFile) error {
	if len(files) > maxManifestFiles {
		return fmt.Errorf("manifest: at most %d files", maxManifestFiles)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if err := relPath(f.Path); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if seen[f.Path] {
			return fmt.Errorf("manifest: %q is listed twice", f.Path)
		}
		seen[f.Path] = true
		if err := text("problem", f.Problem, maxMessage); err != nil {
			return fmt.Errorf("manifest: %q: %w", f.Path, err)
		}
		if f.Problem != "" {
			continue
		}
		switch {
		case f.Size < 0:
			return fmt.Errorf("manifest: %q: negative size", f.Path)
		case !isSHA256(f.SHA256):
			return fmt.Errorf("manifest: %q: sha256 must be 64 lowercase hex digits", f.Path)
		case len(f.Type) > maxTypeLen || strings.IndexFunc(f.Type, isControl) >= 0:
			return fmt.Errorf("manifest: %q: bad type", f.Path)
		case f.Rows != nil && *f.Rows < 0, f.Columns != nil && *f.Columns < 0:
			return fmt.Errorf("manifest: %q: negative rows or columns", f.Path)
		case len(f.Findings) > maxFindings:
			return fmt.Errorf("manifest: %q: at most %d findings", f.Path, maxFindings)
		}
		for _, fd := range f.Findings {
			if err := errors.Join(text("finding check", fd.Check, maxTypeLen), text("finding", fd.Message, maxMessage)); err != nil {
				return fmt.Errorf("manifest: %q: %w", f.Path, err)
			}
		}
	}
	return nil
}

func validateReport(rep outputs.Report) error {
	if rep.HighlySensitiveCount < 0 || rep.MinimallySensitiveCount < 0 {
		return errors.New("results: counts must not be negative")
	}
	if len(rep.Files) > maxFiles || len(rep.Unmatched) > maxUnmatched {
		return fmt.Errorf("results: at most %d files and %d unmatched patterns", maxFiles, maxUnmatched)
	}
	for _, p := range rep.Unmatched {
		if err := text("unmatched pattern", p, maxPath); err != nil || p == "" {
			return fmt.Errorf("results: bad unmatched pattern %q", p)
		}
	}
	seen := map[string]bool{}
	for _, f := range rep.Files {
		if err := relPath(f.Path); err != nil {
			return fmt.Errorf("results: %w", err)
		}
		if seen[f.Path] {
			return fmt.Errorf("results: %q is listed twice", f.Path)
		}
		seen[f.Path] = true
		if f.Level != checks.ModeratelySensitive {
			return fmt.Errorf("results: %q: only moderately_sensitive files are reported, not %q", f.Path, f.Level)
		}
		if f.Size < 0 {
			return fmt.Errorf("results: %q: negative size", f.Path)
		}
		if !isSHA256(f.SHA256) && !(f.Refused != "" && f.SHA256 == "") {
			return fmt.Errorf("results: %q: sha256 must be 64 lowercase hex digits", f.Path)
		}
		if err := text("refused", f.Refused, maxMessage); err != nil {
			return fmt.Errorf("results: %q: %w", f.Path, err)
		}
	}
	return nil
}

// relPath accepts a clean, relative, slash-separated path inside the workspace.
func relPath(p string) error {
	switch {
	case p == "" || len(p) > maxPath || !utf8.ValidString(p):
		return fmt.Errorf("path %q: empty, too long or not UTF-8", p)
	case strings.ContainsAny(p, "\\\x00") || strings.IndexFunc(p, isControl) >= 0:
		return fmt.Errorf("path %q: backslashes and control characters are not allowed", p)
	case path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("path %q: must be relative, clean and inside the workspace", p)
	}
	return nil
}

func text(field, s string, max int) error {
	if len(s) > max || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("%s: at most %d bytes of UTF-8 text", field, max)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
