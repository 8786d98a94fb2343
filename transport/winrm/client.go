package winrm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/masterzen/winrm"

	"github.com/patchrun/patchrun/transport"
)

// MaxStdin bounds Command.Stdin: it is read fully before the command starts.
const MaxStdin = 8 << 20

var errClosed = errors.New("winrm client closed")

// Client is a WinRM connection to one host. It implements
// transport.Transport.
//
// Concurrency: a Client belongs to one worker. Operations are serialized
// (a second concurrent Run waits for the first): one remote shell, and on an
// NTLM client one authenticated connection whose messages must stay in
// order. Close
// may be called from another goroutine to cut an operation off.
//
// One remote shell is reused across commands and replaced every
// Config.RecycleAfter commands; Close deletes it.
type Client struct {
	cfg    Config
	wc     *winrm.Client
	params winrm.Parameters
	url    string
	guard  *guard
	conns  *connTracker

	sem chan struct{} // holds one token while an operation runs

	// Owned by whoever holds sem.
	shell     *winrm.Shell
	shellRuns int
	closed    bool
}

var _ transport.Transport = (*Client)(nil)

// Run runs cmd.Line with cmd.exe in the client's shell. err == nil means the
// command completed and Result.ExitCode is real; any error means the outcome
// is unknown. CLIXML on stderr is decoded into readable text in
// Result.Stderr (cmd.Stderr still receives the raw stream).
//
// cmd.Stdin works on every client. On an NTLM client (sealed or not) all
// messages share one authenticated connection, so a command that waits
// for its stdin gets it only after the Receive already in flight returns:
// up to OperationTimeout later. (The host binds the NTLM logon to the
// connection; a second connection for the Send would need its own
// handshake.)
//
// If the context ends, the library signals the remote command to stop once
// the Receive in flight returns (within OperationTimeout), so cancellation
// takes up to about OperationTimeout; if it takes longer than
// Config.CallTimeout, the Client is abandoned (every later call fails) and
// Run returns anyway.
func (c *Client) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if err := c.acquire(ctx); err != nil {
		return transport.Result{}, err
	}
	defer c.release()
	return c.run(ctx, cmd)
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("winrm %s: waiting for the connection: %w", c.hostPort(), ctx.Err())
	}
}

func (c *Client) release() { <-c.sem }

// usable reports why the client cannot run anything. Caller holds sem.
func (c *Client) usable() error {
	if c.closed {
		return errClosed
	}
	if err := c.guard.brokenErr(); err != nil {
		return err
	}
	return nil
}

// run is Run with sem held.
func (c *Client) run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if err := c.usable(); err != nil {
		return transport.Result{}, err
	}
	var stdin []byte
	if cmd.Stdin != nil {
		data, err := io.ReadAll(io.LimitReader(cmd.Stdin, MaxStdin+1))
		if err != nil {
			return transport.Result{}, fmt.Errorf("read stdin: %w", err)
		}
		if len(data) > MaxStdin {
			return transport.Result{}, fmt.Errorf("stdin larger than %d bytes: use Upload", MaxStdin)
		}
		stdin = data
	}
	for attempt := 0; ; attempt++ {
		shell, err := c.ensureShell(ctx)
		if err != nil {
			return transport.Result{}, err
		}
		c.shellRuns++
		res, started, err := c.execute(ctx, shell, cmd, stdin)
		if err == nil {
			return res, nil
		}
		var fault *WSManFault
		if errors.As(err, &fault) && fault.ShellGone() {
			c.shell = nil // gone with a reboot or an idle timeout; nothing to delete
			if !started && attempt == 0 {
				continue // the command never ran: safe to run it in a fresh shell
			}
			return transport.Result{}, fmt.Errorf("%w: remote shell vanished while the command ran: %s", transport.ErrConnLost, fault)
		}
		if started {
			err = inFlight(err)
		}
		return transport.Result{}, err
	}
}

// execute runs one command in shell. started reports whether the host
// accepted the command (from then on a failure leaves its outcome unknown).
func (c *Client) execute(ctx context.Context, shell *winrm.Shell, cmd transport.Command, stdin []byte) (res transport.Result, started bool, err error) {
	start := time.Now()
	var command *winrm.Command
	err = c.call(ctx, "start command", func() error {
		var err error
		command, err = shell.ExecuteWithContext(ctx, cmd.Line)
		return err
	})
	if err != nil {
		return res, false, fmt.Errorf("start command: %w", err)
	}

	stdout := &transport.CapBuffer{Max: cmd.MaxOutput}
	stderr := &transport.CapBuffer{Max: cmd.MaxOutput}
	gate := &writeGate{}
	var (
		wg             sync.WaitGroup
		outErr, errErr error
	)
	wg.Add(2)
	go func() { defer wg.Done(); _, outErr = io.Copy(gate.writer(stdout, cmd.Stdout), command.Stdout) }()
	go func() { defer wg.Done(); _, errErr = io.Copy(gate.writer(stderr, cmd.Stderr), command.Stderr) }()
	if stdin != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A command that exits without reading stdin makes these fail;
			// its exit code is still real, so the error is not reported.
			if _, err := command.Stdin.Write(stdin); err == nil {
				_ = command.Stdin.Close()
			}
		}()
	}
	err = c.call(ctx, "run command", func() error {
		command.Wait()
		wg.Wait()
		return nil
	})
	gate.close() // an abandoned command may not write into our buffers any more
	if err != nil {
		return res, true, err
	}
	if ctx.Err() != nil {
		return res, true, fmt.Errorf("run command: %w", ctx.Err())
	}
	// The library closes the output pipes with the Receive error; a clean
	// EOF on both is the only sign the command really completed.
	if err := firstErr(outErr, errErr); err != nil {
		return res, true, fmt.Errorf("run command: %w", err)
	}
	res = transport.Result{
		ExitCode:  command.ExitCode(),
		Stdout:    stdout.Bytes(),
		Stderr:    []byte(DecodeCLIXML(stderr.Bytes())),
		Truncated: stdout.Truncated() || stderr.Truncated(),
		Duration:  time.Since(start),
	}
	// Release the finished command on the host, as the library's own Run
	// does; a failure here does not change the result.
	_ = c.call(ctx, "release command", command.Close)
	return res, true, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// call runs fn, a blocking library call, and waits for it, for ctx, and
