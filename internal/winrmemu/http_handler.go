package winrmemu

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveHTTP is the single /wsman endpoint: authenticate (per request for
// Basic, per connection for NTLM), unseal, dispatch, seal the answer.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	faults := s.faults
	s.mu.Unlock()
	defer s.wg.Done()

	if r.URL.Path != "/wsman" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	s.stats.requests.Add(1)
	cs, _ := r.Context().Value(connKey{}).(*connState)
	if cs == nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	// Sealing adds framing; allow for it on top of the envelope limit.
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.cfg.MaxEnvelopeSize)*2+64*1024))
	if err != nil {
		return // connection gone
	}

	if faults.RejectAuth {
		s.unauthorized(w, cs)
		return
	}
	user, ok := s.authenticate(w, r, cs, body)
	if !ok {
		return
	}

	cs.mu.Lock()
	seal := cs.seal
	ntlmUser := cs.user
	cs.mu.Unlock()

	sealed := isEncryptedContentType(r.Header.Get("Content-Type"))
	payload := body
	if sealed {
		if seal == nil || ntlmUser == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		payload, err = unsealBody(cs, seal, body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.stats.sealed.Add(1)
	} else if ntlmUser != "" && user == ntlmUser && !cs.isTLS && !s.cfg.AllowUnencrypted && len(body) > 0 {
		// Windows refuses an unsealed SOAP body on plain HTTP after NTLM.
		s.unauthorized(w, cs)
		return
	}
	if len(payload) == 0 {
		// The empty POST that carries an NTLM handshake's last leg.
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	out := s.dispatch(ctx, user, payload, faults)
	if out.drop {
		s.stats.dropped.Add(1)
		_ = cs.conn.Close()
		return
	}
	respBody, ctype := out.body, soapContentType
	if sealed {
		cs.mu.Lock()
		sealedBytes, sig := seal.seal(out.body)
		cs.mu.Unlock()
		respBody, ctype = buildEncryptedBody(len(out.body), sig, sealedBytes), encContentType
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(respBody)))
	w.WriteHeader(out.status)
	_, _ = w.Write(respBody)
}

// unsealBody decrypts every part of a sealed body, in order.
func unsealBody(cs *connState, seal *sealSession, body []byte) ([]byte, error) {
	parts, err := parseEncryptedBody(body)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []byte
	for _, p := range parts {
		msg, err := seal.unseal(p.sealed, p.sig)
		if err != nil {
			return nil, err
		}
		out = append(out, msg...)
	}
	return out, nil
}

// authenticate returns the user a request runs as, or writes a 401 and
// returns false. Basic is checked on every request; NTLM authenticates the
// connection, so a later request without an Authorization header rides on it.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, cs *connState, body []byte) (string, bool) {
	auth := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(auth, " ")
	switch {
	case strings.EqualFold(scheme, "Basic"):
		if !cs.isTLS && !s.cfg.AllowUnencrypted {
			s.unauthorized(w, cs)
			return "", false
		}
		user, pass, ok := r.BasicAuth()
		if !ok {
			s.unauthorized(w, cs)
			return "", false
		}
		canon, want, found := s.lookupUser(user)
		if !found || want != pass {
			s.unauthorized(w, cs)
			return "", false
		}
		return canon, true

	case strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
		if err != nil || len(raw) < 12 {
			s.unauthorized(w, cs)
			return "", false
		}
		switch raw[8] {
		case 1:
			ch, err := newNTLMChallenge(raw, s.cfg.ComputerName, time.Now())
			if err != nil {
				s.unauthorized(w, cs)
				return "", false
			}
			cs.mu.Lock()
			cs.pending, cs.user, cs.seal = ch, "", nil
			cs.mu.Unlock()
			w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(ch.challenge))
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusUnauthorized)
			return "", false
		case 3:
			cs.mu.Lock()
			ch := cs.pending
			cs.pending = nil
			cs.mu.Unlock()
			if ch == nil {
				s.unauthorized(w, cs)
				return "", false
			}
			id, err := ch.authenticate(raw, s.lookupUser)
			if err != nil {
				s.unauthorized(w, cs)
				return "", false
			}
			var seal *sealSession
			if id.flags&(flagSeal|flagSign) != 0 {
				if seal, err = newSealSession(id.flags, id.exportedKey, true); err != nil {
					s.unauthorized(w, cs)
					return "", false
				}
			}
			cs.mu.Lock()
			cs.user, cs.seal = id.user, seal
			cs.mu.Unlock()
			s.stats.handshakes.Add(1)
			return id.user, true
		default:
			s.unauthorized(w, cs)
			return "", false
		}

	case auth == "":
		cs.mu.Lock()
		user := cs.user
		cs.mu.Unlock()
		// An empty anonymous POST starts a handshake even on an
		// authenticated connection (masterzen's encryption expects the 401).
		if user == "" || len(body) == 0 {
			s.challenge(w)
			return "", false
		}
		return user, true
	default:
		s.unauthorized(w, cs)
		return "", false
	}
}

// unauthorized rejects credentials: the connection's NTLM state is dropped.
func (s *Server) unauthorized(w http.ResponseWriter, cs *connState) {
	s.stats.authFailures.Add(1)
	cs.mu.Lock()
	cs.pending, cs.user, cs.seal = nil, "", nil
	cs.mu.Unlock()
	s.challenge(w)
}

// challenge is the 401 Windows sends when it wants credentials.
func (s *Server) challenge(w http.ResponseWriter) {
	w.Header().Add("WWW-Authenticate", "Negotiate")
	w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}
