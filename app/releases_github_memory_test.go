package app

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/release"
)

// What committing a large file costs in memory: the blob is streamed.

// blobMemoryVar, when set, makes TestReleasesGitHubCommitFilesMemoryStaysFlat
// measure, and write what it measured to the file it names. It measures in
// a process of its own, where no other test allocates meanwhile.
const blobMemoryVar = "FIVESAFES_TEST_BLOB_MEMORY"

// blobMemory is what committing a large file cost the process.
type blobMemory struct {
	FileBytes int64  `json:"file_bytes"`
	Allocated uint64 `json:"allocated"`  // bytes allocated during the commit (TotalAlloc)
	PeakHeap  int64  `json:"peak_heap"`  // live heap above the start, at most, while the blob arrived
	HeapAfter int64  `json:"heap_after"` // live heap above the start once it was over
}

func TestReleasesGitHubCommitFilesMemoryStaysFlat(t *testing.T) {
	if result := os.Getenv(blobMemoryVar); result != "" {
		measureBlobMemory(t, result)
		return
	}
	t.Parallel()
	result := filepath.Join(t.TempDir(), "memory.json")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.CommandContext(t.Context(), exe, "-test.run=^TestReleasesGitHubCommitFilesMemoryStaysFlat$", "-test.count=1")
	// GORACE spares the child of a -race binary a second at exit.
	cmd.Env = append(os.Environ(), blobMemoryVar+"="+result, "GORACE=atexit_sleep_ms=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the measuring process failed: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(result)
	if err != nil {
		t.Fatal(err)
	}
	var m blobMemory
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	t.Logf("committing a %d MiB file: %.2f MiB allocated, heap peak +%.2f MiB, +%.2f MiB after",
		m.FileBytes>>20, float64(m.Allocated)/(1<<20), float64(m.PeakHeap)/(1<<20), float64(m.HeapAfter)/(1<<20))
	// Held whole, the file alone would be 16 MiB, its base64 21 MiB more
	// and the JSON body as much again.
	const bound = 4 << 20
	if m.FileBytes != 16<<20 || m.Allocated > bound || m.PeakHeap > bound {
		t.Errorf("committing a %d-byte file allocated %d bytes, heap peak +%d; want both under %d", m.FileBytes, m.Allocated, m.PeakHeap, bound)
	}
}

// measureBlobMemory commits a 16 MiB file, read from a generator, to a
// GitHub stand-in that decodes the blob as it arrives, and writes what the
// commit cost to result.
func measureBlobMemory(t *testing.T, result string) {
	const size = 16 << 20
	content := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{7}), size) }
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", size)
	if _, err := io.Copy(h, content()); err != nil {
		t.Fatal(err)
	}
	wantSHA := hex.EncodeToString(h.Sum(nil))

	var base runtime.MemStats
	var peak atomic.Int64
	sink := newBlobSink(t, size, func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if d := int64(ms.HeapAlloc) - int64(base.HeapAlloc); d > peak.Load() {
			peak.Store(d)
		}
	})
	gh := NewReleasesGitHub(NewRunsGitHub(emuClients(t, sink.URL+"/"), WithAppSlug("fivesafes")))
	repo := checks.Repo{InstallationID: runsInstallation, Owner: "ana", Name: "study"}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// A commit of nothing first: the token, the bot user, a connection.
	if _, err := gh.CommitFiles(t.Context(), repo, testSHA, nil, "warm up", at); err != nil {
		t.Fatal(err)
	}
	file := release.CommitFile{Path: "released_outputs/big.bin", Size: size, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(content()), nil
	}}

	runtime.GC()
	runtime.ReadMemStats(&base)
	if _, err := gh.CommitFiles(t.Context(), repo, testSHA, []release.CommitFile{file}, "Release", at); err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if got := sink.blobSHA(); got != wantSHA {
		t.Fatalf("the stand-in received blob %s, want %s", got, wantSHA)
	}
	raw, _ := json.Marshal(blobMemory{
		FileBytes: size, Allocated: after.TotalAlloc - base.TotalAlloc,
		PeakHeap: peak.Load(), HeapAfter: int64(after.HeapAlloc) - int64(base.HeapAlloc),
	})
	if err := os.WriteFile(result, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// blobSink stands in for GitHub's Git Data API for one large blob: it
// decodes the blob as it arrives, hashing it, and calls sample after every
// MiB of it.
type blobSink struct {
	*httptest.Server
	mu  sync.Mutex
	sha string // of the last blob received
}

func newBlobSink(t *testing.T, size int64, sample func()) *blobSink {
	t.Helper()
	s := &blobSink{}
	treeSHA, commitSHA := strings.Repeat("e", 40), strings.Repeat("c", 40)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch route := r.Method + " " + r.URL.Path; {
		case strings.HasPrefix(route, "POST /app/installations/"):
			writeJSON(w, http.StatusCreated, fmt.Sprintf(`{"token":"ghs_sink","expires_at":%q}`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
		case route == "GET /users/fivesafes[bot]":
			writeJSON(w, http.StatusOK, `{"login":"fivesafes[bot]","id":4242,"type":"Bot"}`)
		case route == "GET /repos/ana/study/git/commits/"+testSHA:
			writeJSON(w, http.StatusOK, `{"sha":"`+testSHA+`","tree":{"sha":"`+treeSHA+`"}}`)
		case route == "POST /repos/ana/study/git/blobs":
			sha, err := decodeBlob(r.Body, size, sample)
			if err != nil {
				t.Errorf("blob: %v", err)
				writeJSON(w, http.StatusBadRequest, `{"message":"Problems parsing JSON"}`)
				return
			}
			s.mu.Lock()
			s.sha = sha
			s.mu.Unlock()
			writeJSON(w, http.StatusCreated, `{"sha":"`+sha+`"}`)
		case route == "POST /repos/ana/study/git/trees":
			writeJSON(w, http.StatusCreated, `{"sha":"`+treeSHA+`"}`)
		case route == "POST /repos/ana/study/git/commits":
			writeJSON(w, http.StatusCreated, `{"sha":"`+commitSHA+`"}`)
		default:
			t.Errorf("the stand-in got %s", route)
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *blobSink) blobSHA() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sha
}

// decodeBlob reads {"content":"<base64>","encoding":"base64"} as it
// arrives and returns the Git blob ID of the content, which must be size
// bytes.
func decodeBlob(body io.Reader, size int64, sample func()) (string, error) {
	br := bufio.NewReaderSize(body, 32<<10)
	prefix := make([]byte, len(blobPrefix))
	if _, err := io.ReadFull(br, prefix); err != nil || string(prefix) != blobPrefix {
		return "", fmt.Errorf("starts %q, want %q", prefix, blobPrefix)
	}
	content := &untilQuote{r: br}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", size)
	var n int64
	dec := base64.NewDecoder(base64.StdEncoding, content)
	buf := make([]byte, 32<<10)
	for {
		k, err := dec.Read(buf)
		h.Write(buf[:k])
		if n/(1<<20) != (n+int64(k))/(1<<20) {
			sample()
		}
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		return "", err
	}
	if suffix := string(content.tail) + string(rest); suffix != blobSuffix[1:] || n != size {
		return "", fmt.Errorf("%d bytes of content, then %q; want %d bytes, then %q", n, suffix, size, blobSuffix[1:])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// untilQuote reads up to the next '"', keeping what it read past it.
type untilQuote struct {
	r    *bufio.Reader
	tail []byte
	done bool
}

func (u *untilQuote) Read(p []byte) (int, error) {
	if u.done {
		return 0, io.EOF
	}
	n, err := u.r.Read(p)
	if i := bytes.IndexByte(p[:n], '"'); i >= 0 {
		u.done, u.tail = true, bytes.Clone(p[i+1:n])
		return i, nil
	}
	return n, err
}
