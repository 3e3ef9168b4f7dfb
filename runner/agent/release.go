package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/release/disclosure"
)

// The agent's part in a release. prepare_release inspects files of a
// workspace's medium privacy store and reports their manifest: size,
// SHA-256, shape and disclosure findings, never contents. upload_release
// sends the files output checkers approved, and only if they are still
// byte for byte what was approved.
//
// Neither keeps a record: the same task claimed again (a new attempt after
// a lease ran out, or after a restart) is simply done again, and the bot
// takes a file it already has again.

// releaseWork is one attempt of a prepare_release or upload_release task.
type releaseWork struct {
	a   *Agent
	t   Task
	log *slog.Logger

	mu  sync.Mutex // serialises updates: seq order is send order
	seq int64
}

// errNotWanted is the bot saying, in an update's answer, that the task is
// over (a withdrawn release): the work stops and nothing more is reported.
var errNotWanted = errors.New("the bot no longer wants this task")

// releaseTask works on a release task until it is reported done, the bot
// no longer wants it, or ctx ends (the bot hands it out again later).
func (a *Agent) releaseTask(ctx context.Context, t Task) {
	rw := &releaseWork{a: a, t: t, log: logging.From(ctx)}
	if t.Release == nil {
		rw.finish(ctx, Update{StatusCode: CodeInternalError, Message: fmt.Sprintf("the %s task names no release", t.Kind)})
		return
	}
	ctx = logging.Attrs(ctx, logging.KeyRelease, t.Release.ID)
	rw.log = logging.From(ctx)
	var done Update
	err := rw.renewing(ctx, func(ctx context.Context) error {
		if t.Kind == KindPrepareRelease {
			manifest, err := rw.prepare(ctx)
			done = Update{StatusCode: CodeSucceeded, Message: "inspected " + fileCount(len(manifest)), Manifest: manifest}
			return err
		}
		done = Update{StatusCode: CodeSucceeded, Message: "uploaded " + fileCount(len(t.Release.Files))}
		return rw.upload(ctx)
	})
	switch {
	case ctx.Err() != nil:
		rw.log.Info("stopped working on the task; the bot hands it out again")
		return
	case errors.Is(err, ErrStaleAttempt):
		rw.log.Warn("the bot gave this task to another attempt; dropping ours", "attempt", t.Attempt)
		return
	case errors.Is(err, errNotWanted):
		rw.log.Info("the bot no longer wants this task; stopped")
		return
	case err != nil:
		done = Update{StatusCode: CodeInternalError, Message: err.Error()}
	}
	rw.finish(ctx, done)
}

func fileCount(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}

// prepare inspects each file asked for, in order. A file that cannot be
// inspected has its Problem set; the error is for work interrupted, or a
// store the agent cannot open.
func (rw *releaseWork) prepare(ctx context.Context) ([]ManifestFile, error) {
	store, err := rw.openStore()
	if err != nil {
		return nil, err
	}
	if store != nil {
		defer store.Close()
	}
	lim := rw.a.disclosureLimits()
	manifest := make([]ManifestFile, 0, len(rw.t.Release.Files))
	for _, f := range rw.t.Release.Files {
		m, err := rw.inspect(ctx, store, f.Path, lim)
		if err != nil {
			return nil, err
		}
		manifest = append(manifest, m)
	}
	return manifest, nil
}

// inspect computes a file's size, SHA-256 and disclosure facts in one pass.
func (rw *releaseWork) inspect(ctx context.Context, store *os.Root, p string, lim disclosure.Limits) (ManifestFile, error) {
	m := ManifestFile{Path: p, Findings: []Finding{}}
	f, _, problem := rw.openFile(store, p)
	if problem != "" {
		m.Problem = problem
		return m, nil
	}
	defer f.Close()
	h := sha256.New()
	r := &storeReader{ctx: ctx, r: f}
	tee := io.TeeReader(r, h)
	facts, err := disclosure.Inspect(p, tee, lim)
	if err == nil {
		_, err = io.Copy(io.Discard, tee) // what Inspect did not read, for the hash
	}
	if err != nil {
		if ctx.Err() != nil {
			return m, ctx.Err()
		}
		rw.log.Warn("cannot read a release file", "path", p, "err", err)
		m.Problem = "cannot be read to its end"
		return m, nil
	}
	m.Size, m.SHA256 = r.n, hex.EncodeToString(h.Sum(nil))
	m.Type, m.Rows, m.Columns, m.Findings = facts.Type, facts.Rows, facts.Columns, facts.Findings
	return m, nil
}

