package winrmemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

// NTLM negotiate flags used by the server side (MS-NLMP 2.2.2.5).
const (
	flagUnicode         uint32 = 0x00000001
	flagRequestTarget   uint32 = 0x00000004
	flagSign            uint32 = 0x00000010
	flagSeal            uint32 = 0x00000020
	flagLMKey           uint32 = 0x00000080
	flagNTLM            uint32 = 0x00000200
	flagAlwaysSign      uint32 = 0x00008000
	flagTargetTypeSrv   uint32 = 0x00020000
	flagExtendedSession uint32 = 0x00080000
	flagTargetInfo      uint32 = 0x00800000
	flagVersion         uint32 = 0x02000000
	flag128             uint32 = 0x20000000
	flagKeyExch         uint32 = 0x40000000
	flag56              uint32 = 0x80000000
)

// AV pair ids carried in the challenge's target info.
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avFlags           = 6
	avTimestamp       = 7
)

var ntlmSignature = []byte("NTLMSSP\x00")

// errNTLM marks every NTLM failure: the caller answers 401 whatever the detail.
var errNTLM = errors.New("ntlm authentication failed")

// ntlmChallenge is the server half of one NTLM handshake, created when the
// NEGOTIATE message arrives and consumed by the AUTHENTICATE message.
// It belongs to one TCP connection (see connState) and is not shared.
type ntlmChallenge struct {
	negotiate []byte // raw type 1, for the MIC
	challenge []byte // raw type 2, for the MIC
	flags     uint32
	serverCh  [8]byte
}

// ntlmIdentity is the outcome of a verified AUTHENTICATE message.
type ntlmIdentity struct {
	user   string // as configured (canonical case)
	domain string
	flags  uint32
	// exportedKey is the session key both sides derive; sealing keys come from it.
	exportedKey []byte
}

// newNTLMChallenge parses a NEGOTIATE message and builds the CHALLENGE the
// server answers with. Only flags the client asked for are echoed: some
// clients (Azure/go-ntlmssp) refuse a challenge offering KEY_EXCH they did
// not request.
func newNTLMChallenge(negotiate []byte, computer string, now time.Time) (*ntlmChallenge, error) {
	if len(negotiate) < 16 || !bytes.Equal(negotiate[:8], ntlmSignature) || binary.LittleEndian.Uint32(negotiate[8:]) != 1 {
		return nil, fmt.Errorf("not an ntlm negotiate message: %w", errNTLM)
	}
	req := binary.LittleEndian.Uint32(negotiate[12:])
	// UNICODE is answered even when the client offers only OEM (ntlm-auth
	// does): Windows does the same, and every client then speaks UTF-16.
	flags := flagUnicode | flagRequestTarget | flagNTLM | flagTargetTypeSrv | flagTargetInfo | flagVersion
	flags |= req & (flagSign | flagSeal | flagAlwaysSign | flagExtendedSession | flag128 | flag56 | flagKeyExch)

	c := &ntlmChallenge{negotiate: append([]byte(nil), negotiate...), flags: flags}
	if _, err := rand.Read(c.serverCh[:]); err != nil {
		return nil, fmt.Errorf("server challenge: %w", err)
	}

	upper := strings.ToUpper(computer)
	var info bytes.Buffer
	putAV := func(id uint16, v []byte) {
		_ = binary.Write(&info, binary.LittleEndian, id)
		_ = binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	putAV(avNbDomainName, utf16le(upper))
	putAV(avNbComputerName, utf16le(upper))
	putAV(avDNSDomainName, utf16le(strings.ToLower(computer)))
	putAV(avDNSComputerName, utf16le(strings.ToLower(computer)))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, fileTime(now))
	putAV(avTimestamp, ts)
	putAV(avEOL, nil)

	target := utf16le(upper)
	const headerLen = 56
	msg := make([]byte, headerLen, headerLen+len(target)+info.Len())
	copy(msg, ntlmSignature)
	binary.LittleEndian.PutUint32(msg[8:], 2)
	putField(msg[12:], len(target), headerLen)
	binary.LittleEndian.PutUint32(msg[20:], flags)
	copy(msg[24:32], c.serverCh[:])
	putField(msg[40:], info.Len(), headerLen+len(target))
	// Version: Windows 10.0 build 17763 (Server 2019), NTLM revision 15.
	copy(msg[48:56], []byte{10, 0, 0x63, 0x45, 0, 0, 0, 15})
	msg = append(msg, target...)
	msg = append(msg, info.Bytes()...)
	c.challenge = msg
	return c, nil
}

