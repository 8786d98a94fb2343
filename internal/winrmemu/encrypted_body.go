package winrmemu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The MS-WSMV 2.2.9.1.1 body of an NTLM-sealed message. Clients (pywinrm,
// masterzen/winrm) split on the boundary text by hand, so the layout below is
// reproduced byte for byte, including the tab-indented part headers.
const (
	encBoundary     = "--Encrypted Boundary"
	encProtocol     = "application/HTTP-SPNEGO-session-encrypted"
	encContentType  = `multipart/encrypted;protocol="` + encProtocol + `";boundary="Encrypted Boundary"`
	soapContentType = "application/soap+xml;charset=UTF-8"
)

var errEncBody = errors.New("malformed encrypted body")

// encPart is one sealed SOAP message as carried in the multipart body.
type encPart struct {
	sig, sealed []byte
}

// isEncryptedContentType says whether a request claims to be sealed.
func isEncryptedContentType(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "multipart/encrypted") || strings.HasPrefix(ct, "multipart/x-multi-encrypted")
}

// parseEncryptedBody extracts the sealed parts. The sealed data's length is
// taken from OriginalContent's Length (RC4 keeps lengths), never by
// searching for the boundary, which may occur by chance in ciphertext.
func parseEncryptedBody(body []byte) ([]encPart, error) {
	var parts []encPart
	rest := body
	for {
		rest = bytes.TrimLeft(rest, "\r\n")
		if !bytes.HasPrefix(rest, []byte(encBoundary)) {
			return nil, fmt.Errorf("missing boundary: %w", errEncBody)
		}
		rest = rest[len(encBoundary):]
		if bytes.HasPrefix(rest, []byte("--")) {
			if len(parts) == 0 {
				return nil, fmt.Errorf("no parts: %w", errEncBody)
			}
			return parts, nil
		}
		length := -1
		// Header lines of the first part, up to the second boundary.
		for {
			line, after, ok := cutLine(rest)
			if !ok {
				return nil, fmt.Errorf("truncated part header: %w", errEncBody)
			}
			rest = after
			t := strings.TrimSpace(string(line))
			if t == encBoundary {
				break
			}
			if i := strings.Index(t, "Length="); i >= 0 && strings.HasPrefix(strings.ToLower(t), "originalcontent:") {
				n, err := strconv.Atoi(strings.TrimSpace(t[i+len("Length="):]))
				if err != nil || n < 0 {
					return nil, fmt.Errorf("bad length %q: %w", t, errEncBody)
				}
				length = n
			}
		}
		if length < 0 {
			return nil, fmt.Errorf("no OriginalContent length: %w", errEncBody)
		}
		// The octet-stream part's single header line, then the payload.
		line, after, ok := cutLine(rest)
		if !ok || !strings.Contains(strings.ToLower(string(line)), "application/octet-stream") {
			return nil, fmt.Errorf("missing octet-stream header: %w", errEncBody)
		}
		rest = after
		if len(rest) < 4 {
			return nil, fmt.Errorf("truncated signature length: %w", errEncBody)
		}
		sigLen := int(binary.LittleEndian.Uint32(rest))
		if sigLen < 0 || sigLen > 64 || len(rest) < 4+sigLen+length {
			return nil, fmt.Errorf("truncated payload: %w", errEncBody)
		}
		parts = append(parts, encPart{
			sig:    rest[4 : 4+sigLen],
			sealed: rest[4+sigLen : 4+sigLen+length],
		})
		rest = rest[4+sigLen+length:]
	}
}

func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+2:], true
}

// buildEncryptedBody frames one sealed message the way Windows does.
func buildEncryptedBody(originalLen int, sig, sealed []byte) []byte {
	var b bytes.Buffer
	b.WriteString(encBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + encProtocol + "\r\n")
	b.WriteString("\tOriginalContent: type=" + soapContentType + ";Length=" + strconv.Itoa(originalLen) + "\r\n")
	b.WriteString(encBoundary + "\r\n")
	b.WriteString("\tContent-Type: application/octet-stream\r\n")
	var l [4]byte
	binary.LittleEndian.PutUint32(l[:], uint32(len(sig)))
	b.Write(l[:])
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(encBoundary + "--\r\n")
	return b.Bytes()
}
