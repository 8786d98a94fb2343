package winrm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/transport"
)

func TestFrameSealedRoundTrip(t *testing.T) {
	sig := bytes.Repeat([]byte{0xAB}, ntlmSignatureSize)
	tests := []struct {
		name   string
		sealed []byte
	}{
		{"plain bytes", []byte("ciphertext-ish bytes")},
		{"boundary inside the ciphertext", []byte("xx\r\n--Encrypted Boundary--\r\nyy")},
		{"empty message", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := frameSealed(sig, tt.sealed, len(tt.sealed))
			if !bytes.Contains(body, []byte("\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=")) {
				t.Errorf("no OriginalContent part header in %q", body)
			}
			parts, err := parseSealed(body, sealedBoundary)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != 1 || !bytes.Equal(parts[0].sig, sig) || !bytes.Equal(parts[0].sealed, tt.sealed) {
				t.Errorf("parsed %+v", parts)
			}
		})
	}
}

func TestParseSealedMultipleParts(t *testing.T) {
	sig := bytes.Repeat([]byte{1}, ntlmSignatureSize)
	one := frameSealed(sig, []byte("first"), 5)
	two := frameSealed(sig, []byte("second"), 6)
	// Two parts share one closing boundary: cut it off the first.
	body := append(bytes.TrimSuffix(one, []byte("--"+sealedBoundary+"--\r\n")), two...)
	parts, err := parseSealed(body, sealedBoundary)
	if err != nil {
		t.Fatalf("%v in %q", err, body)
	}
	if len(parts) != 2 || string(parts[0].sealed) != "first" || string(parts[1].sealed) != "second" {
		t.Errorf("parsed %+v", parts)
	}
}

func TestParseSealedRejectsMalformed(t *testing.T) {
	sig := bytes.Repeat([]byte{1}, ntlmSignatureSize)
	good := frameSealed(sig, []byte("payload"), 7)
	tests := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"plain SOAP", []byte("<s:Envelope/>")},
		{"only the closing boundary", []byte("--Encrypted Boundary--\r\n")},
		{"length longer than the data", bytes.Replace(good, []byte("Length=7"), []byte("Length=70"), 1)},
		{"no length", bytes.Replace(good, []byte(";Length=7"), nil, 1)},
		{"negative length", bytes.Replace(good, []byte("Length=7"), []byte("Length=-1"), 1)},
		{"signature length not 16", func() []byte {
			b := append([]byte(nil), good...)
			i := bytes.Index(b, []byte("octet-stream\r\n")) + len("octet-stream\r\n")
			binary.LittleEndian.PutUint32(b[i:], 8)
			return b
		}()},
		{"no octet-stream part", bytes.Replace(good, []byte("application/octet-stream"), []byte("text/plain"), 1)},
		{"truncated", good[:len(good)/2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if parts, err := parseSealed(tt.body, sealedBoundary); err == nil {
				t.Errorf("accepted: %+v", parts)
			}
		})
	}
}

func TestSealedBoundaryOf(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{sealedContentType, true},
		{`multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`, true},
		{`Multipart/Encrypted; protocol="application/http-spnego-session-encrypted"; boundary="B"`, true},
		{soapContentType, false},
		{`multipart/encrypted;protocol="application/HTTP-CredSSP-session-encrypted";boundary="Encrypted Boundary"`, false},
		{`multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"`, false},
		{"", false},
	}
	for _, tt := range tests {
		if _, got := sealedBoundaryOf(tt.ct); got != tt.want {
			t.Errorf("sealedBoundaryOf(%q) = %v, want %v", tt.ct, got, tt.want)
		}
	}
}

// challengeWithFlags is a minimal CHALLENGE message header.
func challengeWithFlags(flags uint32) []byte {
	msg := make([]byte, 48)
	copy(msg, ntlmMagic)
	binary.LittleEndian.PutUint32(msg[8:], 2)
	binary.LittleEndian.PutUint32(msg[20:], flags)
	return msg
}

func TestCheckChallenge(t *testing.T) {
	full := ntlmSealFlags | 0x00000001 | 0x40000000
	tests := []struct {
		name            string
		msg             []byte
		sealOK, plainOK bool // accepted by a sealing client, by one over TLS
	}{
		{"sealing offered", challengeWithFlags(full), true, true},
		{"no seal", challengeWithFlags(full &^ ntlmFlagSeal), false, true},
		{"no sign", challengeWithFlags(full &^ ntlmFlagSign), false, true},
		{"40-bit keys only", challengeWithFlags(full &^ ntlmFlag128), false, true},
		{"no extended session security", challengeWithFlags(full &^ ntlmFlagExtendedSession), false, true},
		{"negotiate instead of challenge", func() []byte { m := challengeWithFlags(full); m[8] = 1; return m }(), false, false},
		{"not ntlmssp", append([]byte("KERBEROS"), challengeWithFlags(full)[8:]...), false, false},
		{"too short", challengeWithFlags(full)[:20], false, false},
	}
	for _, tt := range tests {
		for _, seal := range []bool{true, false} {
			want := tt.plainOK
			if seal {
				want = tt.sealOK
			}
			err := checkChallenge(tt.msg, seal)
			if (err == nil) != want {
				t.Errorf("%s (seal %v): err = %v, want ok=%v", tt.name, seal, err, want)
			}
			if err != nil && !errors.Is(err, transport.ErrAuth) {
				t.Errorf("%s: %v is not ErrAuth", tt.name, err)
			}
		}
	}
}

func TestAuthOffer(t *testing.T) {
	token := []byte("NTLMSSP\x00\x02rest")
	b64 := base64.StdEncoding.EncodeToString(token)
	tests := []struct {
		name      string
		values    []string
		token     []byte
		offerNTLM bool
	}{
		{"windows 401", []string{"Negotiate", `Basic realm="WSMAN"`}, nil, true},
		{"challenge", []string{"Negotiate " + b64}, token, true},
		{"ntlm scheme", []string{"NTLM " + b64}, token, true},
		{"one header, comma separated", []string{`Basic realm="WSMAN", Negotiate ` + b64}, token, true},
		{"basic only", []string{`Basic realm="WSMAN", charset="UTF-8"`}, nil, false},
		{"kerberos only", []string{"Kerberos"}, nil, false},
		{"nothing", nil, nil, false},
		{"garbage token", []string{"Negotiate !!!"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, schemes := authOffer(tt.values)
			if !bytes.Equal(got, tt.token) {
				t.Errorf("token %q, want %q", got, tt.token)
			}
			if offersNTLM(schemes) != tt.offerNTLM {
				t.Errorf("schemes %q: offersNTLM = %v, want %v", schemes, !tt.offerNTLM, tt.offerNTLM)
			}
			for _, s := range schemes {
				if strings.Contains(s, "=") {
					t.Errorf("parameter %q taken for a scheme", s)
				}
			}
		})
	}
}

func TestSplitNTLMUser(t *testing.T) {
	tests := []struct{ in, user, domain string }{
		{`CORP\alice`, "alice", "CORP"},
		{"alice", "alice", ""},
		{"alice@corp.example.com", "alice@corp.example.com", ""},
		{`.\Administrator`, "Administrator", "."},
	}
	for _, tt := range tests {
		if u, d := splitNTLMUser(tt.in); u != tt.user || d != tt.domain {
			t.Errorf("splitNTLMUser(%q) = %q, %q; want %q, %q", tt.in, u, d, tt.user, tt.domain)
		}
	}
}
