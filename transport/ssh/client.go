package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/patchrun/patchrun/transport"
)

// Client is one authenticated SSH connection to one host; it implements
// transport.Transport.
//
// Concurrency: a Client belongs to one worker at a time (Run and Upload are
// not meant to be called concurrently, as the Transport contract says).
// Internally it runs a keepalive goroutine and one waiter goroutine per
// command; Close stops and joins all of them. Close may be called from any
// goroutine, more than once.
type Client struct {
	name string // "host:port" for messages
	ssh  *gossh.Client
	jump *Client // closed after ssh, when set

	done      chan struct{} // closed by Close: stops the keepalive
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu     sync.Mutex
	lost   error // why the keepalive closed the connection; guarded by mu
	closed bool  // Close has begun: spawn starts nothing more; guarded by mu
}

var _ transport.Transport = (*Client)(nil)

// errClientClosed: Run after (or racing) Close; the connection is gone.
var errClientClosed = fmt.Errorf("client closed: %w", net.ErrClosed)

func newClient(cfg Config, sc *gossh.Client, jump *Client) *Client {
	c := &Client{name: cfg.hostport(), ssh: sc, jump: jump, done: make(chan struct{})}
	if cfg.KeepaliveInterval > 0 {
		c.spawn(func() { c.keepalive(cfg.KeepaliveInterval, cfg.KeepaliveCountMax) })
	}
	return c
}

// spawn runs f in a goroutine that Close joins. It reports false (and runs
// nothing) once Close has begun, so wg.Add never races wg.Wait.
func (c *Client) spawn(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// Close closes the connection (and the jump host's), then waits for every
// goroutine the Client started. Safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.done)
		c.ssh.Close() // an error here only means it was already closed
		c.wg.Wait()
		closeJump(c.jump)
	})
	return nil
}

// Run runs cmd.Line in a new session. See transport.Transport.
//
// A command killed by a signal reports ExitCode 128+n, as a POSIX shell
// does (unknown signals: 128), and a "patchrun: remote command killed by
// signal NAME" line is appended to Stderr.
func (c *Client) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return transport.Result{}, fmt.Errorf("ssh %s: run: %w", c.name, err)
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return transport.Result{}, c.connErr(stageSession, errClientClosed)
	}
	sess, err := c.ssh.NewSession()
	if err != nil {
		return transport.Result{}, c.connErr(stageSession, err)
	}
	defer sess.Close()

	stdout := &transport.CapBuffer{Max: cmd.MaxOutput}
	stderr := &transport.CapBuffer{Max: cmd.MaxOutput}
	sess.Stdout = tee(stdout, cmd.Stdout)
	sess.Stderr = tee(stderr, cmd.Stderr)
	sess.Stdin = cmd.Stdin
	if err := sess.Start(cmd.Line); err != nil {
		return transport.Result{}, c.connErr(stageSession, err)
	}

	waited := make(chan error, 1)
	if !c.spawn(func() { waited <- sess.Wait() }) {
		return transport.Result{}, c.connErr(stageSession, errClientClosed)
	}

	select {
	case err = <-waited:
	case <-ctx.Done():
		// Best effort: OpenSSH's sshd ignores "signal" before 7.9 and the
		// close alone hangs up the remote command. The waiter finishes when
		// the server acknowledges the close, or at Close.
		sess.Signal(gossh.SIGKILL)
		sess.Close()
		return transport.Result{}, fmt.Errorf("ssh %s: run: %w", c.name, ctx.Err())
	}

	res := transport.Result{Duration: time.Since(start)}
	var exitErr *gossh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitStatus()
		if sig := exitErr.Signal(); sig != "" {
			fmt.Fprintf(stderr, "\npatchrun: remote command killed by signal %s\n", sig)
		}
	default:
		return transport.Result{}, c.connErr(stageRun, err)
	}
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	res.Truncated = stdout.Truncated() || stderr.Truncated()
	return res, nil
}

// connErr classifies a session failure. When the keepalive closed the
// connection, its reason is named and the error is always ErrConnLost.
func (c *Client) connErr(stage string, err error) error {
	c.mu.Lock()
	lost := c.lost
	c.mu.Unlock()
	if lost != nil {
		return fmt.Errorf("ssh %s: %s: %w: %w (%v)", c.name, stage, transport.ErrConnLost, lost, err)
	}
	return fmt.Errorf("ssh %s: %w", c.name, classify(stage, err))
}

// tee writes to the result buffer and, best effort, to an observer: an
// observer's error must not stop the stream (the remote would block on a
// full window).
func tee(buf *transport.CapBuffer, observer io.Writer) io.Writer {
	if observer == nil {
		return buf
	}
	return teeWriter{buf: buf, observer: observer}
}

type teeWriter struct {
	buf      *transport.CapBuffer
	observer io.Writer
}

func (t teeWriter) Write(p []byte) (int, error) {
	t.buf.Write(p)
	t.observer.Write(p) //nolint:errcheck // best effort, see tee
	return len(p), nil
}
