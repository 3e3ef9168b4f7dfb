package release

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// Receive takes one file of an approved release from its backend's agent
// (agentapi.Uploads). The bytes are hashed as they stream to disk; only a
// file of exactly the approved size and SHA-256 is kept, content-addressed.
// Anything else is an alarm in the log and rejects the release: what was
// reviewed is what is released, and a mismatch is never retried into
// acceptance. A file received before is accepted again without a second
// copy.
func (s *Store) Receive(ctx context.Context, backend, id, path string, size int64, body io.Reader) error {
	r, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && r.Backend != backend {
		return fmt.Errorf("release %s: %w", id, protocol.ErrNoSuchRelease)
	}
	if err != nil {
		return err
	}
	if r.State != Approved && r.State != Uploading {
		return fmt.Errorf("%w: release #%d is %s, not waiting for uploads", protocol.ErrUploadRefused, r.Number, r.State)
	}
	want, received, err := s.approvedFile(ctx, r, path)
	if err != nil {
		return err
	}
	if received {
		return nil
	}
	if size != want.Size {
		// Announced as another size: not the approved file, and no need to
		// read (or store) a byte of it.
		return s.mismatch(ctx, r, want, spooled{size: size, sha256: "(not read)"})
	}
	got, tmp, err := s.spool(want.Size, body)
	if tmp != "" {
		defer os.Remove(tmp)
	}
	if err != nil {
		return err
	}
	if got.size != want.Size || got.sha256 != want.SHA256 {
		return s.mismatch(ctx, r, want, got)
	}
	if err := os.Rename(tmp, s.FilePath(want.SHA256)); err != nil {
		return fmt.Errorf("keep %s of release %s: %w", path, id, err)
	}
	return s.write(ctx, time.Now(), func(t *txn) error {
		cur, err := releaseBy(ctx, t.tx, id)
		if err != nil || cur.State != Approved && cur.State != Uploading || cur.Revision != r.Revision {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `UPDATE release_files SET received_at = ? WHERE release_id = ? AND revision = ? AND path = ?
			AND received_at IS NULL`, t.now.UnixMilli(), id, r.Revision, path); err != nil {
			return fmt.Errorf("record %s of release %s: %w", path, id, err)
		}
		if err := t.set(id, `state = ?`, Uploading); err != nil {
			return err
		}
		return t.audit("release.file_received", backend, cur, map[string]any{"revision": r.Revision, "path": path,
			"size": got.size, "sha256": got.sha256})
	})
}

// FilePath is where a released file with this SHA-256 is kept.
func (s *Store) FilePath(sha256hex string) string { return filepath.Join(s.dir, sha256hex) }

// approvedFile is path in the release's approved manifest.
func (s *Store) approvedFile(ctx context.Context, r Release, path string) (File, bool, error) {
	var info string
	var received bool
	err := s.db.R.QueryRowContext(ctx, `SELECT info, received_at IS NOT NULL FROM release_files WHERE release_id = ? AND revision = ? AND path = ?`,
		r.ID, r.Revision, path).Scan(&info, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, false, fmt.Errorf("%w: %s is not in the approved manifest of release #%d", protocol.ErrUploadRefused, path, r.Number)
	}
	if err != nil {
		return File{}, false, err
	}
	var f File
	return f, received, json.Unmarshal([]byte(info), &f)
}

// spooled is what arrived: its size and SHA-256.
type spooled struct {
	size   int64
	sha256 string
}

// spool streams body to a new file under incoming/, hashing it, reading at
// most one byte more than the approved size so that a longer file shows.
func (s *Store) spool(approved int64, body io.Reader) (spooled, string, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "incoming"), "upload-*")
	if err != nil {
		return spooled{}, "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, approved+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return spooled{}, f.Name(), fmt.Errorf("receive upload: %w", err)
	}
	return spooled{size: n, sha256: hex.EncodeToString(h.Sum(nil))}, f.Name(), nil
}

// mismatch records an upload that is not the approved file and rejects
// the release.
func (s *Store) mismatch(ctx context.Context, r Release, want File, got spooled) error {
	reason := fmt.Sprintf("%s arrived as %d bytes with SHA-256 %s, but the checkers approved %d bytes with SHA-256 %s",
		want.Path, got.size, got.sha256, want.Size, want.SHA256)
	err := s.write(ctx, time.Now(), func(t *txn) error {
		// Read the release again: it may have ended while the bytes streamed in.
		cur, err := releaseBy(ctx, t.tx, r.ID)
		if err != nil {
			return err
		}
		if err := t.audit("release.alarm", r.Backend, cur, map[string]any{"revision": r.Revision, "path": want.Path,
			"approved_size": want.Size, "approved_sha256": want.SHA256, "size": got.size, "sha256": got.sha256}); err != nil {
			return err
		}
		return t.end(cur, Rejected, "upload did not match the approved manifest: "+reason, "release.rejected", Actor)
	})
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", protocol.ErrUploadMismatch, reason)
}

// uploadFinisher hears the end of an upload_release task: if the agent
// gave up before every file arrived, the release is rejected with its
// message.
type uploadFinisher struct{ s *Store }

func (f uploadFinisher) FinishTask(ctx context.Context, tx *sql.Tx, task jobs.Task, u jobs.Update, now time.Time) (func(), error) {
	_, t, r, current, err := taskRelease(ctx, tx, task, now, Approved, Uploading)
	if err != nil || !current {
		return nil, err
	}
	var missing int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM release_files WHERE release_id = ? AND revision = ? AND received_at IS NULL`,
		r.ID, r.Revision).Scan(&missing); err != nil {
		return nil, err
	}
	if missing == 0 {
		return nil, nil
	}
	reason := fmt.Sprintf("the backend ended the upload with %d of the approved files missing", missing)
	if u.Status != jobs.Succeeded && u.Message != "" {
		reason = "the backend could not upload the approved files: " + u.Message
	}
	return f.s.after(t), t.end(r, Rejected, reason, "release.rejected", task.Backend)
}
