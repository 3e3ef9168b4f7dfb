package agentapi

import (
	"net/http"
	"time"
)

// claim hands the agent the next task of its backend, waiting up to ?wait
// (default 30s, at most the server's cap) for one to be queued. It wakes as
// soon as the store queues a task for the backend: no polling.
func (s *Server) claim(w http.ResponseWriter, r *http.Request, backend string) {
	wait := s.defWait
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, "wait must be a duration such as 30s")
			return
		}
		wait = d
	}
	wait = min(wait, s.maxWait)
	log := s.log.With("backend", backend)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	notify := s.st.Notifier()
	for {
		// Take the wake-up channel before looking, so that a task queued
		// between the look and the wait is not missed.
		woken := notify.Wait(backend)
		c, ok, err := s.st.Claim(r.Context(), backend, s.now())
		if err != nil {
			s.fail(w, r, log, err)
			return
		}
		if ok {
			s.metrics.claims.WithLabelValues(backend, "task").Inc()
			log.Info("task claimed", "task", c.Task.ID, "job", c.Task.JobID, "attempt", c.Task.Attempt)
			writeJSON(w, http.StatusOK, taskJSON(c, int64(s.st.Lease().Seconds())))
			return
		}
		select {
		case <-woken:
		case <-s.stopping:
			s.metrics.claims.WithLabelValues(backend, "empty").Inc()
			w.WriteHeader(http.StatusNoContent)
			return
		case <-timer.C:
			s.metrics.claims.WithLabelValues(backend, "empty").Inc()
			w.WriteHeader(http.StatusNoContent)
			return
		case <-r.Context().Done():
			return
		}
	}
}
