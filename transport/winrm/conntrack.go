package winrm

import (
	"context"
	"net"
	"sync"
	"time"
)

// connTracker dials TCP connections and remembers the live ones, so that
// abandoning a client can close them and make the library's blocked HTTP
// requests return instead of leaking goroutines. It also gives the dial a
// timeout of our choosing (the library's default is a fixed 30s).
//
// Concurrency: safe for concurrent use (net/http dials from its own
// goroutines).
type connTracker struct {
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func newConnTracker(timeout time.Duration) *connTracker {
	ctx, cancel := context.WithCancel(context.Background())
	return &connTracker{timeout: timeout, ctx: ctx, cancel: cancel, conns: map[*trackedConn]struct{}{}}
}

// Dial matches the library's dial hook signature.
func (t *connTracker) Dial(network, addr string) (net.Conn, error) {
	return t.DialContext(t.ctx, network, addr)
}

// DialContext is Dial for an http.Transport of our own (the NTLM
// transporter): it also ends with ctx.
func (t *connTracker) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(t.ctx, stop)() // CloseAll cuts off a dial in progress too
	d := net.Dialer{Timeout: t.timeout, KeepAlive: 30 * time.Second}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	t.conns[tc] = struct{}{}
	return tc, nil
}

// CloseAll stops new dials and closes every live connection.
func (t *connTracker) CloseAll() {
	t.cancel()
	t.mu.Lock()
	t.closed = true
	conns := t.conns
	t.conns = map[*trackedConn]struct{}{}
	t.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	t *connTracker
}

func (c *trackedConn) Close() error {
	c.t.mu.Lock()
	delete(c.t.conns, c)
	c.t.mu.Unlock()
	return c.Conn.Close()
}
