package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/fivesafes/fivesafes/runner/protocol"
)

// storeFile puts a file in the workspace's medium privacy store.
func storeFile(t *testing.T, cfg *Config, p string, data []byte) string {
	t.Helper()
	full := filepath.Join(cfg.MediumPrivacyDir, wsDir(t), filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return full
}

// approvedAs is a file as a manifest approved it.
func approvedAs(p string, data []byte) ReleaseFile {
	sum := sha256.Sum256(data)
	return ReleaseFile{Path: p, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

func releaseTask(id, kind string, files ...ReleaseFile) Task {
	return Task{ID: id, Kind: kind, Attempt: 1, LeaseSeconds: 60,
		Release: &ReleaseTask{ID: "rel-1", Revision: 1, Workspace: workspace, Files: files}}
}

func asked(paths ...string) []ReleaseFile {
	files := make([]ReleaseFile, len(paths))
	for i, p := range paths {
		files[i] = ReleaseFile{Path: p}
	}
	return files
}

const tableCSV = "group,n\na,3\nb,10\n"

// pngBytes is a binary file: every byte value, line ends and NULs.
func pngBytes() []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	for i := range 256 {
		b = append(b, byte(i))
	}
	return append(b, "\r\n\x00\r"...)
}

func TestPrepareReleaseReportsTheManifest(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	cfg := newZone(t, bot)
	storeFile(t, cfg, "output/table.csv", []byte(tableCSV))
	storeFile(t, cfg, "output/plot.png", pngBytes())
	outside := filepath.Join(t.TempDir(), "secret.csv")
	if err := os.WriteFile(outside, []byte("patient_id\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(storeFile(t, cfg, "output/keep", nil))
	if err := os.Symlink(outside, filepath.Join(dir, "abs-link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../"+filepath.Base(filepath.Dir(outside))+"/secret.csv", filepath.Join(dir, "rel-link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("table.csv", filepath.Join(dir, "inside-link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.csv"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.csv"), 0o600); err != nil {
		t.Fatal(err)
	}
	startAgent(t, cfg)

	paths := []string{"output/table.csv", "output/plot.png", "output/missing.csv", "../x", "/etc/passwd",
		"output/abs-link.csv", "output/rel-link.csv", "output/inside-link.csv", "output/sub.csv", "output/pipe.csv"}
	bot.offer(releaseTask("p", KindPrepareRelease, asked(paths...)...), nil)
	done := bot.waitStage(t, "p", StageDone)

	if done.StatusCode != CodeSucceeded || done.Seq != 1 {
		t.Errorf("done = %s seq %d (%s), want succeeded with the first and only update", done.StatusCode, done.Seq, done.Message)
	}
	if len(done.Manifest) != len(paths) {
		t.Fatalf("manifest has %d files, want %d: %+v", len(done.Manifest), len(paths), done.Manifest)
	}
	two, csvSum, pngSum := 2, approvedAs("", []byte(tableCSV)).SHA256, approvedAs("", pngBytes()).SHA256
	table := ManifestFile{Path: "output/table.csv", Size: int64(len(tableCSV)), SHA256: csvSum, Type: "csv", Rows: &two, Columns: &two,
		Findings: []Finding{
			{Check: protocol.CheckSmallCount, Message: `column "n": 1 count of 1 to 7 (row 1)`},
			{Check: protocol.CheckUnroundedCount, Message: `column "n": 1 count not a multiple of 5 (row 1)`},
		}}
	inside := table
	inside.Path = "output/inside-link.csv"
	want := []ManifestFile{
		table,
		{Path: "output/plot.png", Size: int64(len(pngBytes())), SHA256: pngSum, Type: "png", Findings: []Finding{}},
		{Path: "output/missing.csv", Findings: []Finding{}, Problem: problemMissing},
		{Path: "../x", Findings: []Finding{}, Problem: problemNotLocal},
		{Path: "/etc/passwd", Findings: []Finding{}, Problem: problemNotLocal},
		{Path: "output/abs-link.csv", Findings: []Finding{}, Problem: problemUnopenable},
		{Path: "output/rel-link.csv", Findings: []Finding{}, Problem: problemUnopenable},
		inside, // a link that stays in the store is followed
		{Path: "output/sub.csv", Findings: []Finding{}, Problem: problemNotRegular},
		{Path: "output/pipe.csv", Findings: []Finding{}, Problem: problemNotRegular},
	}
	for i, got := range done.Manifest {
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("manifest[%d] =\n  %s\nwant\n  %s", i, showManifest(got), showManifest(want[i]))
		}
	}
	if n := bot.count("p", StageExecuting); n != 0 {
		t.Errorf("%d progress updates for a quick task, want only the done one", n)
	}
}

func showManifest(m ManifestFile) string {
	s := fmt.Sprintf("%s size %d sha %q type %q problem %q", m.Path, m.Size, m.SHA256, m.Type, m.Problem)
	if m.Rows != nil && m.Columns != nil {
		s += fmt.Sprintf(" rows %d columns %d", *m.Rows, *m.Columns)
	}
	for _, f := range m.Findings {
		s += "\n    " + f.Check + ": " + f.Message
	}
	return s
}

func TestPrepareReleaseOfAWorkspaceWithoutAStore(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	startAgent(t, newZone(t, bot))
	task := releaseTask("p", KindPrepareRelease, asked("output/a.csv")...)
	task.Release.Workspace = "acme/study/never-ran"
	bot.offer(task, nil)
	done := bot.waitStage(t, "p", StageDone)
	if done.StatusCode != CodeSucceeded || len(done.Manifest) != 1 || done.Manifest[0].Problem != problemMissing {
		t.Errorf("done = %s (%s) %+v, want the file reported missing", done.StatusCode, done.Message, done.Manifest)
	}
}

func TestUploadReleaseSendsTheApprovedFiles(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	cfg := newZone(t, bot)
	storeFile(t, cfg, "output/table.csv", []byte(tableCSV))
	storeFile(t, cfg, "output/plot.png", pngBytes())
	storeFile(t, cfg, "output/empty.txt", nil)
	files := []ReleaseFile{approvedAs("output/table.csv", []byte(tableCSV)), approvedAs("output/plot.png", pngBytes()), approvedAs("output/empty.txt", nil)}
	bot.approve("rel-1", files...)
	startAgent(t, cfg)

	bot.offer(releaseTask("u", KindUploadRelease, files...), nil)
	done := bot.waitStage(t, "u", StageDone)
	if done.StatusCode != CodeSucceeded {
		t.Fatalf("done = %s (%s), want succeeded", done.StatusCode, done.Message)
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{"output/table.csv", []byte(tableCSV)}, {"output/plot.png", pngBytes()}, {"output/empty.txt", nil}} {
		got := bot.uploaded("rel-1", f.path)
		if got.puts != 1 || got.received != 1 || !bytes.Equal(got.body, f.data) {
			t.Errorf("%s: %d PUTs, %d received, %q; want the file once, byte for byte", f.path, got.puts, got.received, got.body)
		}
	}
}

func TestUploadReleaseSendsNothingThatIsNotTheApprovedFile(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		change func(t *testing.T, cfg *Config)
		msg    string
	}{
		"the same size, other bytes": {
			change: func(t *testing.T, cfg *Config) { storeFile(t, cfg, "output/b.csv", []byte("group,n\na,4\nb,10\n")) },
			msg:    "output/b.csv changed since it was approved",
		},
		"a line added": {
			change: func(t *testing.T, cfg *Config) { storeFile(t, cfg, "output/b.csv", []byte(tableCSV+"c,1\n")) },
			msg:    "output/b.csv changed since it was approved",
		},
		"cut short": {
			change: func(t *testing.T, cfg *Config) { storeFile(t, cfg, "output/b.csv", []byte(tableCSV[:5])) },
			msg:    "output/b.csv changed since it was approved",
		},
		"removed": {
			change: func(t *testing.T, cfg *Config) {
				if err := os.Remove(filepath.Join(cfg.MediumPrivacyDir, wsDir(t), "output", "b.csv")); err != nil {
					t.Fatal(err)
				}
			},
			msg: "output/b.csv: " + problemMissing,
		},
		"replaced by a link out of the store": {
			change: func(t *testing.T, cfg *Config) {
				outside := filepath.Join(t.TempDir(), "b.csv")
				if err := os.WriteFile(outside, []byte(tableCSV), 0o600); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(cfg.MediumPrivacyDir, wsDir(t), "output", "b.csv")
				if err := errors.Join(os.Remove(p), os.Symlink(outside, p)); err != nil {
					t.Fatal(err)
				}
			},
			msg: "output/b.csv: " + problemUnopenable,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bot := newFakeBot(t)
			cfg := newZone(t, bot)
			storeFile(t, cfg, "output/a.png", pngBytes())
			storeFile(t, cfg, "output/b.csv", []byte(tableCSV))
			files := []ReleaseFile{approvedAs("output/a.png", pngBytes()), approvedAs("output/b.csv", []byte(tableCSV))}
			bot.approve("rel-1", files...)
			tc.change(t, cfg)
			startAgent(t, cfg)

			bot.offer(releaseTask("u", KindUploadRelease, files...), nil)
			done := bot.waitStage(t, "u", StageDone)
			if done.StatusCode != CodeInternalError || done.Message != tc.msg {
				t.Errorf("done = %s (%q), want internal_error (%q)", done.StatusCode, done.Message, tc.msg)
			}
			for _, p := range []string{"output/a.png", "output/b.csv"} {
				if n := bot.uploaded("rel-1", p).puts; n != 0 {
					t.Errorf("%s was sent %d times; nothing of the release may be sent", p, n)
				}
			}
		})
	}
}

func TestUploadReleaseStopsAtTheBotsFinalAnswer(t *testing.T) {
	t.Parallel()
	file := approvedAs("output/table.csv", []byte(tableCSV))
	cases := map[string]struct {
		approve func(bot *fakeBot)
		msg     string
	}{
		"404: no such release": {
			approve: func(bot *fakeBot) {},
			msg:     "upload output/table.csv: the bot answered 404 Not Found: no such release for this backend",
		},
		"409: not in the approved manifest": {
			approve: func(bot *fakeBot) { bot.approve("rel-1", approvedAs("output/other.csv", nil)) },
			msg:     "upload output/table.csv: the bot answered 409 Conflict: output/table.csv is not in the approved manifest",
		},
		"422: not the bytes the bot approved": {
			approve: func(bot *fakeBot) {
				bot.approve("rel-1", approvedAs("output/table.csv", []byte("group,n\na,5\nb,10\n")))
			},
			msg: "upload output/table.csv: the bot answered 422 Unprocessable Entity: the bytes are not the approved ones",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bot := newFakeBot(t)
			cfg := newZone(t, bot)
			storeFile(t, cfg, "output/table.csv", []byte(tableCSV))
			tc.approve(bot)
			startAgent(t, cfg)

			bot.offer(releaseTask("u", KindUploadRelease, file), nil)
			done := bot.waitStage(t, "u", StageDone)
			if done.StatusCode != CodeInternalError || done.Message != tc.msg {
				t.Errorf("done = %s (%q), want internal_error (%q)", done.StatusCode, done.Message, tc.msg)
			}
			if n := bot.uploaded("rel-1", file.Path).puts; n != 1 {
				t.Errorf("%d PUTs, want 1: a final answer is not retried", n)
			}
		})
	}
}

func TestUploadReleaseRetriesWhatMayPass(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	cfg := newZone(t, bot)
	storeFile(t, cfg, "output/plot.png", pngBytes())
	file := approvedAs("output/plot.png", pngBytes())
	bot.approve("rel-1", file)
	bot.answerUploads("rel-1", file.Path, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway)
	startAgent(t, cfg)

	bot.offer(releaseTask("u", KindUploadRelease, file), nil)
	done := bot.waitStage(t, "u", StageDone)
	got := bot.uploaded("rel-1", file.Path)
	if done.StatusCode != CodeSucceeded || got.puts != 4 || got.received != 1 || !bytes.Equal(got.body, pngBytes()) {
		t.Errorf("done = %s (%s); %d PUTs, %d received; want 3 retries and the file", done.StatusCode, done.Message, got.puts, got.received)
	}
}

func TestUploadReleaseRenewsTheLease(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	cfg := newZone(t, bot)
	data := bytes.Repeat([]byte("n\n10\n"), 1000)
	storeFile(t, cfg, "output/t.csv", data)
	file := approvedAs("output/t.csv", data)
	bot.approve("rel-1", file)
	// The upload is held halfway until the agent has renewed the lease twice.
	bot.midUpload = func(r *http.Request) {
		bot.await(r.Context(), func() bool {
			n := 0
			for _, u := range bot.tasks["u"].updates {
				if u.Stage == StageExecuting {
					n++
				}
			}
			return n >= 2
		})
	}
	startAgent(t, cfg)

	task := releaseTask("u", KindUploadRelease, file)
	task.LeaseSeconds = 1
	bot.offer(task, nil)
	done := bot.waitStage(t, "u", StageDone)
	if done.StatusCode != CodeSucceeded {
		t.Errorf("done = %s (%s), want succeeded", done.StatusCode, done.Message)
	}
	if n := bot.count("u", StageExecuting); n < 2 {
		t.Errorf("%d lease renewals during the upload, want at least 2", n)
	}
	bot.mu.Lock()
	defer bot.mu.Unlock()
	var last int64
	for _, u := range bot.tasks["u"].updates {
		if u.Seq <= last || u.Attempt != 1 {
			t.Errorf("update seq %d attempt %d after seq %d: want increasing seqs of attempt 1", u.Seq, u.Attempt, last)
		}
		last = u.Seq
	}
}

// An upload stops halfway when the bot answers that the task is over (the
// release was withdrawn) or the agent stops; the task is not reported done.
func TestUploadReleaseStopsWhenInterrupted(t *testing.T) {
	t.Parallel()
	cases := map[string]func(bot *fakeBot, stopAgent func()){
		"the bot no longer wants the task": func(bot *fakeBot, _ func()) {
			bot.requestCancel("u")
			// The body is read once the answer is on its way: the agent
			// stops long before the rest of the file could arrive.
			bot.await(context.Background(), func() bool { return bot.tasks["u"].cancelsSent > 0 })
		},
		"the agent stops": func(_ *fakeBot, stopAgent func()) { stopAgent() },
	}
	for name, interrupt := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bot := newFakeBot(t)
			cfg := newZone(t, bot)
			cfg.Workers = 1
			// Far more than the sockets between agent and bot hold, so that
			// the body cannot have been sent whole when the upload stops.
			file := bigFile(t, cfg, "output/big.csv", 32<<20)
			bot.approve("rel-1", file)
			var stopAgent func()
			arrived := make(chan error, 1)
			bot.holdUpload = func(r *http.Request) {
				interrupt(bot, stopAgent)
				_, err := io.Copy(io.Discard, r.Body)
				arrived <- err
			}
			stopAgent = startAgent(t, cfg)

			task := releaseTask("u", KindUploadRelease, file)
			task.LeaseSeconds = 1
			bot.offer(task, nil)
			if err := <-arrived; err == nil {
				t.Fatal("the whole file arrived: the upload did not stop")
			}
			if name == "the agent stops" {
				stopAgent() // waits for the agent to be over
			} else {
				// One worker: once the next task is done, the agent is over with this one.
				bot.offer(releaseTask("next", KindPrepareRelease), nil)
				bot.waitStage(t, "next", StageDone)
			}
			bot.mu.Lock()
			defer bot.mu.Unlock()
			if n := len(bot.tasks["u"].doneRequests); n != 0 {
				t.Errorf("%d done updates for an interrupted task, want none", n)
			}
			if n := bot.uploads["rel-1/"+file.Path].received; n != 0 {
				t.Errorf("the file was received %d times, want 0", n)
			}
		})
	}
}