// authenticate checks an AUTHENTICATE message's NTLMv2 response against the
// configured users and derives the exported session key. lookup returns the
// configured spelling of the user name and its password.
func (c *ntlmChallenge) authenticate(msg []byte, lookup func(user string) (string, string, bool)) (*ntlmIdentity, error) {
	if len(msg) < 64 || !bytes.Equal(msg[:8], ntlmSignature) || binary.LittleEndian.Uint32(msg[8:]) != 3 {
		return nil, fmt.Errorf("not an ntlm authenticate message: %w", errNTLM)
	}
	field := func(off int) ([]byte, error) {
		l := int(binary.LittleEndian.Uint16(msg[off:]))
		p := int(binary.LittleEndian.Uint32(msg[off+4:]))
		if l == 0 {
			return nil, nil
		}
		if p < 0 || p+l > len(msg) {
			return nil, fmt.Errorf("field at %d out of range: %w", off, errNTLM)
		}
		return msg[p : p+l], nil
	}
	ntResp, err := field(20)
	if err != nil {
		return nil, err
	}
	domainRaw, err := field(28)
	if err != nil {
		return nil, err
	}
	userRaw, err := field(36)
	if err != nil {
		return nil, err
	}
	encKey, err := field(52)
	if err != nil {
		return nil, err
	}
	flags := binary.LittleEndian.Uint32(msg[60:])
	if len(ntResp) <= 24 {
		// 24 bytes is an NTLMv1 response; Windows' default policy refuses it too.
		return nil, fmt.Errorf("ntlmv1 response refused: %w", errNTLM)
	}
	user, domain := fromUTF16LE(userRaw), fromUTF16LE(domainRaw)
	canon, password, ok := lookup(user)
	if !ok {
		return nil, fmt.Errorf("unknown user: %w", errNTLM)
	}

	proof, blob := ntResp[:16], ntResp[16:]
	nt := ntHash(password)
	var ntowf []byte
	// The domain in the proof is whatever the client sent; clients differ in
	// case, so accept the name as sent and upper-cased (local accounts on
	// Windows behave the same).
	for _, d := range []string{domain, strings.ToUpper(domain)} {
		k := hmacMD5(nt, utf16le(strings.ToUpper(user)+d))
		if hmac.Equal(hmacMD5(k, c.serverCh[:], blob), proof) {
			ntowf = k
			break
		}
	}
	if ntowf == nil {
		return nil, fmt.Errorf("bad ntlmv2 proof for %q: %w", user, errNTLM)
	}

	keyExchangeKey := hmacMD5(ntowf, proof) // NTLMv2: KeyExchangeKey = SessionBaseKey
	exported := keyExchangeKey
	if flags&flagKeyExch != 0 {
		if len(encKey) != 16 {
			return nil, fmt.Errorf("key exchange without a 16-byte session key: %w", errNTLM)
		}
		exported = rc4Once(keyExchangeKey, encKey)
	}
	if err := c.checkMIC(msg, blob, exported); err != nil {
		return nil, err
	}
	return &ntlmIdentity{user: canon, domain: domain, flags: flags, exportedKey: exported}, nil
}

// checkMIC verifies the message integrity code when the client says (in the
// AV flags of its NTLMv2 blob) that it sent one.
func (c *ntlmChallenge) checkMIC(msg, blob, exportedKey []byte) error {
	if !blobHasMIC(blob) {
		return nil
	}
	const micOff = 72
	if len(msg) < micOff+16 {
		return fmt.Errorf("mic flagged but message too short: %w", errNTLM)
	}
	zeroed := append([]byte(nil), msg...)
	clear(zeroed[micOff : micOff+16])
	want := hmacMD5(exportedKey, c.negotiate, c.challenge, zeroed)
	if !hmac.Equal(want, msg[micOff:micOff+16]) {
		return fmt.Errorf("mic mismatch: %w", errNTLM)
	}
	return nil
}

// blobHasMIC reads the AV pairs of an NTLMv2 client blob (after its 28-byte
// fixed header) looking for MsvAvFlags bit 0x2.
func blobHasMIC(blob []byte) bool {
	if len(blob) < 28 {
		return false
	}
	av := blob[28:]
	for len(av) >= 4 {
		id := binary.LittleEndian.Uint16(av)
		l := int(binary.LittleEndian.Uint16(av[2:]))
		if id == avEOL || 4+l > len(av) {
			return false
		}
		if id == avFlags && l == 4 {
			return binary.LittleEndian.Uint32(av[4:])&0x2 != 0
		}
		av = av[4+l:]
	}
	return false
}

func putField(b []byte, length, offset int) {
	binary.LittleEndian.PutUint16(b, uint16(length))
	binary.LittleEndian.PutUint16(b[2:], uint16(length))
	binary.LittleEndian.PutUint32(b[4:], uint32(offset))
}

// fileTime converts to Windows FILETIME (100 ns ticks since 1601).
func fileTime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

func ntHash(password string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return h.Sum(nil)
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func md5Sum(data ...[]byte) []byte {
	h := md5.New()
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

func rc4Once(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		// Only reachable with an empty key, which the callers never pass.
		panic(err)
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
