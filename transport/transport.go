// Package transport defines how patchrun talks to a host: the Transport
// interface that SSH and WinRM implement, the Result of a remote command, and
// the error kinds that keep "the command failed" apart from "the connection
// failed".
//
// It imports nothing else of patchrun's.
package transport

import (
	"context"
	"errors"
	"io"
	"time"
)

// Error kinds. Implementations wrap them (fmt.Errorf("...: %w", ErrUnreachable))
// so callers test with errors.Is; the text of the wrapped error says what
// happened in detail.
var (
	// ErrUnreachable: dial refused, timed out, no route, DNS failure. Retryable.
	ErrUnreachable = errors.New("unreachable")
	// ErrAuth: the host rejected our credentials. Permanent.
	ErrAuth = errors.New("authentication failed")
	// ErrHostKey: the host's key (or TLS certificate) does not match what we
	// trust. Permanent, never retried, never auto-accepted.
	ErrHostKey = errors.New("host key verification failed")
	// ErrConnLost: the connection died while a command was in flight; the
	// command's outcome is unknown.
	ErrConnLost = errors.New("connection lost")
)

// DefaultMaxOutput bounds how much of each output stream a Result keeps, so
// a chatty remote command cannot grow memory without limit.
const DefaultMaxOutput = 1 << 20

// Command is one remote command.
type Command struct {
	// Line is the command line. On SSH it is run by the remote user's shell;
	// on WinRM by cmd.exe.
	Line string
	// Stdin, when non-nil, is copied to the command's standard input.
	Stdin io.Reader
	// Stdout and Stderr, when non-nil, also receive the streams as they
	// arrive (for -v logging). They are called from the transport's
	// goroutines and must not block for long.
	Stdout, Stderr io.Writer
	// MaxOutput caps the bytes kept per stream in Result (0 means
	// DefaultMaxOutput). Past the cap the head is kept and Truncated set.
	MaxOutput int
}

// Result is what a command that ran to completion produced.
type Result struct {
	ExitCode  int
	Stdout    []byte
	Stderr    []byte
	Truncated bool // Stdout or Stderr was cut at MaxOutput
	Duration  time.Duration
}

// Transport runs commands on one host over one connection. A Transport
// belongs to one goroutine at a time (one worker); it is not safe for
// concurrent use.
type Transport interface {
	// Run blocks until the command exits, ctx ends, or the connection fails.
	// err == nil: the command ran to completion and Result.ExitCode is real
	// (non-zero is data, not an error).
	// err != nil: the outcome is unknown; never read an exit code.
	Run(ctx context.Context, cmd Command) (Result, error)
	// Upload writes size bytes from src to the remote path dst.
	Upload(ctx context.Context, dst string, src io.Reader, size int64) error
	// Close releases the connection. Safe to call more than once.
	Close() error
}

// Kind names the error kind of err for reports: "unreachable", "auth",
// "host-key", "connection-lost", or "" when err is none of them.
func Kind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrHostKey):
		return "host-key"
	case errors.Is(err, ErrAuth):
		return "auth"
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	case errors.Is(err, ErrConnLost):
		return "connection-lost"
	}
	return ""
}

// Permanent reports whether retrying err cannot help (bad credentials, a
// changed host key).
func Permanent(err error) bool {
	return errors.Is(err, ErrAuth) || errors.Is(err, ErrHostKey)
}

// CapBuffer is an io.Writer that keeps at most Max bytes and records whether
// anything was dropped. The zero Max means DefaultMaxOutput. Not safe for
// concurrent use.
type CapBuffer struct {
	Max       int
	buf       []byte
	truncated bool
}

func (b *CapBuffer) Write(p []byte) (int, error) {
	limit := b.Max
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	room := limit - len(b.buf)
	if room <= 0 {
		if len(p) > 0 {
			b.truncated = true
		}
		return len(p), nil
	}
	if len(p) > room {
		b.buf = append(b.buf, p[:room]...)
		b.truncated = true
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Bytes returns what was kept.
func (b *CapBuffer) Bytes() []byte { return b.buf }

// Truncated reports whether bytes were dropped.
func (b *CapBuffer) Truncated() bool { return b.truncated }