// upload checks every file against its approved size and SHA-256, then
// sends each. A file that is not the approved one any more fails the task
// before anything is sent, so that no part of a release that cannot be
// complete leaves the zone; the bytes are checked again as they are sent.
func (rw *releaseWork) upload(ctx context.Context) error {
	store, err := rw.openStore()
	if err != nil {
		return err
	}
	if store != nil {
		defer store.Close()
	}
	files := rw.t.Release.Files
	for _, f := range files {
		r, err := rw.openApproved(ctx, store, f)
		if err == nil {
			_, err = io.Copy(io.Discard, r)
			r.Close()
		}
		if err != nil {
			return rw.uploadFailure(ctx, f, err)
		}
	}
	for _, f := range files {
		err := rw.a.bot.Upload(ctx, rw.t.Release.ID, f.Path, f.Size, func() (io.ReadCloser, error) {
			return rw.openApproved(ctx, store, f)
		})
		if err != nil {
			return rw.uploadFailure(ctx, f, err)
		}
		rw.log.Info("release file uploaded", "path", f.Path, "size", f.Size)
	}
	return nil
}

// uploadFailure is the error that ends an upload: ctx's when the work was
// interrupted, else one whose text is the task's message.
func (rw *releaseWork) uploadFailure(ctx context.Context, f ReleaseFile, err error) error {
	var u unsendable
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &u):
		return u
	}
	return fmt.Errorf("upload %s: %w", f.Path, err)
}

// unsendable is why a file of an upload_release task is not sent: it is
// not, or no longer, the approved file. Trying again cannot help.
type unsendable struct{ reason string }

func (u unsendable) Error() string      { return u.reason }
func (unsendable) Is(target error) bool { return target == errPermanent }

func changed(p string) unsendable { return unsendable{p + " changed since it was approved"} }

// openApproved opens a file to send: exactly its approved size, its bytes
// hashed as they are read, and a Read error instead of the end if they are
// not the approved ones.
func (rw *releaseWork) openApproved(ctx context.Context, store *os.Root, f ReleaseFile) (io.ReadCloser, error) {
	file, fi, problem := rw.openFile(store, f.Path)
	if problem != "" {
		return nil, unsendable{f.Path + ": " + problem}
	}
	if fi.Size() != f.Size {
		file.Close()
		return nil, changed(f.Path)
	}
	return &approvedReader{ctx: ctx, file: file, r: io.NewSectionReader(file, 0, f.Size), h: sha256.New(), want: f}, nil
}

type approvedReader struct {
	ctx  context.Context
	file *os.File
	r    io.Reader
	h    hash.Hash
	n    int64
	want ReleaseFile
}

func (a *approvedReader) Read(p []byte) (int, error) {
	if err := a.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := a.r.Read(p)
	a.h.Write(p[:n])
	a.n += int64(n)
	if errors.Is(err, io.EOF) && (a.n != a.want.Size || hex.EncodeToString(a.h.Sum(nil)) != strings.ToLower(a.want.SHA256)) {
		return n, changed(a.want.Path)
	}
	return n, err
}

func (a *approvedReader) Close() error { return a.file.Close() }

