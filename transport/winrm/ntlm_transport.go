package winrm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync"
	"time"

	"github.com/bodgit/ntlmssp"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/patchrun/patchrun/transport"
)

// maxResponseBody bounds one HTTP response read into memory; a WS-Man
// envelope is at most MaxEnvelopeSize (512 KB by default) plus framing.
const maxResponseBody = 32 << 20

// ntlmTransport is patchrun's winrm.Transporter for every NTLM mode, in
// place of the library's: its ClientNTLM runs go-ntlmssp's per-request
// handshake over a pooled http.Transport, so two requests in flight at once
// (a stdin Send during a Receive) could put the legs of one handshake on
// different connections, and the host, which binds NTLM to the connection,
// answered 401; it also falls back to Basic when a host offers only Basic.
// The library's Encryption (sealed mode) falls back to unsealed NTLM, dials
// with a bare http.Client and re-authenticates per message.
//
// It authenticates each TCP connection once (NEGOTIATE, CHALLENGE,
// AUTHENTICATE on empty POSTs, as pywinrm does) and sends every message on
// that connection: sealed with the connection's NTLM session over plain
// HTTP (Config.sealed), as plain SOAP over HTTPS or to a host that allows
// unencrypted traffic. A sealed client accepts only responses that unseal
// and verify. It never sends anything but the NTLMv2 response derived from
// the password, and never a Basic header: a host that does not offer NTLM
// (with 128-bit sealing, when sealing) gets an ErrAuth error.
//
// NTLM state belongs to one TCP connection, so the http.Transport keeps at
// most one, and every request notes the connections that carried it. A
// message that only ever went out on another connection (the old one had
// died and net/http dialed anew) cannot have been acted on by the host,
// which has no session there: it is re-sent after a fresh handshake. One
// that touched the session's connection may have been acted on: that is
// ErrConnLost, never a silent re-send.
//
// Concurrency: Post may be called from several goroutines (the library's
// Receive loop and a stdin Send); mu serializes them: one connection
// carries one request at a time, and sealing advances per-direction RC4
// streams and sequence numbers that must match the host's message order.
// A Send therefore waits for the Receive in flight to return.
type ntlmTransport struct {
	url            string
	user, domain   string
	password       string // only ever handed to the NTLM client
	seal           bool   // seal messages (plain HTTP); otherwise TLS or the host's AllowUnencrypted covers them
	requestTimeout time.Duration
	hc             *http.Client
	tr             *http.Transport

	mu   sync.Mutex
	sess *ntlmSession // nil: the next Post authenticates first
}

// ntlmSession is an established NTLM security context and the connection
// it belongs to. Owned by ntlmTransport under mu.
type ntlmSession struct {
	sec  *ntlmssp.SecuritySession
	conn net.Conn
}

var _ winrm.Transporter = (*ntlmTransport)(nil)

// newNTLMTransport builds the transporter; nothing touches the network
// until the first Post. dial is our connection tracker's dialer; over
// HTTPS net/http runs TLS on top of it with cfg's CA bundle, server name
// and verification setting.
func newNTLMTransport(cfg Config, url string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*ntlmTransport, error) {
	user, domain := splitNTLMUser(cfg.User)
	tr := &http.Transport{
		Proxy:                 nil, // NTLM binds to the TCP connection: never through a proxy
		DialContext:           dial,
		ResponseHeaderTimeout: cfg.ResponseTimeout,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		MaxConnsPerHost:       1,
		MaxIdleConnsPerHost:   1,
		MaxIdleConns:          1,
		// Below HTTP.sys's 120 s idle timeout, so we close an idle
		// connection before the host does and never race its FIN.
		IdleConnTimeout:    90 * time.Second,
		DisableCompression: true,
	}
	if cfg.HTTPS {
		conf, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = conf
	}
	return &ntlmTransport{
		url: url, user: user, domain: domain, password: cfg.Password,
		seal:           cfg.sealed(),
		requestTimeout: cfg.ConnectTimeout + cfg.ResponseTimeout,
		hc:             &http.Client{Transport: tr, CheckRedirect: refuseRedirect},
		tr:             tr,
	}, nil
}

