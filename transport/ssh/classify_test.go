package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/patchrun/patchrun/transport"
)

func TestClassify(t *testing.T) {
	opErr := func(op string, err error) error {
		return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, err)}
	}
	tests := []struct {
		name      string
		stage     string
		err       error
		want      string // transport.Kind of the result
		retryable bool
		canceled  bool
	}{
		{name: "refused", stage: stageDial, err: opErr("connect", syscall.ECONNREFUSED), want: "unreachable"},
		{name: "no route", stage: stageDial, err: opErr("connect", syscall.EHOSTUNREACH), want: "unreachable"},
		{name: "network down", stage: stageDial, err: opErr("connect", syscall.ENETUNREACH), want: "unreachable"},
		{name: "dns", stage: stageDial, err: &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}, want: "unreachable"},
		{name: "dial timeout", stage: stageDial, err: context.DeadlineExceeded, want: "unreachable"},
		{name: "other dial op error", stage: stageDial, err: &net.OpError{Op: "dial", Err: errors.New("weird")}, want: "unreachable"},
		{name: "jump host cannot connect", stage: stageDial, err: &gossh.OpenChannelError{Reason: gossh.ConnectionFailed, Message: "Connection refused"}, want: "unreachable"},
		{name: "reset racing connect", stage: stageDial, err: opErr("connect", syscall.ECONNRESET), want: "unreachable", retryable: true},
		{name: "cancelled dial", stage: stageDial, err: context.Canceled, want: "", canceled: true},

		{name: "maxstartups reset", stage: stageHandshake, err: fmt.Errorf("ssh: handshake failed: %w", opErr("read", syscall.ECONNRESET)), want: "unreachable", retryable: true},
		{name: "maxstartups eof", stage: stageHandshake, err: fmt.Errorf("ssh: handshake failed: %w", io.EOF), want: "unreachable", retryable: true},
		{name: "reset as text", stage: stageHandshake, err: errors.New("read tcp 1.2.3.4:5->6.7.8.9:22: read: connection reset by peer"), want: "unreachable", retryable: true},
		{name: "windows reset text", stage: stageHandshake, err: errors.New("wsarecv: An existing connection was forcibly closed by the remote host."), want: "unreachable", retryable: true},
		{name: "auth", stage: stageHandshake, err: errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain"), want: "auth"},
		{name: "passphrase", stage: stageHandshake, err: &gossh.PassphraseMissingError{}, want: "auth"},
		{name: "unknown key from library", stage: stageHandshake, err: &knownhosts.KeyError{}, want: "host-key"},
		{name: "revoked key", stage: stageHandshake, err: &knownhosts.RevokedError{}, want: "host-key"},
		{name: "no common host key algorithm", stage: stageHandshake, err: errors.New(`ssh: handshake failed: ssh: no common algorithm for host key; we offered: ["ssh-ed25519"], peer offered: ["rsa-sha2-512"]`), want: "host-key"},
		{name: "our host key error kept", stage: stageHandshake, err: fmt.Errorf("host key CHANGED: %w", transport.ErrHostKey), want: "host-key"},
		{name: "handshake timeout", stage: stageHandshake, err: opErr("read", os.ErrDeadlineExceeded), want: "unreachable"},
		{name: "no common cipher is not retried", stage: stageHandshake, err: errors.New("ssh: handshake failed: ssh: no common algorithm for client to server cipher"), want: ""},

		{name: "exit missing", stage: stageRun, err: &gossh.ExitMissingError{}, want: "connection-lost"},
		{name: "eof mid-command", stage: stageRun, err: io.EOF, want: "connection-lost"},
		{name: "closed conn", stage: stageRun, err: opErr("read", net.ErrClosed), want: "connection-lost"},
		{name: "reset mid-command", stage: stageRun, err: opErr("read", syscall.ECONNRESET), want: "connection-lost"},
		{name: "open session on dead conn", stage: stageSession, err: io.EOF, want: "connection-lost"},
		{name: "open session as the conn ends", stage: stageSession, err: errors.New("ssh: unexpected packet in response to channel open: <nil>"), want: "connection-lost"},
		{name: "stdin source failed", stage: stageRun, err: errors.New("read /src: input/output error"), want: ""},
		{name: "auth text mid-run is still auth", stage: stageRun, err: errors.New("unable to authenticate"), want: "auth"},
		{name: "cancelled run", stage: stageRun, err: context.Canceled, want: "", canceled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.stage, tt.err)
			if k := transport.Kind(got); k != tt.want {
				t.Errorf("Kind(classify(%s, %v)) = %q, want %q", tt.stage, tt.err, k, tt.want)
			}
			if retryable(got) != tt.retryable {
				t.Errorf("retryable = %v, want %v", retryable(got), tt.retryable)
			}
			if errors.Is(got, context.Canceled) != tt.canceled {
				t.Errorf("errors.Is(Canceled) = %v, want %v", !tt.canceled, tt.canceled)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("classify lost the original error: %v", got)
			}
		})
	}
	if classify(stageRun, nil) != nil {
		t.Error("classify(nil) != nil")
	}
}
