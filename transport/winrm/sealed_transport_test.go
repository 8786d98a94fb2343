package winrm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/patchrun/patchrun/internal/winrmemu"
	"github.com/patchrun/patchrun/transport"
)

// These tests drive the sealed transporter against internal/winrmemu with
// AllowUnencrypted=false (a default Windows HTTP listener), directly or
// through a man in the middle that rewrites what the host answers.

// sealedEmu starts a default emulator and a MITM proxy in front of it.
func sealedEmu(t *testing.T, rewrite func(*http.Response, []byte) []byte) (*winrmemu.Server, *mitmProxy, Config) {
	t.Helper()
	s := startEmu(t, winrmemu.Config{})
	p := startMITM(t, s.Addr(), rewrite)
	cfg := p.config(emuConfig(t, s, AuthNTLM, false))
	if !cfg.withDefaults().sealed() {
		t.Fatal("test config is not sealed")
	}
	return s, p, cfg
}

func isSealedResponse(resp *http.Response) bool {
	_, ok := sealedBoundaryOf(resp.Header.Get("Content-Type"))
	return ok
}

func TestSealedCommands(t *testing.T) {
	s, _, cfg := sealedEmu(t, nil)
	c := dialEmu(t, cfg)
	tests := []struct {
		line           string
		stdout, stderr string
		exit           int
	}{
		{"echo hello", "hello\r\n", "", 0},
		{"echo oops 1>&2 & exit 5", "", "oops", 5},
		{"echo out & echo err 1>&2 & exit 3010", "out\r\n", "err", 3010},
	}
	for _, tt := range tests {
		res, err := c.Run(testCtx(t), transport.Command{Line: tt.line})
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		if string(res.Stdout) != tt.stdout || !strings.Contains(string(res.Stderr), tt.stderr) || res.ExitCode != tt.exit {
			t.Errorf("%s: stdout %q stderr %q exit %d, want %q, %q, %d", tt.line, res.Stdout, res.Stderr, res.ExitCode, tt.stdout, tt.stderr, tt.exit)
		}
	}
	st := s.Stats()
	if st.SealedRequests == 0 || st.SealedRequests != st.Requests-2 {
		t.Errorf("%d of %d requests sealed; want all but the two handshake legs", st.SealedRequests, st.Requests)
	}
}

func TestSealedHandshakeOncePerConnection(t *testing.T) {
	s, p, cfg := sealedEmu(t, nil)
	c := dialEmu(t, cfg)
	dialRequests := s.Stats().Requests
	const commands = 5
	for i := 0; i < commands; i++ {
		before := s.Stats()
		if _, err := c.Run(testCtx(t), transport.Command{Line: "echo x"}); err != nil {
			t.Fatal(err)
		}
		after := s.Stats()
		// Command, Receive (one or two), Signal: all sealed messages, no
		// handshake legs (the library's Encryption added 3 per message).
		requests, sealed := after.Requests-before.Requests, after.SealedRequests-before.SealedRequests
		if requests != sealed || requests < 3 {
			t.Errorf("command %d: %d requests, %d of them sealed messages; want all sealed, at least 3", i+1, requests, sealed)
		}
	}
	if st := s.Stats(); st.NTLMHandshakes != 1 {
		t.Errorf("%d NTLM handshakes for Dial and %d commands, want 1", st.NTLMHandshakes, commands)
	}
	if dialRequests != 3 {
		t.Errorf("Dial took %d requests, want 3 (NEGOTIATE, AUTHENTICATE, Create)", dialRequests)
	}
	accepted, requests, _ := p.snapshot()
	if accepted != 1 {
		t.Errorf("%d TCP connections, want 1 persistent connection", accepted)
	}
	withAuth := 0
	for _, h := range requests {
		if h.Get("Authorization") != "" {
			withAuth++
		}
	}
	if withAuth != 2 {
		t.Errorf("%d requests carried Authorization, want 2 (the handshake legs)", withAuth)
	}
}

