package agentapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/fivesafes/fivesafes/runner/protocol"
)

// Uploads receives the files of approved releases; the bot's release store
// is one.
type Uploads interface {
	// Receive reads one file of release id from backend's agent and keeps
	// it if it is the approved file. Errors wrap protocol.ErrNoSuchRelease,
	// ErrUploadRefused or ErrUploadMismatch for what the agent must not
	// send again.
	Receive(ctx context.Context, backend, releaseID, path string, size int64, body io.Reader) error
}

// WithUploads serves PUT /agent/v1/releases/{id}/files/{path...} with u.
func WithUploads(u Uploads) Option { return func(s *Server) { s.uploads = u } }

// uploadTime is how long one upload may take to arrive: a 16 MB file over
// a slow link from a secure zone, not the server's default read timeout.
const uploadTime = 15 * time.Minute

// upload streams one released file into the release store, which checks it
// against the approved manifest as it reads.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, backend string) {
	id, path := r.PathValue("id"), r.PathValue("path")
	log := s.log.With("backend", backend, "release", id, "path", path)
	switch {
	case s.uploads == nil:
		writeError(w, http.StatusNotFound, "this bot takes no release uploads")
		return
	case len(id) > maxTaskID || relPath(path) != nil:
		writeError(w, http.StatusNotFound, "no such release file")
		return
	case r.ContentLength < 0:
		writeError(w, http.StatusLengthRequired, "send the file with its Content-Length")
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTime))
	err := s.uploads.Receive(r.Context(), backend, id, path, r.ContentLength, r.Body)
	switch {
	case err == nil:
		log.Info("release file received")
		writeJSON(w, http.StatusOK, map[string]string{"status": "received"})
	case errors.Is(err, protocol.ErrNoSuchRelease):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, protocol.ErrUploadRefused):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, protocol.ErrUploadMismatch):
		log.Warn("release file refused: not the approved bytes", "err", err)
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	default:
		s.fail(w, r, log, err)
	}
}
