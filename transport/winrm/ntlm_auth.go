package winrm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/transport"
)

// NTLM negotiate flags a sealed session needs in the host's CHALLENGE
// (MS-NLMP 2.2.2.5). bodgit/ntlmssp adopts whatever flags the challenge
// carries, so a man in the middle could strip sealing (messages would go
// out signed but readable) or 128-bit keys; we refuse such a challenge.
const (
	ntlmFlagSign            uint32 = 0x00000010
	ntlmFlagSeal            uint32 = 0x00000020
	ntlmFlagExtendedSession uint32 = 0x00080000
	ntlmFlag128             uint32 = 0x20000000

	ntlmSealFlags = ntlmFlagSign | ntlmFlagSeal | ntlmFlagExtendedSession | ntlmFlag128
)

var ntlmMagic = []byte("NTLMSSP\x00")

// authError is an ErrAuth-kind error: a handshake that failed or a host
// that does not offer what the client needs. (A host that refused the
// account is deniedError.) It never carries the password (nothing in this
// file sees it).
func authError(format string, args ...any) error {
	return fmt.Errorf("%w: ntlm: "+format, append([]any{transport.ErrAuth}, args...)...)
}

// checkChallenge vets a raw CHALLENGE message before it reaches the NTLM
// client: well-formed enough to be one, and offering sealing if the
// client seals (over TLS the session only authenticates the connection).
func checkChallenge(msg []byte, seal bool) error {
	if len(msg) < 32 || !bytes.Equal(msg[:8], ntlmMagic) || binary.LittleEndian.Uint32(msg[8:]) != 2 {
		return authError("host's answer is not an NTLM challenge")
	}
	if !seal {
		return nil
	}
	flags := binary.LittleEndian.Uint32(msg[20:])
	if missing := ntlmSealFlags &^ flags; missing != 0 {
		return authError("host's challenge does not offer 128-bit NTLM sealing (flags %#08x, missing %#08x); "+
			"refusing to send messages unprotected", flags, missing)
	}
	return nil
}

// authOffer reads a 401's WWW-Authenticate headers: the NTLM token of a
// "Negotiate <base64>" or "NTLM <base64>" challenge if there is one, and
// the schemes offered (for the error when there is none).
func authOffer(values []string) (token []byte, schemes []string) {
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			scheme, param, _ := strings.Cut(strings.TrimSpace(item), " ")
			if scheme == "" || strings.Contains(scheme, "=") {
				continue // a parameter of the previous scheme (realm=..., charset=...)
			}
			schemes = append(schemes, scheme)
			if !strings.EqualFold(scheme, "Negotiate") && !strings.EqualFold(scheme, "NTLM") {
				continue
			}
			if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(param)); err == nil && len(raw) > 0 && token == nil {
				token = raw
			}
		}
	}
	return token, schemes
}

// offersNTLM reports whether schemes include one that carries NTLM.
func offersNTLM(schemes []string) bool {
	for _, s := range schemes {
		if strings.EqualFold(s, "Negotiate") || strings.EqualFold(s, "NTLM") {
			return true
		}
	}
	return false
}

// splitNTLMUser splits "DOMAIN\user". Any other form, including a UPN
// (user@example.com), goes whole into the user name with an empty domain,
// which is how Windows' own NTLM client sends a UPN.
func splitNTLMUser(logon string) (user, domain string) {
	if d, u, ok := strings.Cut(logon, `\`); ok {
		return u, d
	}
	return logon, ""
}