// openStore opens the workspace's medium privacy store as a root that no
// path can leave, by "..", an absolute path or a symbolic link; nil when
// the workspace has no store yet (every file is then missing).
func (rw *releaseWork) openStore() (*os.Root, error) {
	if rw.t.Release.Workspace == "" {
		return nil, errors.New("the release names no workspace")
	}
	ws, err := WorkspaceDir(rw.t.Release.Workspace)
	if err != nil {
		return nil, err
	}
	store, err := os.OpenRoot(filepath.Join(rw.a.cfg.MediumPrivacyDir, ws))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		rw.log.Error("open the medium privacy store", "err", err)
		return nil, errors.New("the agent cannot open the workspace's medium privacy store")
	}
	return store, nil
}

// Problems of a file of a release, as the manifest and messages say them.
const (
	problemNotLocal   = "not a path inside the workspace"
	problemMissing    = "not in the medium privacy store"
	problemUnopenable = "cannot be opened in the medium privacy store (a link out of it, or not readable)"
	problemNotRegular = "not a regular file"
)

// openFile opens a file of the store to read, or says why it cannot. The
// open does not block on a named pipe, which is then refused.
func (rw *releaseWork) openFile(store *os.Root, p string) (*os.File, fs.FileInfo, string) {
	if !localPath(p) {
		return nil, nil, problemNotLocal
	}
	if store == nil {
		return nil, nil, problemMissing
	}
	f, err := store.OpenFile(filepath.FromSlash(p), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, problemMissing
	case err != nil:
		rw.log.Warn("cannot open a release file", "path", p, "err", err)
		return nil, nil, problemUnopenable
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, problemNotRegular
	}
	return f, fi, ""
}

// localPath accepts a clean, relative, slash-separated path that stays in
// its directory; os.Root holds the line anyway.
func localPath(p string) bool {
	return path.Clean(p) == p && !strings.ContainsAny(p, "\\\x00") && filepath.IsLocal(filepath.FromSlash(p))
}

// storeReader reads a file of the store until ctx ends, counting bytes.
type storeReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
}

func (s *storeReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	return n, err
}

// disclosureLimits are the checks' limits: OpenSAFELY's, with the agent's
// level-4 file types and row limit.
func (a *Agent) disclosureLimits() disclosure.Limits {
	lim := disclosure.DefaultLimits(a.outLimits.FileTypes)
	lim.MaxRows = a.outLimits.MaxCSVRows
	return lim
}

// renewing runs work, renewing the lease with a progress update every
// interval while it runs. A stale attempt, or an answer that the task is
// over, stops work (through its context) and is returned.
func (rw *releaseWork) renewing(ctx context.Context, work func(context.Context) error) error {
	msg := "inspecting the release's files"
	if rw.t.Kind == KindUploadRelease {
		msg = "uploading the release's files"
	}
	return renewingLease(ctx, rw.a.renewEvery(rw.t), func(ctx context.Context) error {
		ans, err := rw.send(ctx, Update{Stage: StageExecuting, StatusCode: CodeExecuting, Message: msg})
		switch {
		case errors.Is(err, ErrStaleAttempt):
			return err
		case err == nil && ans.Cancel:
			return errNotWanted
		case err != nil && ctx.Err() == nil:
			rw.log.Error("lease renewal refused", "err", err)
		}
		return nil
	}, work)
}

// send sends an update with the attempt and the next seq.
func (rw *releaseWork) send(ctx context.Context, u Update) (UpdateAnswer, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.seq++
	u.Attempt, u.Seq, u.Message = rw.t.Attempt, rw.seq, clip(u.Message)
	return rw.a.bot.Update(ctx, rw.t.ID, u)
}

// finish reports the task done.
func (rw *releaseWork) finish(ctx context.Context, u Update) {
	u.Stage = StageDone
	_, err := rw.send(ctx, u)
	switch {
	case err == nil:
		rw.log.Info("task done", "status_code", u.StatusCode)
	case errors.Is(err, ErrStaleAttempt):
		rw.log.Warn("the bot gave this task to another attempt; dropping ours", "attempt", rw.t.Attempt)
	case ctx.Err() == nil:
		rw.log.Error("the bot did not take the task's result", "err", err, "status_code", u.StatusCode)
	}
}
