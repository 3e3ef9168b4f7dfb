package agentapi

import (
	"io"
	"net/http"

	"github.com/fivesafes/fivesafes/runner/jobs"
)

// codeTarball streams the repository at the SHA of a task the agent holds.
func (s *Server) codeTarball(w http.ResponseWriter, r *http.Request, backend string) {
	id := r.PathValue("id")
	log := s.log.With("backend", backend, "task", id)
	c, err := s.st.Task(r.Context(), backend, id)
	if err != nil {
		s.fail(w, r, log, err)
		return
	}
	if c.Task.JobID == "" || c.Repo == "" {
		writeError(w, http.StatusNotFound, "this task has no code")
		return
	}
	if c.Task.State != jobs.TaskClaimed {
		writeError(w, http.StatusConflict, "claim the task before fetching its code")
		return
	}
	if s.code == nil {
		writeError(w, http.StatusServiceUnavailable, "no code source configured")
		return
	}
	rc, err := s.code.Tarball(r.Context(), c.InstallationID, c.Repo, c.SHA)
	if err != nil {
		log.Warn("fetch code failed", "repo", c.Repo, "sha", c.SHA, "err", err)
		writeError(w, http.StatusBadGateway, "could not fetch the code from GitHub; try again")
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, rc); err != nil {
		log.Warn("stream code failed", "repo", c.Repo, "sha", c.SHA, "err", err)
	}
}