// then at most Config.CallTimeout more: the library reacts to a cancelled
// command with a Signal and one more Receive. If fn still has not returned,
// the client is abandoned: the guard fails every later request at once and
// our connections are closed, which ends the library's goroutines. (Only a
// Kerberos client, whose connections the library dials itself, can leave a
// goroutine blocked in the network until TCP gives up.)
func (c *Client) call(ctx context.Context, what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := time.NewTimer(c.cfg.CallTimeout)
	defer grace.Stop()
	select {
	case <-done:
		return fmt.Errorf("%s: %w", what, ctx.Err())
	case <-grace.C:
		lost := fmt.Errorf("%w: %s did not return within %s after cancellation; winrm client abandoned",
			transport.ErrConnLost, what, c.cfg.CallTimeout)
		c.guard.kill(lost)
		return fmt.Errorf("%w (%w)", lost, ctx.Err())
	}
}

// ensureShell returns the shared shell, recycling it after RecycleAfter
// commands and creating it when there is none. Caller holds sem.
func (c *Client) ensureShell(ctx context.Context) (*winrm.Shell, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if c.shell != nil && c.shellRuns >= c.cfg.RecycleAfter {
		_ = c.deleteShell(ctx) // best effort: a leaked shell expires on the host
	}
	if c.shell != nil {
		return c.shell, nil
	}
	var id string
	err := c.call(ctx, "create shell", func() error {
		// Built by hand rather than with CreateShell: the library accepts a
		// response without a shell id and returns a shell that cannot work.
		body, err := c.guard.Post(c.wc, winrm.NewOpenShellRequest(c.url, &c.params))
		if err != nil {
			return err
		}
		id, err = winrm.ParseOpenShellResponse(body)
		if err != nil {
			return &ProtocolError{Reason: "create shell: " + err.Error()}
		}
		if id == "" {
			return &ProtocolError{Reason: "create shell: response has no ShellId", Excerpt: excerpt(body)}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create shell: %w", err)
	}
	c.shell = c.wc.NewShell(id)
	c.shellRuns = 0
	return c.shell, nil
}

// deleteShell deletes the current shell. Caller holds sem.
func (c *Client) deleteShell(ctx context.Context) error {
	shell := c.shell
	c.shell = nil
	if shell == nil {
		return nil
	}
	err := c.call(ctx, "delete shell", shell.Close)
	var fault *WSManFault
	if err == nil || (errors.As(err, &fault) && fault.ShellGone()) || transport.Kind(err) != "" {
		return nil // gone already, or the host is: nothing left to clean
	}
	return fmt.Errorf("delete shell: %w", err)
}

// Close deletes the shell and releases connections. Safe to call more than
// once and from another goroutine (an operation in flight is cut off).
func (c *Client) Close() error {
	select {
	case c.sem <- struct{}{}:
	default:
		c.guard.kill(errClosed)
		timer := time.NewTimer(c.cfg.CallTimeout)
		defer timer.Stop()
		select {
		case c.sem <- struct{}{}:
		case <-timer.C:
			return nil // the operation is abandoned; the guard refuses everything now
		}
	}
	defer c.release()
	if c.closed {
		return nil
	}
	c.closed = true
	var err error
	if c.shell != nil && c.guard.brokenErr() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CallTimeout)
		err = c.deleteShell(ctx)
		cancel()
	}
	c.guard.kill(errClosed)
	if err != nil {
		return fmt.Errorf("winrm %s: close: %w", c.hostPort(), err)
	}
	return nil
}

// writeGate lets stream copies write into a Result's buffers (and the
// caller's tee writers) only until the command is over; after close, writes
// are dropped. Safe for concurrent use.
type writeGate struct {
	mu     sync.Mutex
	closed bool
}

func (g *writeGate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

type gatedWriter struct {
	g    *writeGate
	keep *transport.CapBuffer
	tee  io.Writer
}

func (g *writeGate) writer(keep *transport.CapBuffer, tee io.Writer) io.Writer {
	return &gatedWriter{g: g, keep: keep, tee: tee}
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	w.g.mu.Lock()
	defer w.g.mu.Unlock()
	if w.g.closed {
		return len(p), nil
	}
	_, _ = w.keep.Write(p)
	if w.tee != nil {
		_, _ = w.tee.Write(p)
	}
	return len(p), nil
}