// bigFile writes a CSV of size bytes to the store, without holding it.
func bigFile(t *testing.T, cfg *Config, p string, size int) ReleaseFile {
	t.Helper()
	full := storeFile(t, cfg, p, nil)
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	line := []byte("E82001,2021,group a,3,12.5,17\n")
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 64<<10)
	for written := 0; written < size; written += len(line) {
		if _, err := w.Write(line[:min(len(line), size-written)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return ReleaseFile{Path: p, Size: int64(size), SHA256: hex.EncodeToString(h.Sum(nil))}
}

// A 16 MB file is streamed: the live heap halfway through its upload
// (the fake bot keeps only its hash) is far from 16 MB above where it was.
func TestUploadReleaseOf16MBKeepsMemoryFlat(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	cfg := newZone(t, bot)
	const size = 16 << 20
	file := bigFile(t, cfg, "output/big.csv", size)
	bot.approve("rel-1", file)
	var growth atomic.Int64
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	bot.midUpload = func(*http.Request) {
		var now runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&now)
		growth.Store(int64(now.HeapAlloc) - int64(before.HeapAlloc))
	}
	startAgent(t, cfg)

	bot.offer(releaseTask("u", KindUploadRelease, file), nil)
	done := bot.waitStage(t, "u", StageDone)
	got := bot.uploaded("rel-1", file.Path)
	if done.StatusCode != CodeSucceeded || got.received != 1 || got.size != size || got.sha256 != file.SHA256 {
		t.Fatalf("done = %s (%s); received %d, %d bytes; want the 16 MB file", done.StatusCode, done.Message, got.received, got.size)
	}
	if g := growth.Load(); g > 8<<20 {
		t.Errorf("the live heap grew by %d bytes halfway through a 16 MB upload, want far less than the file", g)
	}
}

func TestReleaseTasksAreDoneAgainWhenClaimedAgain(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	cfg := newZone(t, bot)
	storeFile(t, cfg, "output/table.csv", []byte(tableCSV))
	file := approvedAs("output/table.csv", []byte(tableCSV))
	bot.approve("rel-1", file)
	startAgent(t, cfg)

	for _, task := range []Task{releaseTask("p", KindPrepareRelease, asked(file.Path)...), releaseTask("u", KindUploadRelease, file)} {
		bot.offer(task, nil)
		bot.waitFor(t, task.ID+" done once", func() bool { return len(bot.tasks[task.ID].doneRequests) == 1 })
		task.Attempt = 2 // the lease ran out before the bot had the result
		bot.offer(task, nil)
		bot.waitFor(t, task.ID+" done again", func() bool { return len(bot.tasks[task.ID].doneRequests) == 2 })
		bot.mu.Lock()
		first, again := bot.tasks[task.ID].doneRequests[0], bot.tasks[task.ID].doneRequests[1]
		bot.mu.Unlock()
		if first.StatusCode != CodeSucceeded || again.StatusCode != CodeSucceeded || again.Attempt != 2 ||
			!reflect.DeepEqual(first.Manifest, again.Manifest) {
			t.Errorf("%s: first %+v, again %+v; want the same result for attempt 2", task.ID, first, again)
		}
	}
	if got := bot.uploaded("rel-1", file.Path); got.puts != 2 || got.received != 2 {
		t.Errorf("%d PUTs, %d received; want the file sent again", got.puts, got.received)
	}
}

// A body that turns out not to be the approved file stops the upload: it is
// not sent again and again.
func TestUploadIsNotRetriedWhenTheBodyRefuses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, testToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = time.Millisecond
	opened := 0
	err = c.Upload(testContext(t), "rel-1", "output/x.csv", 10, func() (io.ReadCloser, error) {
		opened++
		return io.NopCloser(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(changed("output/x.csv")))), nil
	})
	var u unsendable
	if !errors.As(err, &u) || u.Error() != "output/x.csv changed since it was approved" || opened != 1 {
		t.Errorf("err = %v after %d tries, want the file's refusal after 1", err, opened)
	}
}

// A task without a release cannot be done; it ends at once.
func TestReleaseTaskWithoutARelease(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t)
	startAgent(t, newZone(t, bot))
	bot.offer(Task{ID: "p", Kind: KindPrepareRelease, Attempt: 1}, nil)
	done := bot.waitStage(t, "p", StageDone)
	if done.StatusCode != CodeInternalError || done.Message != "the prepare_release task names no release" {
		t.Errorf("done = %s (%q), want internal_error naming the kind", done.StatusCode, done.Message)
	}
}