func TestSealedReauthenticatesOnNewConnection(t *testing.T) {
	t.Run("host closes the idle connection", func(t *testing.T) {
		s, p, cfg := sealedEmu(t, nil)
		c := dialEmu(t, cfg)
		p.closeConns() // as HTTP.sys does after its idle timeout
		waitNoLiveConns(t, c)
		res, err := c.Run(testCtx(t), transport.Command{Line: "echo again"})
		if err != nil || string(res.Stdout) != "again\r\n" {
			t.Fatalf("Run after the host closed the connection: %q, %v", res.Stdout, err)
		}
		if got := s.Stats().NTLMHandshakes; got != 2 {
			t.Errorf("%d handshakes, want 2 (one per connection)", got)
		}
	})
	t.Run("connection dies under a Receive", func(t *testing.T) {
		s, _, cfg := sealedEmu(t, nil)
		c := dialEmu(t, cfg)
		s.SetFaults(winrmemu.Faults{DropReceives: 1})
		if _, err := c.Run(testCtx(t), transport.Command{Line: "echo lost"}); !errors.Is(err, transport.ErrConnLost) {
			t.Fatalf("err = %v, want ErrConnLost (the command may have run)", err)
		}
		res, err := c.Run(testCtx(t), transport.Command{Line: "echo back"})
		if err != nil || string(res.Stdout) != "back\r\n" {
			t.Fatalf("Run after the drop: %q, %v", res.Stdout, err)
		}
		if got := s.Stats().NTLMHandshakes; got != 2 {
			t.Errorf("%d handshakes, want 2", got)
		}
	})
}

func TestSealedLongCommandAndStdin(t *testing.T) {
	s, _, cfg := sealedEmu(t, nil)
	cfg.OperationTimeout = 150 * time.Millisecond
	c := dialEmu(t, cfg)
	res, err := c.Run(testCtx(t), transport.Command{Line: "echo start & sleep 400ms & echo done"})
	if err != nil || string(res.Stdout) != "start\r\ndone\r\n" {
		t.Fatalf("long command: %q, %v", res.Stdout, err)
	}
	if s.Stats().TimedOutFaults == 0 {
		t.Errorf("the command did not span an OperationTimeout")
	}
	// Send and Receive overlap here (the library sends stdin while its
	// Receive loop runs): the transporter must keep them in sequence.
	in := strings.Repeat("a line of stdin, sealed\r\n", 2000)
	for i := 0; i < 2; i++ {
		res, err := c.Run(testCtx(t), transport.Command{Line: "type", Stdin: strings.NewReader(in)})
		if err != nil || string(res.Stdout) != in {
			t.Fatalf("stdin run %d: %d bytes back of %d, %v", i+1, len(res.Stdout), len(in), err)
		}
	}
	if got := s.Stats().NTLMHandshakes; got != 1 {
		t.Errorf("%d handshakes, want 1", got)
	}
}

func TestSealedLogonForms(t *testing.T) {
	for _, user := range []string{`WIN-EMU\Administrator`, "Administrator", "administrator@win-emu.example"} {
		t.Run(user, func(t *testing.T) {
			s := startEmu(t, winrmemu.Config{})
			cfg := emuConfig(t, s, AuthNTLM, false)
			cfg.User = user
			c := dialEmu(t, cfg)
			if res, err := c.Run(testCtx(t), transport.Command{Line: "echo ok"}); err != nil || string(res.Stdout) != "ok\r\n" {
				t.Fatalf("got %q, %v", res.Stdout, err)
			}
		})
	}
}

// waitNoLiveConns waits until net/http has seen the host close the
// client's idle connection (its read loop closes our tracked conn). Until
// then a request could still be written into the dead socket, which is a
// genuine, rarer case (ErrConnLost), not the one under test.
func waitNoLiveConns(t *testing.T, c *Client) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		c.conns.mu.Lock()
		n := len(c.conns.conns)
		c.conns.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("client still holds %d connections the host closed", n)
		}
	}
}

// passwordForms are the ways a password could leak on the wire.
func passwordForms(user, pass string) [][]byte {
	u := utf16.Encode([]rune(pass))
	le := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(le[2*i:], c)
	}
	return [][]byte{[]byte(pass), le, []byte(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))}
}

