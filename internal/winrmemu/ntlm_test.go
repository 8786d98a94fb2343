package winrmemu

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	azure "github.com/Azure/go-ntlmssp"
	"github.com/bodgit/ntlmssp"
)

// The server side of NTLM is checked against two client implementations
// nobody here wrote: bodgit/ntlmssp (key exchange, MIC, sealing; used by
// masterzen's encryption) and Azure/go-ntlmssp (plain NTLMv2; used by
// masterzen's ClientNTLM).

const ntlmUser, ntlmPass = "Administrator", "P@ssw0rd-émoji-🙂"

func lookupOne(name string) (string, string, bool) {
	if strings.EqualFold(name, ntlmUser) {
		return ntlmUser, ntlmPass, true
	}
	return "", "", false
}

// bodgitHandshake runs a full handshake and returns the client and the
// server's verdict on its AUTHENTICATE message (possibly mangled first).
func bodgitHandshake(t *testing.T, user, pass, domain string, mangle func([]byte)) (*ntlmssp.Client, *ntlmChallenge, []byte, *ntlmIdentity, error) {
	t.Helper()
	c, err := ntlmssp.NewClient(ntlmssp.SetUserInfo(user, pass), ntlmssp.SetDomain(domain), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		t.Fatal(err)
	}
	neg, err := c.Authenticate(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := newNTLMChallenge(neg, "WIN-EMU", time.Now())
	if err != nil {
		t.Fatalf("challenge: %v", err)
	}
	auth, err := c.Authenticate(ch.challenge, nil)
	if err != nil {
		t.Fatalf("bodgit rejected our challenge: %v", err)
	}
	if mangle != nil {
		mangle(auth)
	}
	id, err := ch.authenticate(auth, lookupOne)
	return c, ch, auth, id, err
}

func TestNTLMv2VerifiesIndependentClients(t *testing.T) {
	cases := []struct {
		name    string
		run     func(t *testing.T) (*ntlmIdentity, error)
		wantErr bool
	}{
		{"bodgit right password", func(t *testing.T) (*ntlmIdentity, error) {
			_, _, _, id, err := bodgitHandshake(t, ntlmUser, ntlmPass, "", nil)
			return id, err
		}, false},
		{"bodgit with domain and other case", func(t *testing.T) (*ntlmIdentity, error) {
			_, _, _, id, err := bodgitHandshake(t, "administrator", ntlmPass, "WIN-EMU", nil)
			return id, err
		}, false},
		{"bodgit wrong password", func(t *testing.T) (*ntlmIdentity, error) {
			_, _, _, id, err := bodgitHandshake(t, ntlmUser, ntlmPass+"x", "", nil)
			return id, err
		}, true},
		{"bodgit unknown user", func(t *testing.T) (*ntlmIdentity, error) {
			_, _, _, id, err := bodgitHandshake(t, "guest", ntlmPass, "", nil)
			return id, err
		}, true},
		{"bodgit tampered MIC", func(t *testing.T) (*ntlmIdentity, error) {
			_, _, _, id, err := bodgitHandshake(t, ntlmUser, ntlmPass, "", func(b []byte) { b[72] ^= 0xff })
			return id, err
		}, true},
		{"azure right password", func(t *testing.T) (*ntlmIdentity, error) { return azureHandshake(t, ntlmPass) }, false},
		{"azure wrong password", func(t *testing.T) (*ntlmIdentity, error) { return azureHandshake(t, "nope") }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.run(t)
			if tc.wantErr {
				if !errors.Is(err, errNTLM) {
					t.Fatalf("want errNTLM, got id %+v err %v", id, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			if id.user != ntlmUser || len(id.exportedKey) != 16 {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

func azureHandshake(t *testing.T, pass string) (*ntlmIdentity, error) {
	t.Helper()
	neg, err := azure.NewNegotiateMessage("", "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := newNTLMChallenge(neg, "WIN-EMU", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ch.flags&flagKeyExch != 0 {
		t.Fatal("challenge offers KEY_EXCH that Azure did not ask for (it refuses such challenges)")
	}
	auth, err := azure.ProcessChallenge(ch.challenge, ntlmUser, pass, true)
	if err != nil {
		t.Fatalf("azure rejected our challenge: %v", err)
	}
	return ch.authenticate(auth, lookupOne)
}

func TestBodgitSendsMICThatWeCheck(t *testing.T) {
	// Guards the tampered-MIC case above: it only means something if the
	// client really flags a MIC.
	_, _, auth, _, err := bodgitHandshake(t, ntlmUser, ntlmPass, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ntLen := int(auth[20]) | int(auth[21])<<8
	ntOff := int(auth[24]) | int(auth[25])<<8 | int(auth[26])<<16 | int(auth[27])<<24
	if !blobHasMIC(auth[ntOff+16 : ntOff+ntLen]) {
		t.Fatal("bodgit's NTLMv2 blob does not flag a MIC")
	}
}

func TestSealingInteroperatesWithBodgit(t *testing.T) {
	c, _, _, id, err := bodgitHandshake(t, ntlmUser, ntlmPass, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.flags&flagKeyExch == 0 || id.flags&flagSeal == 0 {
		t.Fatalf("bodgit negotiated flags %#x without KEY_EXCH+SEAL", id.flags)
	}
	srv, err := newSealSession(id.flags, id.exportedKey, true)
	if err != nil {
		t.Fatal(err)
	}
	cli := c.SecuritySession()
	// Several messages each way: the RC4 streams and sequence numbers run on.
	for i, msg := range []string{"<s:Envelope>one</s:Envelope>", "", strings.Repeat("x", 70000), "four"} {
		sealed, sig, err := cli.Wrap([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		got, err := srv.unseal(sealed, sig)
		if err != nil || string(got) != msg {
			t.Fatalf("client→server message %d: %v", i, err)
		}
		reply := "reply " + msg
		sealed, sig = srv.seal([]byte(reply))
		back, err := cli.Unwrap(sealed, sig)
		if err != nil || string(back) != reply {
			t.Fatalf("server→client message %d: %v", i, err)
		}
	}
}

func TestSealSessionRejectsTamperingAndReplay(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 16)
	for _, flags := range []uint32{
		flagSeal | flagSign | flagExtendedSession | flag128 | flagKeyExch,
		flagSeal | flagSign | flagExtendedSession | flag128,
		flagSeal | flagSign | flagExtendedSession | flag56,
	} {
		cli, err := newSealSession(flags, key, false)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := newSealSession(flags, key, true)
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte("<s:Envelope>hello</s:Envelope>")
		sealed, sig := cli.seal(msg)
		if bytes.Contains(sealed, []byte("hello")) {
			t.Errorf("flags %#x: sealed bytes contain the plaintext", flags)
		}
		got, err := srv.unseal(sealed, sig)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("flags %#x: round trip: %q %v", flags, got, err)
		}
		// A replay of the same message has the wrong sequence number.
		if _, err := srv.unseal(sealed, sig); !errors.Is(err, errSeal) {
			t.Errorf("flags %#x: replay accepted: %v", flags, err)
		}

		cli2, _ := newSealSession(flags, key, false)
		srv2, _ := newSealSession(flags, key, true)
		sealed, sig = cli2.seal(msg)
		sealed[3] ^= 1
		if _, err := srv2.unseal(sealed, sig); !errors.Is(err, errSeal) {
			t.Errorf("flags %#x: tampered message accepted: %v", flags, err)
		}
	}
	if _, err := newSealSession(flagSeal|flag128, key, true); !errors.Is(err, errNTLM) {
		t.Errorf("sealing without extended session security: want errNTLM, got %v", err)
	}
}

func TestChallengeEchoesOnlyRequestedFlags(t *testing.T) {
	neg := append([]byte("NTLMSSP\x00"), 1, 0, 0, 0, 0x02, 0x02, 0x08, 0x00) // OEM | NTLM | EXTENDED
	ch, err := newNTLMChallenge(neg, "win-emu", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if ch.flags&(flagKeyExch|flagSeal|flagSign) != 0 {
		t.Errorf("flags %#x offer signing/sealing nobody asked for", ch.flags)
	}
	if ch.flags&flagUnicode == 0 || ch.flags&flagExtendedSession == 0 {
		t.Errorf("flags %#x: want UNICODE and the requested EXTENDED_SESSIONSECURITY", ch.flags)
	}
	if !bytes.Contains(ch.challenge, utf16le("WIN-EMU")) {
		t.Error("target name missing from challenge")
	}
	if _, err := newNTLMChallenge([]byte("NTLMSSP\x00\x03\x00\x00\x00\x00\x00\x00\x00"), "x", time.Now()); !errors.Is(err, errNTLM) {
		t.Errorf("type 3 as negotiate: %v", err)
	}
}
