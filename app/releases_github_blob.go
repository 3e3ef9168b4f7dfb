package app

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/release"
)

// uploadBlob creates a blob of one file with POST git/blobs and returns its
// SHA. The body, {"content":"<base64>","encoding":"base64"}, is encoded
// from the file while it is sent, so a file of any size costs a few
// buffers. Two layers of the client would otherwise read it whole into
// memory: retryablehttp takes any body but an io.ReadSeeker whole, and
// freshRequest a body without GetBody. So the body seeks (back to the
// start only) and GetBody opens the file again: a re-sent request reads
// the file again rather than a copy of it.
//
// What is sent is hashed into the blob's Git ID on the way, which GitHub's
// answer must repeat: the file arrived whole.
func (g *ReleasesGitHub) uploadBlob(ctx context.Context, c *github.Client, repo checks.Repo, f release.CommitFile) (string, error) {
	what := fmt.Sprintf("upload %s (%d bytes)", f.Path, f.Size)
	up := &blobUpload{file: f}
	req, err := c.NewRequest(ctx, http.MethodPost, fmt.Sprintf("repos/%s/%s/git/blobs", url.PathEscape(repo.Owner), url.PathEscape(repo.Name)), nil)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Body = up.body()
	req.GetBody = func() (io.ReadCloser, error) { return up.body(), nil }
	req.ContentLength = up.length()
	var blob github.Blob
	if _, err := c.Do(req, &blob); err != nil {
		if failed := up.failure(); failed != nil {
			// The file failed, not GitHub: net/http reports it as a
			// network error (readfrom tcp ...), which would look worth
			// retrying.
			return "", fmt.Errorf("%s: %w", what, failed)
		}
		return "", fmt.Errorf("%s: %w", what, err)
	}
	sent := up.sentSHA()
	if sent == "" || blob.GetSHA() != sent {
		return "", fmt.Errorf("%s: GitHub stored blob %q, but what was sent is blob %q", what, blob.GetSHA(), sent)
	}
	return sent, nil
}

const (
	blobPrefix = `{"content":"`
	blobSuffix = `","encoding":"base64"}`
	// blobChunk is how much of a file is read at a time: a multiple of 3,
	// so that only the last chunk's base64 ends in padding.
	blobChunk = 48 << 10
)

// blobUpload is the upload of one file; each send of the request reads it
// through a blobBody of its own.
type blobUpload struct {
	file release.CommitFile

	mu     sync.Mutex
	sent   string // the Git blob ID of the last body read to its end
	failed error  // why the last body that failed could not read the file
}

func (u *blobUpload) body() *blobBody { return &blobBody{up: u} }

// length is the body's length in bytes.
func (u *blobUpload) length() int64 {
	return int64(len(blobPrefix)) + (u.file.Size+2)/3*4 + int64(len(blobSuffix))
}

func (u *blobUpload) sentSHA() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sent
}

func (u *blobUpload) failure() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.failed
}

// blobBody is one reading of a blobUpload's JSON body. It opens the file
// on its first Read. net/http may Close it from another goroutine than
// the one reading, hence the lock.
type blobBody struct {
	up *blobUpload

	mu      sync.Mutex
	stage   blobStage
	src     io.ReadCloser
	hash    hash.Hash
	read    int64  // bytes of the file read so far
	raw     []byte // a chunk of the file
	enc     []byte // that chunk in base64
	pending []byte // what the next Read returns
	err     error  // what every Read returns once set, io.EOF at the end
}

type blobStage int

const (
	blobStart   blobStage = iota // nothing sent
	blobContent                  // the prefix, and maybe some content, sent
	blobEnd                      // all the content sent
	blobDone                     // the suffix sent
)

var errBlobBodyClosed = errors.New("blob upload body read after it was closed")

func (b *blobBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.pending) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if b.err = b.advance(); b.err != nil && b.err != io.EOF {
			b.up.mu.Lock()
			b.up.failed = b.err
			b.up.mu.Unlock()
		}
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	return n, nil
}

// advance makes the next piece of the body pending, or returns why there
// is none.
func (b *blobBody) advance() error {
	f := b.up.file
	switch b.stage {
	case blobStart:
		b.up.mu.Lock()
		b.up.failed = nil // a send of its own
		b.up.mu.Unlock()
		src, err := f.Open()
		if err != nil {
			return fmt.Errorf("open %s: %w", f.Path, err)
		}
		b.src = src
		b.hash = sha1.New()
		b.hash.Write([]byte("blob " + strconv.FormatInt(f.Size, 10) + "\x00"))
		b.read = 0
		if b.raw == nil {
			b.raw = make([]byte, blobChunk)
			b.enc = make([]byte, base64.StdEncoding.EncodedLen(blobChunk))
		}
		b.pending, b.stage = []byte(blobPrefix), blobContent
	case blobContent:
		n, err := io.ReadFull(b.src, b.raw)
		end := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !end {
			return fmt.Errorf("read %s: %w", f.Path, err)
		}
		b.read += int64(n)
		if b.read > f.Size {
			return fmt.Errorf("%s is longer than the %d bytes it was said to be", f.Path, f.Size)
		}
		b.hash.Write(b.raw[:n])
		base64.StdEncoding.Encode(b.enc, b.raw[:n])
		b.pending = b.enc[:base64.StdEncoding.EncodedLen(n)]
		if !end {
			return nil
		}
		if b.read != f.Size {
			return fmt.Errorf("%s is %d bytes, not the %d it was said to be", f.Path, b.read, f.Size)
		}
		b.up.mu.Lock()
		b.up.sent = hex.EncodeToString(b.hash.Sum(nil))
		b.up.mu.Unlock()
		b.closeSource()
		b.stage = blobEnd
	case blobEnd:
		b.pending, b.stage = []byte(blobSuffix), blobDone
	case blobDone:
		return io.EOF
	}
	return nil
}

// Seek goes back to the start, the one seek retryablehttp makes: the next
// Read opens the file again.
func (b *blobBody) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, fmt.Errorf("blob upload body of %s: can only seek to the start", b.up.file.Path)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == errBlobBodyClosed {
		return 0, b.err
	}
	b.closeSource()
	b.stage, b.pending, b.err = blobStart, nil, nil
	return 0, nil
}

func (b *blobBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeSource()
	b.err, b.pending = errBlobBodyClosed, nil
	return nil
}

func (b *blobBody) closeSource() {
	if b.src != nil {
		b.src.Close()
		b.src = nil
	}
}