// assertNoCredentialLeak checks that no request carried Basic or anything
// but NTLM over Negotiate, and that the password never appeared in any form.
func assertNoCredentialLeak(t *testing.T, p *mitmProxy, cfg Config) {
	t.Helper()
	_, requests, raw := p.snapshot()
	for _, h := range requests {
		if a := h.Get("Authorization"); a != "" && !strings.HasPrefix(a, "Negotiate ") {
			t.Errorf("client sent Authorization %q", a)
		}
	}
	for _, form := range passwordForms(cfg.User, cfg.Password) {
		if bytes.Contains(raw, form) {
			t.Errorf("the password went on the wire as %q", form)
		}
	}
}

// ntlmMessageTypes decodes the NTLM message types the client sent.
func ntlmMessageTypes(requests []http.Header) []uint32 {
	var types []uint32
	for _, h := range requests {
		token, _ := authOffer([]string{h.Get("Authorization")})
		if len(token) >= 12 {
			types = append(types, binary.LittleEndian.Uint32(token[8:]))
		}
	}
	return types
}

func TestSealedNeverFallsBack(t *testing.T) {
	tests := []struct {
		name    string
		rewrite func(*http.Response, []byte) []byte
		want    string // in the error
	}{
		{
			name: "host offers only Basic",
			rewrite: func(resp *http.Response, body []byte) []byte {
				if resp.StatusCode == http.StatusUnauthorized {
					resp.Header["Www-Authenticate"] = []string{`Basic realm="WSMAN"`}
				}
				return body
			},
			want: "does not offer NTLM",
		},
		{
			name: "challenge without sealing",
			rewrite: func(resp *http.Response, body []byte) []byte {
				token, _ := authOffer(resp.Header.Values("Www-Authenticate"))
				if len(token) >= 24 {
					flags := binary.LittleEndian.Uint32(token[20:]) &^ ntlmFlagSeal
					binary.LittleEndian.PutUint32(token[20:], flags)
					resp.Header["Www-Authenticate"] = []string{"Negotiate " + base64.StdEncoding.EncodeToString(token)}
				}
				return body
			},
			want: "sealing",
		},
		{
			name: "challenge that is not NTLM",
			rewrite: func(resp *http.Response, body []byte) []byte {
				if resp.StatusCode == http.StatusUnauthorized {
					resp.Header["Www-Authenticate"] = []string{"Negotiate " + base64.StdEncoding.EncodeToString([]byte("not a challenge at all"))}
				}
				return body
			},
			want: "not an NTLM challenge",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p, cfg := sealedEmu(t, tt.rewrite)
			_, err := Dial(testCtx(t), cfg)
			if !errors.Is(err, transport.ErrAuth) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrAuth mentioning %q", err, tt.want)
			}
			assertNoCredentialLeak(t, p, cfg)
			_, requests, _ := p.snapshot()
			for _, typ := range ntlmMessageTypes(requests) {
				if typ != 1 {
					t.Errorf("client sent NTLM message type %d to a host it should have refused", typ)
				}
			}
		})
	}
}

func TestSealedWrongPasswordSendsOnlyNTLMv2(t *testing.T) {
	s, p, cfg := sealedEmu(t, nil)
	cfg.Password = "Not-The-Password-9"
	_, err := Dial(testCtx(t), cfg)
	if !errors.Is(err, transport.ErrAuth) || !strings.Contains(err.Error(), "rejected the credentials") {
		t.Fatalf("err = %v, want ErrAuth: credentials rejected", err)
	}
	assertNoCredentialLeak(t, p, cfg)
	if st := s.Stats(); st.SealedRequests != 0 || st.ShellsCreated != 0 {
		t.Errorf("a failed handshake went on to send messages: %+v", st)
	}
}

