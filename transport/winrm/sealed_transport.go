package winrm

import (
	"bytes"
	"context"
	"encoding/base64"
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

// sealedTransport is patchrun's winrm.Transporter for NTLM with message
// sealing over plain HTTP, in place of the library's Encryption, which
// falls back to unsealed NTLM (and from there to Basic) when its handshake
// fails, dials with a bare http.Client, and re-authenticates per message.
//
// It authenticates each TCP connection once (NEGOTIATE, CHALLENGE,
// AUTHENTICATE on empty POSTs, as pywinrm does), seals every request with
// that connection's NTLM session and accepts only responses that unseal and
// verify. It never sends anything but the NTLMv2 response derived from the
// password, and never a Basic header: a host that does not offer NTLM with
// 128-bit sealing gets an ErrAuth error.
//
// NTLM state belongs to one TCP connection, so the http.Transport keeps at
// most one, and every request notes the connections that carried it. A
// sealed message that only ever went out on another connection (the old
// one had died and net/http dialed anew) cannot have been read by the
// host, which has no session there: it is re-sent after a fresh handshake.
// One that touched the session's connection may have been acted on: that
// is ErrConnLost, never a silent re-send.
//
// Concurrency: Post may be called from several goroutines (the library's
// Receive loop and a stdin Send); mu serializes them, because sealing and
// unsealing advance per-direction RC4 streams and sequence numbers that
// must match the host's message order.
type sealedTransport struct {
	url            string
	user, domain   string
	password       string // only ever handed to the NTLM client
	requestTimeout time.Duration
	hc             *http.Client
	tr             *http.Transport

	mu   sync.Mutex
	sess *ntlmSession // nil: the next Post authenticates first
}

// ntlmSession is an established NTLM security context and the connection
// it belongs to. Owned by sealedTransport under mu.
type ntlmSession struct {
	sec  *ntlmssp.SecuritySession
	conn net.Conn
}

var _ winrm.Transporter = (*sealedTransport)(nil)

// newSealedTransport builds the transporter; nothing touches the network
// until the first Post. dial is our connection tracker's dialer.
func newSealedTransport(cfg Config, url string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *sealedTransport {
	user, domain := splitNTLMUser(cfg.User)
	tr := &http.Transport{
		Proxy:                 nil, // NTLM binds to the TCP connection: never through a proxy
		DialContext:           dial,
		ResponseHeaderTimeout: cfg.ResponseTimeout,
		MaxConnsPerHost:       1,
		MaxIdleConnsPerHost:   1,
		MaxIdleConns:          1,
		// Below HTTP.sys's 120 s idle timeout, so we close an idle
		// connection before the host does and never race its FIN.
		IdleConnTimeout:    90 * time.Second,
		DisableCompression: true,
	}
	return &sealedTransport{
		url: url, user: user, domain: domain, password: cfg.Password,
		requestTimeout: cfg.ConnectTimeout + cfg.ResponseTimeout,
		hc:             &http.Client{Transport: tr, CheckRedirect: refuseRedirect},
		tr:             tr,
	}
}

func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Transport is part of winrm.Transporter; everything was configured in
// newSealedTransport from our Config, not the library's Endpoint.
func (t *sealedTransport) Transport(*winrm.Endpoint) error { return nil }

// errNotDelivered marks a sealed message the host cannot have acted on
// (it went out on a connection without a session, or the host answered
// 401): safe to send again after a fresh handshake.
var errNotDelivered = errors.New("sealed message not accepted by the host")

// postAttempts bounds re-sending a message that was not delivered.
const postAttempts = 2

// Post seals msg, sends it and returns the unsealed, verified answer.
func (t *sealedTransport) Post(_ *winrm.Client, msg *soap.SoapMessage) (string, error) {
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
func (t *sealedTransport) postOnce(plain []byte) (string, error) {
	if t.sess == nil {
		sess, err := t.handshake()
		if err != nil {
			return "", err
		}
		t.sess = sess
	}
	sess := t.sess
	sealed, sig, err := sess.sec.Wrap(plain)
	if err != nil {
		t.dropSession()
		return "", fmt.Errorf("seal message: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", sealedContentType)
	resp, body, carriers, err := t.exchange(h, frameSealed(sig, sealed, len(plain)))
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
		return "", fmt.Errorf("%w: %w", errNotDelivered, authError("host rejected the NTLM session (HTTP 401)\n%s", hintAuth))
	}
	reply, err := unsealResponse(sess, resp, body)
	if err != nil {
		t.dropSession() // the RC4 streams may be out of step now
		return "", err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusInternalServerError {
		return "", &ProtocolError{Reason: fmt.Sprintf("unexpected HTTP %d", resp.StatusCode), Excerpt: excerpt(string(reply))}
	}
	return string(reply), nil // HTTP 500 carries a SOAP fault: the guard turns it into *WSManFault
}

// unsealResponse checks that a response is sealed, then unseals and
// verifies every part. Nothing unsealed or unverified is ever returned.
func unsealResponse(sess *ntlmSession, resp *http.Response, body []byte) ([]byte, error) {
	boundary, ok := sealedBoundaryOf(resp.Header.Get("Content-Type"))
	if !ok {
		return nil, &ProtocolError{
			Reason:  fmt.Sprintf("HTTP %d response is not sealed (Content-Type %q); a sealed client refuses it", resp.StatusCode, resp.Header.Get("Content-Type")),
			Excerpt: excerpt(string(body)),
		}
	}
	parts, err := parseSealed(body, boundary)
	if err != nil {
		return nil, &ProtocolError{Reason: "malformed sealed response: " + err.Error()}
	}
	var out []byte
	for _, p := range parts {
		msg, err := sess.sec.Unwrap(p.sealed, p.sig)
		if err != nil {
			return nil, &ProtocolError{Reason: "sealed response failed verification (" + err.Error() + "); it was altered in transit or not meant for this session"}
		}
		out = append(out, msg...)
	}
	return out, nil
}

// dropSession forgets the NTLM session and closes its idle connection, so
// the next Post starts afresh on a new connection. Caller holds mu.
func (t *sealedTransport) dropSession() {
	t.sess = nil
	t.tr.CloseIdleConnections()
}

// handshake authenticates one connection: NEGOTIATE, the host's CHALLENGE,
// AUTHENTICATE, each leg an empty POST on the same connection. Any failure
// is an ErrAuth-kind error (or a network error for classify); there is no
// fallback. Caller holds mu.
func (t *sealedTransport) handshake() (*ntlmSession, error) {
	nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo(t.user, t.password), ntlmssp.SetDomain(t.domain))
	if err != nil {
		return nil, authError("%v", err)
	}
	negotiate, err := nc.Authenticate(nil, nil)
	if err != nil {
		return nil, authError("build negotiate: %v", err)
	}
	resp, _, carriers, err := t.exchange(negotiateHeader(negotiate), nil)
	if err != nil {
		return nil, err
	}
	conn := carriers[len(carriers)-1]
	if resp.StatusCode != http.StatusUnauthorized {
		return nil, authError("host answered the NTLM negotiate with HTTP %d instead of a challenge", resp.StatusCode)
	}
	challenge, schemes := authOffer(resp.Header.Values("WWW-Authenticate"))
	if challenge == nil {
		if offersNTLM(schemes) {
			return nil, authError("host refused the NTLM negotiation (HTTP 401)\n%s", hintAuth)
		}
		return nil, authError("host does not offer NTLM (it offers %q); refusing to fall back to a weaker scheme over plain HTTP", schemes)
	}
	if err := checkChallenge(challenge); err != nil {
		return nil, err
	}
	authenticate, err := nc.Authenticate(challenge, nil)
	if err != nil {
		return nil, authError("answer challenge: %v", err)
	}
	sec := nc.SecuritySession()
	if sec == nil {
		return nil, authError("no security session after the handshake")
	}
	resp, _, carriers, err = t.exchange(negotiateHeader(authenticate), nil)
	if err != nil {
		return nil, err
	}
	if carriers[len(carriers)-1] != conn {
		return nil, fmt.Errorf("%w: %w: the connection was replaced during the NTLM handshake", errNotDelivered, transport.ErrConnLost)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return &ntlmSession{sec: sec, conn: conn}, nil
	case http.StatusUnauthorized:
		return nil, authError("host rejected the credentials (HTTP 401)\n%s", hintAuth)
	default:
		return nil, authError("host answered the NTLM authenticate with HTTP %d", resp.StatusCode)
	}
}

func negotiateHeader(token []byte) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(token))
	h.Set("Content-Type", soapContentType)
	return h
}

// exchange sends one POST and reads the whole answer. carriers lists the
// TCP connections net/http used for it, the last being the one that
// answered (it re-sends on a new connection only when nothing was written).
func (t *sealedTransport) exchange(h http.Header, body []byte) (resp *http.Response, respBody []byte, carriers []net.Conn, err error) {
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
