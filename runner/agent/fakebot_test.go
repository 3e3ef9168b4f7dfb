package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "agent-secret"

// fakeBot is the bot's side of the agent protocol, in memory.
type fakeBot struct {
	srv *httptest.Server

	mu    sync.Mutex
	queue []Task
	tasks map[string]*botTask
	stale int // updates answered 409
	// holdDone: a done update is applied but never answered.
	holdDone bool
	// junk is how many claims to answer with broken JSON.
	junk int
	// codeGate, when set, holds code downloads until it is closed.
	codeGate chan struct{}
	changed  chan struct{}

	// approved is each release's approved manifest, by release and path.
	approved map[string]map[string]ReleaseFile
	// uploads are the PUTs of release files, by release "/" path.
	uploads map[string]*botUpload
	// answers are statuses to answer the next PUTs of a file with, first
	// (429, 503 ...), before its upload is looked at.
	answers map[string][]int
	// holdUpload, when set, is called (without mu) before a file's body
	// is read; midUpload once half of it has arrived.
	holdUpload, midUpload func(r *http.Request)
}

// botUpload is what the bot received of one release file.
type botUpload struct {
	puts     int    // requests, answered or not
	received int    // bodies accepted (200)
	size     int64  // of the last body accepted
	sha256   string // of the last body accepted
	body     []byte // the last body accepted, when at most keepBody bytes
}

// keepBody is the largest body the fake bot keeps, so that a 16 MB upload
// costs it no memory.
const keepBody = 1 << 20

// botTask is what the bot knows about one task.
type botTask struct {
	task    Task
	code    []byte
	updates []Update // applied, in order; a repeated seq is not applied twice
	lastSeq int64
	cancel  bool
	// cancelsSent counts answers that said cancel.
	cancelsSent int
	// doneRequests are all done updates received, repeats included.
	doneRequests []Update
}