func TestSealedRefusesBadResponses(t *testing.T) {
	unsealed := func(resp *http.Response, body []byte) []byte {
		resp.Header.Set("Content-Type", soapContentType)
		return []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><rsp:ShellId>INJECTED</rsp:ShellId></rsp:Shell></s:Body></s:Envelope>`)
	}
	// flipAt flips one byte counted back from the end of the sealed part,
	// which is followed by "--Encrypted Boundary--\r\n".
	flipAt := func(back int) func(*http.Response, []byte) []byte {
		return func(_ *http.Response, body []byte) []byte {
			out := append([]byte(nil), body...)
			out[len(out)-len("--"+sealedBoundary+"--\r\n")-back] ^= 0x01
			return out
		}
	}
	tests := []struct {
		name   string
		tamper func(*http.Response, []byte) []byte
		want   string
	}{
		{"unsealed body after the handshake", unsealed, "not sealed"},
		{"sealed byte flipped", flipAt(1), "failed verification"},
		{"signature byte flipped", func(resp *http.Response, body []byte) []byte {
			i := bytes.Index(body, []byte("application/octet-stream\r\n")) + len("application/octet-stream\r\n") + 4 + 6
			out := append([]byte(nil), body...)
			out[i] ^= 0x80
			return out
		}, "failed verification"},
		{"sealed part cut short", func(_ *http.Response, body []byte) []byte {
			return body[:len(body)-len("--"+sealedBoundary+"--\r\n")-3]
		}, "malformed sealed response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var armed, fired atomic.Bool
			s, _, cfg := sealedEmu(t, func(resp *http.Response, body []byte) []byte {
				if isSealedResponse(resp) && armed.Load() && !fired.Swap(true) {
					return tt.tamper(resp, body)
				}
				return body
			})
			c := dialEmu(t, cfg)
			armed.Store(true)
			_, err := c.Run(testCtx(t), transport.Command{Line: "echo secret"})
			var perr *ProtocolError
			if !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want *ProtocolError mentioning %q", err, tt.want)
			}
			// The session is discarded (its RC4 state is suspect): the next
			// command works on a fresh handshake.
			res, err := c.Run(testCtx(t), transport.Command{Line: "echo fine"})
			if err != nil || string(res.Stdout) != "fine\r\n" {
				t.Fatalf("Run after the bad response: %q, %v", res.Stdout, err)
			}
			if got := s.Stats().NTLMHandshakes; got != 2 {
				t.Errorf("%d handshakes, want 2", got)
			}
		})
	}
}

func TestSealedSessionRejectedMidway(t *testing.T) {
	s, _, cfg := sealedEmu(t, nil)
	c := dialEmu(t, cfg)
	s.SetFaults(winrmemu.Faults{RejectAuth: true})
	_, err := c.Run(testCtx(t), transport.Command{Line: "echo x"})
	if !errors.Is(err, transport.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	s.SetFaults(winrmemu.Faults{})
	if res, err := c.Run(testCtx(t), transport.Command{Line: "echo y"}); err != nil || string(res.Stdout) != "y\r\n" {
		t.Fatalf("Run once the host accepts again: %q, %v", res.Stdout, err)
	}
}

func TestSealedCloseLeavesNoGoroutines(t *testing.T) {
	s := startEmu(t, winrmemu.Config{})
	before := runtime.NumGoroutine() // the emulator's own goroutines included
	cfg := emuConfig(t, s, AuthNTLM, false)
	cfg.OperationTimeout = 200 * time.Millisecond // the stdin command waits out one Receive
	c, err := Dial(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(testCtx(t), transport.Command{Line: "type", Stdin: strings.NewReader("in")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// With the emulator still up, only our closing the connection ends
	// net/http's connection goroutines and the emulator's handler for it.
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > before {
		select {
		case <-tick.C:
		case <-deadline.C:
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}

func TestSealedFaultsAreTyped(t *testing.T) {
	tests := []struct {
		name   string
		faults winrmemu.Faults
		check  func(error) bool
	}{
		{"access denied is ErrAuth with the token filter hint", winrmemu.Faults{DenyAccess: true}, func(err error) bool {
			return errors.Is(err, transport.ErrAuth) && strings.Contains(err.Error(), "LocalAccountTokenFilterPolicy")
		}},
		{"shell quota is a *WSManFault", winrmemu.Faults{ShellQuotaExceeded: true}, func(err error) bool {
			var f *WSManFault
			return errors.As(err, &f) && f.Code == FaultMaxShells
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startEmu(t, winrmemu.Config{Faults: tt.faults})
			_, err := Dial(testCtx(t), emuConfig(t, s, AuthNTLM, false))
			if !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
			if s.Stats().SealedRequests == 0 {
				t.Errorf("the fault did not come over a sealed exchange")
			}
		})
	}
}
