package agent

import (
	"encoding/json"
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
}

// botTask is what the bot knows about one task.
type botTask struct {
	task    Task
	code    []byte
	updates []Update // applied, in order; a repeated seq is not applied twice
	lastSeq int64
	cancel  bool
	// doneRequests are all done updates received, repeats included.
	doneRequests []Update
}

func newFakeBot(t *testing.T) *fakeBot {
	b := &fakeBot{tasks: map[string]*botTask{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+APIPrefix+"/tasks/claim", b.claim)
	mux.HandleFunc("POST "+APIPrefix+"/tasks/{id}/update", b.update)
	mux.HandleFunc("GET "+APIPrefix+"/tasks/{id}/code", b.code)
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
