package winrmemu

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Handler runs the commands a client sends to a shell. The emulator owns the
// WS-Management protocol; a Handler only executes. Start is called from the
// HTTP handler goroutine of the Command request and must not block for long:
// run the command in the background and return a Process.
type Handler interface {
	Start(ctx context.Context, req CommandRequest) (Process, error)
}

// CommandRequest is one rsp:CommandLine as the client sent it.
type CommandRequest struct {
	ShellID   string
	CommandID string
	// User is the authenticated user name, as spelled in Config.Users.
	User string
	// Command is rsp:Command (cmd.exe's command line, CDATA already decoded).
	Command string
	// Arguments are the rsp:Arguments elements in order (pywinrm joins all
	// arguments into one element; masterzen sends one per argument).
	Arguments []string
	// Env holds the shell's rsp:Environment variables, if any.
	Env map[string]string
	// WorkingDirectory is the shell's rsp:WorkingDirectory, if any.
	WorkingDirectory string
}

// Signal is a WS-Man shell signal code.
type Signal string

const (
	SignalTerminate Signal = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"
	SignalCtrlC     Signal = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c"
	SignalCtrlBreak Signal = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_break"
)

// Process is a running command as the server sees it, shaped like os/exec.
// The server reads Stdout and Stderr until EOF from its own goroutines (so
// partial output reaches Receive while the command keeps running), then
// calls Wait once. Stdin writes come from Send requests and must not block
// for long. Signal may be called from any goroutine at any time, including
// after the process ended.
//
// The ctx given to Start is cancelled when the command is terminated, its
// shell deleted, the host goes down, or the server closes: the process must
// then end (close its streams) promptly, or Server.Close will wait for it.
type Process interface {
	Stdout() io.Reader
	Stderr() io.Reader
	Stdin() io.WriteCloser
	Signal(sig Signal) error
	// Wait blocks until the process has ended and returns its exit code.
	Wait() (int, error)
}

// FuncHandler runs each command as a Go function. The function's return
// value is the exit code. ctx is cancelled on terminate or ctrl_c.
type FuncHandler func(ctx context.Context, req CommandRequest, stdout, stderr io.Writer, stdin io.Reader) int

// Start runs f in a new goroutine; the goroutine ends when f returns.
func (f FuncHandler) Start(ctx context.Context, req CommandRequest) (Process, error) {
	ctx, cancel := context.WithCancel(ctx)
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	p := &funcProcess{
		cancel: cancel,
		stdout: outR,
		stderr: errR,
		stdin:  newStdinPipe(),
		done:   make(chan struct{}),
	}
	// A function blocked reading stdin sees EOF once the command is stopped.
	context.AfterFunc(ctx, func() { _ = p.stdin.Close() })
	go func() {
		defer close(p.done)
		defer cancel()
		p.code = f(ctx, req, outW, errW, p.stdin)
		_ = outW.Close()
		_ = errW.Close()
	}()
	return p, nil
}

// funcProcess adapts a FuncHandler call to Process. code is written by the
// running goroutine before done is closed and read only after.
type funcProcess struct {
	cancel         context.CancelFunc
	stdout, stderr *io.PipeReader
	stdin          *stdinPipe
	done           chan struct{}
	code           int
}

func (p *funcProcess) Stdout() io.Reader       { return p.stdout }
func (p *funcProcess) Stderr() io.Reader       { return p.stderr }
func (p *funcProcess) Stdin() io.WriteCloser   { return p.stdin }
func (p *funcProcess) Signal(sig Signal) error { p.cancel(); return nil }

func (p *funcProcess) Wait() (int, error) {
	<-p.done
	return p.code, nil
}

// stdinPipe is an unbounded in-memory pipe: Write never blocks (Send
// requests must answer promptly), Read blocks until data or Close.
// Safe for one writer and one reader goroutine.
type stdinPipe struct {
	mu     sync.Mutex
	buf    []byte
	closed bool
	ready  chan struct{} // closed and replaced whenever buf or closed changes
}

func newStdinPipe() *stdinPipe { return &stdinPipe{ready: make(chan struct{})} }

var errStdinClosed = errors.New("stdin closed")

func (p *stdinPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, errStdinClosed
	}
	p.buf = append(p.buf, b...)
	p.wake()
	return len(b), nil
}

func (p *stdinPipe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.wake()
	}
	return nil
}

func (p *stdinPipe) wake() {
	close(p.ready)
	p.ready = make(chan struct{})
}

func (p *stdinPipe) Read(b []byte) (int, error) {
	for {
		p.mu.Lock()
		if len(p.buf) > 0 {
			n := copy(b, p.buf)
			p.buf = p.buf[n:]
			p.mu.Unlock()
			return n, nil
		}
		if p.closed {
			p.mu.Unlock()
			return 0, io.EOF
		}
		ready := p.ready
		p.mu.Unlock()
		<-ready
	}
}
