package winrm

import (
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/bodgit/ntlmssp"

	"github.com/patchrun/patchrun/transport"
)

// handshake authenticates one connection: NEGOTIATE, the host's CHALLENGE,
// AUTHENTICATE, each leg an empty POST on the same connection. Any failure
// is an ErrAuth-kind error (or a network error for classify); there is no
// fallback. Caller holds mu.
func (t *ntlmTransport) handshake() (*ntlmSession, error) {
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
	switch resp.StatusCode {
	case http.StatusUnauthorized:
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w: no WinRM service at /wsman (HTTP 404)", transport.ErrUnreachable)
	default:
		return nil, authError("host answered the NTLM negotiate with HTTP %d instead of a challenge", resp.StatusCode)
	}
	challenge, schemes := authOffer(resp.Header.Values("WWW-Authenticate"))
	if challenge == nil {
		if offersNTLM(schemes) {
			return nil, deniedError("host refused the NTLM negotiation (HTTP 401)")
		}
		return nil, authError("host does not offer NTLM (it offers %q); refusing to fall back to a weaker scheme", schemes)
	}
	if err := checkChallenge(challenge, t.seal); err != nil {
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
		return nil, deniedError("host rejected the credentials (HTTP 401)")
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
