package jobs

import "sync"

// Notifier wakes agents waiting for work on a backend. The store signals it
// after a commit that queued a task; a claim takes the channel before it
// looks for work, so a task queued in between is never missed.
type Notifier struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

// NewNotifier returns a Notifier with nobody waiting.
func NewNotifier() *Notifier { return &Notifier{ch: map[string]chan struct{}{}} }

// Wait returns a channel that is closed at the next Notify for backend.
func (n *Notifier) Wait(backend string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.ch[backend]
	if !ok {
		c = make(chan struct{})
		n.ch[backend] = c
	}
	return c
}

// Notify wakes everyone waiting on backend.
func (n *Notifier) Notify(backend string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.ch[backend]; ok {
		close(c)
		delete(n.ch, backend)
	}
}

// Waiting reports whether someone asked to be woken for backend since the
// last Notify; for tests and benchmarks that must know an agent is parked.
func (n *Notifier) Waiting(backend string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.ch[backend]
	return ok
}
