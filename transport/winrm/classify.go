package winrm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/patchrun/patchrun/transport"
)

// Hints appended to classified errors.
const (
	hintTLS = "hint: set " + keyCACert + " to the CA bundle that signed the host's certificate, " +
		keyServerName + " if the certificate names another host, or " + keyInsecure + ": true (not recommended)"
	hintAuth = "hint: check user and password; a local account other than the built-in Administrator " +
		"needs LocalAccountTokenFilterPolicy=1 on the host, and Basic or unencrypted NTLM need AllowUnencrypted or HTTPS"
)

// ErrAccessDenied marks a transport.ErrAuth error for which the host
// refused the account once it knew who was asking: credentials rejected
// (HTTP 401/403 after authenticating) or the WS-Man access denied fault.
// Windows reports both as "Access is denied", and both are what a local
// administrator with a filtered token gets (no LocalAccountTokenFilterPolicy).
// An error wrapping it already carries that hint in its text, so callers
// test errors.Is(err, ErrAccessDenied) before adding hints of their own.
var ErrAccessDenied = errors.New("access denied")

// deniedError is an ErrAuth and ErrAccessDenied error with the auth hint.
// It never carries the password.
func deniedError(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format+"\n%s", append([]any{transport.ErrAuth, ErrAccessDenied}, append(args, hintAuth)...)...)
}

// httpStatusRe finds the status code in the library's HTTP error texts:
// "http response error: 401 - invalid content type" (ntlm/basic),
// "http error 401: ..." (library http.go/auth.go) and "request returned:
// 401 - ..." (kerberos).
var httpStatusRe = regexp.MustCompile(`(?:http response error: |http error |request returned: )(\d{3})\b`)

// classify maps an error from the winrm library (or the layers under it)
// to patchrun's error kinds. It is the ONLY place that looks at library
// error text; everything else uses errors.Is/As on its result.
//
// The network cause is kept as text, not wrapped: the library retries a
// Receive forever on any *url.Error timeout, and a host that stopped
// answering must end the command instead.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if transport.Kind(err) != "" {
		return err // already classified
	}
	var fault *WSManFault
	if errors.As(err, &fault) {
		if fault.Code == FaultAccessDenied {
			return deniedError("%w", fault)
		}
		return err
	}
	var perr *ProtocolError
	if errors.As(err, &perr) {
		return err
	}

	// TLS: the WinRM analogue of a host key mismatch.
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) {
		return fmt.Errorf("%w: TLS certificate not trusted: %s\n%s", transport.ErrHostKey, causeText(err), hintTLS)
	}
	var recErr tls.RecordHeaderError
	if errors.As(err, &recErr) {
		return fmt.Errorf("%w: the port does not speak TLS (is %s right?): %s", transport.ErrUnreachable, keyHTTPS, causeText(err))
	}

	msg := err.Error()
	if m := httpStatusRe.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		switch {
		case code == 401 || code == 403:
			return deniedError("host answered HTTP %d", code)
		case code == 404:
			return fmt.Errorf("%w: no WinRM service at /wsman (HTTP 404)", transport.ErrUnreachable)
		case strings.Contains(msg, "invalid content type"):
			return &ProtocolError{Reason: fmt.Sprintf("HTTP %d response is not SOAP", code)}
		default:
			return &ProtocolError{Reason: fmt.Sprintf("unexpected HTTP %d", code)}
		}
	}

	// Dial failures: nothing was sent, the host is not (yet) there.
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial") ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return fmt.Errorf("%w: %s", transport.ErrUnreachable, causeText(err))
	}
	// A connection that died under a request, or a host that stopped
	// answering (response header timeout).
	var uerr *url.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		(errors.As(err, &uerr) && uerr.Timeout()) ||
		containsAny(msg, "EOF", "connection reset", "broken pipe", "server closed idle connection",
			"timeout awaiting response headers", "use of closed network connection") {
		return fmt.Errorf("%w: %s", transport.ErrConnLost, causeText(err))
	}
	if strings.Contains(msg, "invalid content type") {
		return &ProtocolError{Reason: "response is not SOAP (invalid content type)"}
	}
	return err
}

// causeText is the innermost useful message: url.Error repeats the URL and
// method, which adds noise but nothing a user can act on.
func causeText(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// inFlight reinterprets an error for a command that had already started:
// whatever broke, its outcome is unknown, so "unreachable" (retryable,
// nothing happened) becomes "connection lost".
func inFlight(err error) error {
	if err == nil || errors.Is(err, transport.ErrConnLost) {
		return err
	}
	if errors.Is(err, transport.ErrUnreachable) {
		// Keep only the text: the error must no longer count as unreachable.
		return fmt.Errorf("%w: %s", transport.ErrConnLost, err.Error())
	}
	return err
}
