package winrm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// The body of an NTLM-sealed WS-Man message (MS-WSMV 2.2.9.1.1): a
// multipart/encrypted envelope whose first part names the original content
// and its length, and whose second part is <u32le 16><signature><sealed>.
// Windows and pywinrm split it by hand rather than by MIME rules, so the
// layout below (tab-indented part headers, no CRLF before the closing
// boundary) matches theirs byte for byte.
const (
	sealedProtocol    = "application/HTTP-SPNEGO-session-encrypted"
	sealedBoundary    = "Encrypted Boundary"
	sealedContentType = `multipart/encrypted;protocol="` + sealedProtocol + `";boundary="` + sealedBoundary + `"`
	soapContentType   = "application/soap+xml;charset=UTF-8"
	ntlmSignatureSize = 16
)

// sealedPart is one sealed message cut out of a multipart/encrypted body.
type sealedPart struct {
	sig, sealed []byte
}

// frameSealed builds the request body for one sealed message; plainLen is
// the length of the SOAP text before sealing (RC4 keeps lengths).
func frameSealed(sig, sealed []byte, plainLen int) []byte {
	var b bytes.Buffer
	b.Grow(len(sealed) + 256)
	b.WriteString("--" + sealedBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + sealedProtocol + "\r\n")
	b.WriteString("\tOriginalContent: type=" + soapContentType + ";Length=" + strconv.Itoa(plainLen) + "\r\n")
	b.WriteString("--" + sealedBoundary + "\r\n")
	b.WriteString("\tContent-Type: application/octet-stream\r\n")
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(sig)))
	b.Write(n[:])
	b.Write(sig)
	b.Write(sealed)
	b.WriteString("--" + sealedBoundary + "--\r\n")
	return b.Bytes()
}

// sealedBoundaryOf checks that a response Content-Type announces an
// NTLM-sealed body and returns its boundary. Anything else is an unsealed
// answer, which a sealed client must never accept.
func sealedBoundaryOf(contentType string) (string, bool) {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil || media != "multipart/encrypted" || !strings.EqualFold(params["protocol"], sealedProtocol) {
		return "", false
	}
	if params["boundary"] == "" {
		return "", false
	}
	return params["boundary"], true
}

// parseSealed cuts the sealed parts out of a multipart/encrypted body. The
// sealed bytes' extent comes from OriginalContent's Length, never from a
// search for the boundary, which may occur by chance in ciphertext.
func parseSealed(body []byte, boundary string) ([]sealedPart, error) {
	delim := []byte("--" + boundary)
	var parts []sealedPart
	rest := body
	for {
		rest = bytes.TrimLeft(rest, "\r\n")
		if !bytes.HasPrefix(rest, delim) {
			return nil, fmt.Errorf("no boundary where one belongs")
		}
		rest = rest[len(delim):]
		if bytes.HasPrefix(rest, []byte("--")) {
			if len(parts) == 0 {
				return nil, fmt.Errorf("no sealed part")
			}
			return parts, nil
		}
		length := -1
		for { // the first part's header lines, up to the next boundary
			line, after, ok := bytes.Cut(rest, []byte("\r\n"))
			if !ok {
				return nil, fmt.Errorf("truncated part header")
			}
			rest = after
			text := strings.TrimSpace(string(line))
			if text == string(delim) {
				break
			}
			if n, ok := originalLength(text); ok {
				length = n
			}
		}
		if length < 0 {
			return nil, fmt.Errorf("part has no OriginalContent length")
		}
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok || !strings.Contains(strings.ToLower(string(line)), "application/octet-stream") {
			return nil, fmt.Errorf("no octet-stream part")
		}
		rest = after
		if len(rest) < 4 {
			return nil, fmt.Errorf("truncated signature length")
		}
		if n := binary.LittleEndian.Uint32(rest); n != ntlmSignatureSize {
			return nil, fmt.Errorf("signature length %d, want %d", n, ntlmSignatureSize)
		}
		rest = rest[4:]
		if len(rest) < ntlmSignatureSize+length {
			return nil, fmt.Errorf("sealed data shorter than its length %d", length)
		}
		parts = append(parts, sealedPart{sig: rest[:ntlmSignatureSize], sealed: rest[ntlmSignatureSize : ntlmSignatureSize+length]})
		rest = rest[ntlmSignatureSize+length:]
	}
}

// originalLength reads "OriginalContent: type=...;Length=N".
func originalLength(line string) (int, bool) {
	name, value, ok := strings.Cut(line, ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(name), "OriginalContent") {
		return 0, false
	}
	for _, field := range strings.Split(value, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		if strings.EqualFold(k, "Length") {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil && n >= 0
		}
	}
	return 0, false
}