// tlsConfig is the TLS client setup for an HTTPS endpoint: verified
// against cfg.CACertPEM (or the system roots), for cfg.ServerName (or the
// address), unverified only when cfg.Insecure says so.
func tlsConfig(cfg Config) (*tls.Config, error) {
	conf := &tls.Config{
		InsecureSkipVerify: cfg.Insecure, //nolint:gosec // only when explicitly configured
		ServerName:         cfg.ServerName,
	}
	if len(cfg.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, policyError("%s holds no PEM certificate", keyCACert)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Transport is part of winrm.Transporter; everything was configured in
// newNTLMTransport from our Config, not the library's Endpoint.
func (t *ntlmTransport) Transport(*winrm.Endpoint) error { return nil }

// errNotDelivered marks a message the host cannot have acted on (it went
// out on a connection without a session, or the host answered 401): safe
// to send again after a fresh handshake.
var errNotDelivered = errors.New("message not accepted by the host")

// postAttempts bounds re-sending a message that was not delivered.
const postAttempts = 2

// Post sends msg on the authenticated connection (sealed when t.seal) and
// returns the host's answer, unsealed and verified when sealed.
func (t *ntlmTransport) Post(_ *winrm.Client, msg *soap.SoapMessage) (string, error) {
	plain := []byte(msg.String())
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	for attempt := 0; attempt < postAttempts; attempt++ {
		var body string
		body, err = t.postOnce(plain)
		if !errors.Is(err, errNotDelivered) {
			return body, err
		}
	}
	return "", err
}

// postOnce is one attempt of Post. Caller holds mu.
func (t *ntlmTransport) postOnce(plain []byte) (string, error) {
	if t.sess == nil {
		sess, err := t.handshake()
		if err != nil {
			return "", err
		}
		t.sess = sess
	}
	sess := t.sess
	h, reqBody, err := t.wrap(sess, plain)
	if err != nil {
		t.dropSession()
		return "", err
	}
	resp, body, carriers, err := t.exchange(h, reqBody)
	if err != nil {
		t.dropSession() // the connection broke under the message: its fate is unknown
		return "", err
	}
	if carriers[len(carriers)-1] != sess.conn {
		t.dropSession()
		if slices.Contains(carriers, sess.conn) {
			return "", fmt.Errorf("%w: the connection was replaced while a message was in flight", transport.ErrConnLost)
		}
		// Not delivered, but should the host keep dropping connections, the
		// last attempt's error must still say the connection is lost.
		return "", fmt.Errorf("%w: %w: the connection was replaced before the message went out", errNotDelivered, transport.ErrConnLost)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		t.dropSession()
		return "", fmt.Errorf("%w: %w", errNotDelivered, deniedError("host rejected the NTLM session (HTTP 401)"))
	}
	if resp.StatusCode == http.StatusForbidden {
		return "", deniedError("host answered HTTP 403")
	}
	reply, err := t.unwrap(sess, resp, body)
	if err != nil {
		t.dropSession() // a sealed session's RC4 streams may be out of step now
		return "", err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusInternalServerError {
		return "", &ProtocolError{Reason: fmt.Sprintf("unexpected HTTP %d", resp.StatusCode), Excerpt: excerpt(string(reply))}
	}
	return string(reply), nil // HTTP 500 carries a SOAP fault: the guard turns it into *WSManFault
}

// dropSession forgets the NTLM session and closes its idle connection, so
// the next Post starts afresh on a new connection. Caller holds mu.
func (t *ntlmTransport) dropSession() {
	t.sess = nil
	t.tr.CloseIdleConnections()
}

// exchange sends one POST and reads the whole answer. carriers lists the
// TCP connections net/http used for it, the last being the one that
// answered (it re-sends on a new connection only when nothing was written).
func (t *ntlmTransport) exchange(h http.Header, body []byte) (resp *http.Response, respBody []byte, carriers []net.Conn, err error) {
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		mu.Lock()
		carriers = append(carriers, info.Conn)
		mu.Unlock()
	}}
	ctx, cancel := context.WithTimeout(context.Background(), t.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, nil, err
	}
	req.Header = h
	req.Header.Set("User-Agent", "patchrun")
	resp, err = t.hc.Do(req)
	if err != nil {
		return nil, nil, nil, err
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, nil, nil, err
	}
	if len(respBody) > maxResponseBody {
		return nil, nil, nil, &ProtocolError{Reason: fmt.Sprintf("response larger than %d bytes", maxResponseBody)}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(carriers) == 0 {
		return nil, nil, nil, &ProtocolError{Reason: "no connection reported for the request"}
	}
	return resp, respBody, carriers, nil
}
