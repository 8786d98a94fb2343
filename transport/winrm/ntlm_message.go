package winrm

import (
	"fmt"
	"mime"
	"net/http"
)

// wrap prepares one SOAP message for the authenticated connection: sealed
// with the session (plain HTTP), or as it is (TLS or AllowUnencrypted
// protects it, and the connection's logon authenticates it).
func (t *ntlmTransport) wrap(sess *ntlmSession, plain []byte) (http.Header, []byte, error) {
	h := http.Header{}
	if !t.seal {
		h.Set("Content-Type", soapContentType)
		return h, plain, nil
	}
	sealed, sig, err := sess.sec.Wrap(plain)
	if err != nil {
		return nil, nil, fmt.Errorf("seal message: %w", err)
	}
	h.Set("Content-Type", sealedContentType)
	return h, frameSealed(sig, sealed, len(plain)), nil
}

// unwrap returns the SOAP text of a response: unsealed and verified on a
// sealed client, which refuses anything else; on an unsealed one, only a
// SOAP body (the library parses whatever it is given).
func (t *ntlmTransport) unwrap(sess *ntlmSession, resp *http.Response, body []byte) ([]byte, error) {
	if t.seal {
		return unsealResponse(sess, resp, body)
	}
	ctype := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ctype); err != nil || mt != "application/soap+xml" {
		return nil, &ProtocolError{
			Reason:  fmt.Sprintf("HTTP %d response is not SOAP (Content-Type %q)", resp.StatusCode, ctype),
			Excerpt: excerpt(string(body)),
		}
	}
	return body, nil
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
