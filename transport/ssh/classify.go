package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/patchrun/patchrun/transport"
)

// Stages name where an error happened; classify reads the same library
// error differently per stage (an EOF during the handshake is a busy sshd,
// an EOF during a command is a lost connection).
const (
	stageDial      = "dial"
	stageHandshake = "handshake"
	stageSession   = "session"
	stageRun       = "run"
)

// errHandshakeDropped marks a handshake the server cut off (connection reset
// or EOF before auth finished), which is what sshd's MaxStartups does when
// too many handshakes arrive at once. Dial retries only these.
var errHandshakeDropped = fmt.Errorf("server dropped the handshake (busy? sshd MaxStartups): %w", transport.ErrUnreachable)

// classify wraps err, an error from x/crypto/ssh or the network at stage,
// with the transport error kind it means. It is the only place that looks at
// library error text. A cancelled context keeps its own identity so callers
// can tell "we gave up" from "the host is gone".
func classify(stage string, err error) error {
	if err == nil {
		return nil
	}
	kind := kindOf(stage, err)
	if kind == nil {
		return fmt.Errorf("%s: %w", stage, err)
	}
	return fmt.Errorf("%s: %w: %w", stage, kind, err)
}

// kindOf returns the sentinel err belongs to at stage, or nil for none.
func kindOf(stage string, err error) error {
	msg := err.Error()
	var (
		keyErr     *knownhosts.KeyError
		revoked    *knownhosts.RevokedError
		passphrase *gossh.PassphraseMissingError
		exitMiss   *gossh.ExitMissingError
		dnsErr     *net.DNSError
		openErr    *gossh.OpenChannelError
		netErr     net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, transport.ErrHostKey), errors.Is(err, transport.ErrAuth),
		errors.Is(err, transport.ErrUnreachable), errors.Is(err, transport.ErrConnLost):
		return nil // already classified
	case errors.As(err, &keyErr), errors.As(err, &revoked),
		strings.Contains(msg, "no common algorithm for host key"):
		return transport.ErrHostKey
	case strings.Contains(msg, "unable to authenticate"), errors.As(err, &passphrase):
		return transport.ErrAuth
	}

	if stage == stageRun || stage == stageSession {
		switch {
		case errors.As(err, &exitMiss), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
			errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET),
			errors.Is(err, syscall.EPIPE), strings.Contains(msg, "connection reset by peer"),
			strings.Contains(msg, "use of closed network connection"),
			// NewSession on a connection that has just ended:
			strings.Contains(msg, "unexpected packet in response to channel open: <nil>"):
			return transport.ErrConnLost
		}
		return nil
	}

	// Dial and handshake.
	switch {
	case stage == stageHandshake && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return errHandshakeDropped
	case errors.Is(err, syscall.ECONNRESET), strings.Contains(msg, "connection reset by peer"),
		strings.Contains(msg, "forcibly closed by the remote host"): // the last is Windows' wording
		// A reset right after accept (even racing connect) is sshd
		// shedding load, not a closed port (that is ECONNREFUSED).
		return errHandshakeDropped
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &dnsErr), errors.As(err, &openErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return transport.ErrUnreachable
	case errors.As(err, &netErr) && netErr.Timeout():
		return transport.ErrUnreachable
	case stage == stageDial:
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			return transport.ErrUnreachable
		}
	}
	return nil
}

// retryable reports whether Dial should try the handshake again.
func retryable(err error) bool { return errors.Is(err, errHandshakeDropped) }