func newFakeBot(t *testing.T) *fakeBot {
	b := &fakeBot{tasks: map[string]*botTask{}, changed: make(chan struct{}),
		approved: map[string]map[string]ReleaseFile{}, uploads: map[string]*botUpload{}, answers: map[string][]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+APIPrefix+"/tasks/claim", b.claim)
	mux.HandleFunc("POST "+APIPrefix+"/tasks/{id}/update", b.update)
	mux.HandleFunc("GET "+APIPrefix+"/tasks/{id}/code", b.code)
	mux.HandleFunc("PUT "+APIPrefix+"/releases/{id}/files/{path...}", b.upload)
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// notify wakes waiters; call with mu held.
func (b *fakeBot) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// offer queues a task (a new one, or a new attempt of a known one).
func (b *fakeBot) offer(task Task, code []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bt, ok := b.tasks[task.ID]
	if !ok {
		bt = &botTask{}
		b.tasks[task.ID] = bt
	}
	bt.task = task
	if code != nil {
		bt.code = code
	}
	b.queue = append(b.queue, task)
	b.notify()
}

// expire makes the task's current attempt stale, as a lease running out.
func (b *fakeBot) expire(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tasks[id].task.Attempt++
	b.notify()
}

func (b *fakeBot) requestCancel(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tasks[id].cancel = true
}

func (b *fakeBot) claim(w http.ResponseWriter, r *http.Request) {
	wait, err := time.ParseDuration(r.URL.Query().Get("wait"))
	if err != nil {
		http.Error(w, "bad wait", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	if b.junk > 0 {
		b.junk--
		b.mu.Unlock()
		_, _ = w.Write([]byte(`{"id": 12, "kind": [`))
		return
	}
	b.mu.Unlock()
	deadline := time.After(wait)
	for {
		b.mu.Lock()
		if len(b.queue) > 0 {
			t := b.queue[0]
			b.queue = b.queue[1:]
			b.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(t)
			return
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			w.WriteHeader(http.StatusNoContent)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (b *fakeBot) update(w http.ResponseWriter, r *http.Request) {
	var u Update
	if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bt, ok := b.tasks[r.PathValue("id")]
	if !ok {
		http.Error(w, "no such task", http.StatusNotFound)
		return
	}
	if u.Stage == StageDone {
		bt.doneRequests = append(bt.doneRequests, u)
		b.notify()
	}
	if b.holdDone && u.Stage == StageDone {
		// The bot takes the result but the answer never arrives.
		if u.Seq > bt.lastSeq {
			bt.lastSeq = u.Seq
			bt.updates = append(bt.updates, u)
		}
		b.notify()
		b.mu.Unlock()
		<-r.Context().Done()
		b.mu.Lock()
		return
	}
	if u.Attempt != bt.task.Attempt {
		b.stale++
		b.notify()
		http.Error(w, "stale attempt", http.StatusConflict)
		return
	}
	if u.Seq > bt.lastSeq {
		bt.lastSeq = u.Seq
		bt.updates = append(bt.updates, u)
		b.notify()
	}
	if bt.cancel {
		bt.cancelsSent++
		b.notify()
	}
	_ = json.NewEncoder(w).Encode(UpdateAnswer{Cancel: bt.cancel})
}

func (b *fakeBot) code(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	bt, ok := b.tasks[r.PathValue("id")]
	gate := b.codeGate
	b.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if !ok || bt.code == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(bt.code)
}

// approve makes files the approved manifest of a release.
func (b *fakeBot) approve(releaseID string, files ...ReleaseFile) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := map[string]ReleaseFile{}
	for _, f := range files {
		m[f.Path] = f
	}
	b.approved[releaseID] = m
}

// answerUploads makes the next PUTs of a file get these statuses.
func (b *fakeBot) answerUploads(releaseID, path string, statuses ...int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.answers[releaseID+"/"+path] = statuses
}

// uploaded is what the bot has of a release file (zero if nothing).
func (b *fakeBot) uploaded(releaseID, path string) botUpload {
	b.mu.Lock()
	defer b.mu.Unlock()
	if u := b.uploads[releaseID+"/"+path]; u != nil {
		return *u
	}
	return botUpload{}
}

// upload is PUT /releases/{id}/files/{path}, answered as the bot does
// (protocol.UploadPath): the body must be the approved bytes.
func (b *fakeBot) upload(w http.ResponseWriter, r *http.Request) {
	id, path := r.PathValue("id"), r.PathValue("path")
	key := id + "/" + path
	b.mu.Lock()
	up := b.uploads[key]
	if up == nil {
		up = &botUpload{}
		b.uploads[key] = up
	}
	up.puts++
	b.notify()
	var status int
	if s := b.answers[key]; len(s) > 0 {
		status, b.answers[key] = s[0], s[1:]
	}
	files, known := b.approved[id]
	want, listed := files[path]
	hold, probe := b.holdUpload, b.midUpload
	b.mu.Unlock()
	if hold != nil {
		hold(r)
	}
	switch {
	case status != 0:
		writeBotError(w, status, "scripted answer")
		return
	case r.ContentLength < 0:
		writeBotError(w, http.StatusLengthRequired, "send the file with its Content-Length")
		return
	case !known:
		writeBotError(w, http.StatusNotFound, "no such release for this backend")
		return
	case !listed:
		writeBotError(w, http.StatusConflict, path+" is not in the approved manifest")
		return
	}
	h := sha256.New()
	var kept []byte
	keep := func(p []byte) {
		if int64(len(kept)+len(p)) <= keepBody {
			kept = append(kept, p...)
		}
	}
	n, err := io.CopyN(writerFunc(func(p []byte) { h.Write(p); keep(p) }), r.Body, r.ContentLength/2)
	if err == nil && probe != nil {
		probe(r)
	}
	if err == nil {
		var m int64
		m, err = io.Copy(writerFunc(func(p []byte) { h.Write(p); keep(p) }), r.Body)
		n += m
	}
	if err != nil {
		return // the agent went away
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if n != want.Size || sum != want.SHA256 {
		writeBotError(w, http.StatusUnprocessableEntity, "the bytes are not the approved ones")
		return
	}
	b.mu.Lock()
	up.received++
	up.size, up.sha256, up.body = n, sum, nil
	if n <= keepBody {
		up.body = kept
	}
	b.notify()
	b.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "received"})
}

func writeBotError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// waitFor waits until cond holds over the bot's state (called with mu held).
func (b *fakeBot) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		b.mu.Lock()
		ok := cond()
		ch := b.changed
		b.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s; updates: %s", what, b.describe())
		}
	}
}

// await is waitFor for code that cannot fail the test (a handler): it
// reports whether cond came to hold before ctx ended or 20s passed.
func (b *fakeBot) await(ctx context.Context, cond func() bool) bool {
	timeout := time.After(20 * time.Second)
	for {
		b.mu.Lock()
		ok := cond()
		ch := b.changed
		b.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-timeout:
			return false
		}
	}
}

// waitStage waits for an update of the task at the stage and returns it.
func (b *fakeBot) waitStage(t *testing.T, id, stage string) Update {
	t.Helper()
	var got Update
	b.waitFor(t, id+" at stage "+stage, func() bool {
		bt := b.tasks[id]
		for _, u := range bt.updates {
			if u.Stage == stage {
				got = u
				return true
			}
		}
		return false
	})
	return got
}

// stages lists the task's stages, consecutive repeats (lease renewals)
// folded into one.
func (b *fakeBot) stages(id string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, u := range b.tasks[id].updates {
		if len(out) == 0 || out[len(out)-1] != u.Stage {
			out = append(out, u.Stage)
		}
	}
	return out
}

// count counts the task's updates at a stage.
func (b *fakeBot) count(id, stage string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, u := range b.tasks[id].updates {
		if u.Stage == stage {
			n++
		}
	}
	return n
}

func (b *fakeBot) describe() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s strings.Builder
	for id, bt := range b.tasks {
		s.WriteString("\n  " + id + ":")
		for _, u := range bt.updates {
			s.WriteString(" " + u.Stage + "/" + u.StatusCode)
			if u.Stage == StageDone {
				s.WriteString("(" + u.Message + ")")
			}
		}
	}
	return s.String()
}
