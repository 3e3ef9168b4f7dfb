package sandbox

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// keptListener is the bot's socket, kept open across restarts of the bot
// so that its address never changes (agents and the emulator know it) and
// no other process can take the port in between. Each bot run gets a view
// of it (view) whose Close ends that run's Accept without closing the
// socket.
type keptListener struct {
	ln *net.TCPListener
}

// acceptPoll is how often a view waiting in Accept looks whether it was closed.
const acceptPoll = 50 * time.Millisecond

func listenKept(addr string) (*keptListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &keptListener{ln: ln.(*net.TCPListener)}, nil
}

// view is one bot run's listener. Only one view accepts at a time.
func (k *keptListener) view() net.Listener { return &listenerView{k: k, closed: make(chan struct{})} }

func (k *keptListener) Close() error { return k.ln.Close() }

type listenerView struct {
	k      *keptListener
	closed chan struct{}
	once   sync.Once
}

func (v *listenerView) Accept() (net.Conn, error) {
	for {
		select {
		case <-v.closed:
			return nil, net.ErrClosed
		default:
		}
		if err := v.k.ln.SetDeadline(time.Now().Add(acceptPoll)); err != nil {
			return nil, err
		}
		c, err := v.k.ln.Accept()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		return c, err
	}
}

func (v *listenerView) Close() error {
	v.once.Do(func() { close(v.closed) })
	return nil
}

func (v *listenerView) Addr() net.Addr { return v.k.ln.Addr() }
