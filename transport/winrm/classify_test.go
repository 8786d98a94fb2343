package winrm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/patchrun/patchrun/transport"
)

// timeoutErr is a net.Error that timed out, like http.Transport's
// response header timeout.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "net/http: timeout awaiting response headers" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// libErr wraps a cause the way the library's Post does.
func libErr(cause error) error {
	return fmt.Errorf("unknown error %w", &url.Error{Op: "Post", URL: "https://win1:5986/wsman", Err: cause})
}

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name     string
		in       error
		kind     string // transport.Kind of the result
		wantText string // substring of the result's text
		check    func(t *testing.T, out error)
	}{
		{name: "nil", in: nil, kind: ""},
		{name: "already classified is kept", in: fmt.Errorf("x: %w", transport.ErrAuth), kind: "auth"},
		{name: "access denied fault", in: &WSManFault{Code: FaultAccessDenied, Text: "Access is denied."},
			kind: "auth", wantText: "LocalAccountTokenFilterPolicy",
			check: func(t *testing.T, out error) {
				var f *WSManFault
				if !errors.As(out, &f) {
					t.Errorf("fault no longer reachable with errors.As")
				}
				if !errors.Is(out, ErrAccessDenied) {
					t.Errorf("access denied fault is not ErrAccessDenied")
				}
			}},
		{name: "timed-out fault stays retryable by the library", in: &WSManFault{Code: FaultTimedOut, Subcode: "w:TimedOut", Text: "no output"},
			kind: "", wantText: "OperationTimeout"},
		{name: "unknown authority", in: libErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}),
			kind: "host-key", wantText: "TLS certificate not trusted"},
		{name: "hostname mismatch", in: libErr(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "win1"}),
			kind: "host-key", wantText: "winrm_server_name"},
		{name: "expired certificate", in: libErr(x509.CertificateInvalidError{Reason: x509.Expired}),
			kind: "host-key", wantText: "winrm_ca_cert"},
		{name: "http port spoken to with https", in: libErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}),
			kind: "unreachable", wantText: "winrm_https"},
		{name: "ntlm/basic 401", in: errors.New("http response error: 401 - invalid content type"),
			kind: "auth", wantText: "HTTP 401",
			check: func(t *testing.T, out error) {
				if !errors.Is(out, ErrAccessDenied) || !strings.Contains(out.Error(), "LocalAccountTokenFilterPolicy") {
					t.Errorf("a rejected account is not ErrAccessDenied with the hint: %v", out)
				}
			}},
		{name: "http error 401 (library clients)", in: errors.New("http error 401: "), kind: "auth"},
		{name: "kerberos 403", in: errors.New("request returned: 403 - 403 Forbidden. Response body:\n"), kind: "auth"},
		{name: "404 no wsman", in: errors.New("http response error: 404 - invalid content type"), kind: "unreachable"},
		{name: "200 but not soap", in: errors.New("http response error: 200 - invalid content type"), kind: "",
			check: func(t *testing.T, out error) {
				var p *ProtocolError
				if !errors.As(out, &p) {
					t.Errorf("want *ProtocolError, got %T", out)
				}
			}},
		{name: "connection refused", in: libErr(refused), kind: "unreachable"},
		{name: "dns failure", in: libErr(&net.DNSError{Err: "no such host", Name: "win9", IsNotFound: true}), kind: "unreachable"},
		{name: "eof mid request", in: libErr(io.EOF), kind: "connection-lost"},
		{name: "reset", in: libErr(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), kind: "connection-lost"},
		{name: "response header timeout", in: libErr(timeoutErr{}), kind: "connection-lost",
			check: func(t *testing.T, out error) {
				var u *url.Error
				if errors.As(out, &u) {
					t.Errorf("*url.Error still reachable: the library would retry a dead host forever")
				}
			}},
		{name: "eof only in text", in: errors.New("unknown error Post \"http://h/wsman\": EOF"), kind: "connection-lost"},
		{name: "unrelated error unchanged", in: errors.New("something else"), kind: "", wantText: "something else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := classify(tt.in)
			if (tt.in == nil) != (out == nil) {
				t.Fatalf("classify(%v) = %v", tt.in, out)
			}
			if got := transport.Kind(out); got != tt.kind {
				t.Errorf("kind = %q, want %q (err: %v)", got, tt.kind, out)
			}
			if tt.wantText != "" && !strings.Contains(out.Error(), tt.wantText) {
				t.Errorf("text %q lacks %q", out, tt.wantText)
			}
			if tt.check != nil {
				tt.check(t, out)
			}
			if out != nil && classify(out).Error() != out.Error() {
				t.Errorf("classify is not idempotent: %q then %q", out, classify(out))
			}
		})
	}
}

func TestInFlightTurnsUnreachableIntoConnLost(t *testing.T) {
	tests := []struct {
		in   error
		kind string
	}{
		{fmt.Errorf("%w: refused", transport.ErrUnreachable), "connection-lost"},
		{fmt.Errorf("%w: eof", transport.ErrConnLost), "connection-lost"},
		{fmt.Errorf("%w: 401", transport.ErrAuth), "auth"},
		{&WSManFault{Code: 1}, ""},
	}
	for _, tt := range tests {
		if got := transport.Kind(inFlight(tt.in)); got != tt.kind {
			t.Errorf("inFlight(%v) kind %q, want %q", tt.in, got, tt.kind)
		}
	}
}
