package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// JobID is the ID of the job that runs action for a job request: 32 hex
// digits (the first 16 bytes of a SHA-256 over both). It is deterministic
// so that a retried or re-created job request creates the same jobs, not
// new ones; it is usable as a file and container name.
func JobID(jobRequestID, action string) string {
	h := sha256.New()
	h.Write([]byte("fivesafes/job/v1\x00"))
	h.Write(binary.AppendUvarint(nil, uint64(len(jobRequestID))))
	h.Write([]byte(jobRequestID))
	h.Write([]byte(action))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
