package winrmemu

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// shell is one rsp:Shell. Its fields are fixed at creation except commands,
// which Server.mu guards (the registry lock covers membership).
type shell struct {
	id, user string
	env      map[string]string
	workdir  string
	commands map[string]*command
}

// command is one running (or finished, not yet signalled) command.
// Its output buffers and state are guarded by mu; changed is closed and
// replaced on every change so Receive can wait without polling. The pump
// goroutines (counted in the server's WaitGroup) own the reads of the
// process streams; they end when the process closes its streams.
type command struct {
	id     string
	proc   Process
	cancel context.CancelFunc

	mu       sync.Mutex
	stdout   []byte
	stderr   []byte
	done     bool
	exitCode int
	changed  chan struct{}
}

var errReceiveTimeout = errors.New("receive timed out")

func newCommand(id string, proc Process, cancel context.CancelFunc) *command {
	return &command{id: id, proc: proc, cancel: cancel, changed: make(chan struct{})}
}

// pumps returns the goroutine bodies that drain the process: one per output
// stream, and one that waits for both to reach EOF, then for the exit code.
func (c *command) pumps() []func() {
	var streams sync.WaitGroup
	streams.Add(2)
	pump := func(r io.Reader, stderr bool) func() {
		return func() {
			defer streams.Done()
			buf := make([]byte, 32*1024)
			for {
				n, err := r.Read(buf)
				if n > 0 {
					c.mu.Lock()
					if stderr {
						c.stderr = append(c.stderr, buf[:n]...)
					} else {
						c.stdout = append(c.stdout, buf[:n]...)
					}
					c.wakeLocked()
					c.mu.Unlock()
				}
				if err != nil {
					return
				}
			}
		}
	}
	wait := func() {
		streams.Wait()
		code, err := c.proc.Wait()
		if err != nil && code == 0 {
			code = 1
		}
		c.mu.Lock()
		c.done, c.exitCode = true, code
		c.wakeLocked()
		c.mu.Unlock()
		c.cancel() // release the command's context resources
	}
	return []func(){pump(c.proc.Stdout(), false), pump(c.proc.Stderr(), true), wait}
}

func (c *command) wakeLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// receiveResult is one Receive's worth of output.
type receiveResult struct {
	stdout, stderr []byte
	done           bool // the command has ended and this result carries its last output
	exitCode       int
}

// receive blocks until output is buffered or the command has ended, then
// takes at most max bytes. It returns errReceiveTimeout after timeout.
func (c *command) receive(ctx context.Context, timeout time.Duration, max int) (receiveResult, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if len(c.stdout) > 0 || len(c.stderr) > 0 || c.done {
			var r receiveResult
			r.stdout, c.stdout = take(c.stdout, max)
			r.stderr, c.stderr = take(c.stderr, max-len(r.stdout))
			r.done = c.done && len(c.stdout) == 0 && len(c.stderr) == 0
			r.exitCode = c.exitCode
			c.mu.Unlock()
			return r, nil
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return receiveResult{}, errReceiveTimeout
		case <-ctx.Done():
			return receiveResult{}, ctx.Err()
		}
	}
}

func take(b []byte, max int) (head, rest []byte) {
	if max < 0 {
		max = 0
	}
	if len(b) <= max {
		return b, nil
	}
	return b[:max], b[max:]
}

// terminate stops the process; its pumps then see EOF and finish.
func (c *command) terminate(sig Signal) {
	_ = c.proc.Signal(sig)
	if sig == SignalTerminate {
		c.cancel()
	}
}
