package winrmemu_test

import (
	"context"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

// The emulator is only worth something if a client nobody here wrote
// accepts it: these tests drive it with masterzen/winrm, the library the
// product's WinRM transport uses.

type clientMode struct {
	name  string
	cfg   winrmemu.Config
	https bool
	// decorator picks the client's auth transport; nil means Basic.
	decorator func() winrm.Transporter
	sealed    bool // the messages must travel NTLM-sealed
	ntlm      bool
}

func ntlmDecorator() winrm.Transporter { return &winrm.ClientNTLM{} }

// encryptionDecorator returns a NEW encryption transport per client: the
// transport holds NTLM session state and must never be shared.
func encryptionDecorator() winrm.Transporter {
	enc, err := winrm.NewEncryption("ntlm")
	if err != nil {
		// NewEncryption only fails for protocols other than "ntlm".
		panic(err)
	}
	return enc
}

func clientModes() []clientMode {
	return []clientMode{
		{name: "basic over http", cfg: winrmemu.Config{AllowUnencrypted: true}},
		{name: "ntlm over http", cfg: winrmemu.Config{AllowUnencrypted: true}, decorator: ntlmDecorator, ntlm: true},
		{name: "ntlm sealed over http", cfg: winrmemu.Config{AllowUnencrypted: false}, decorator: encryptionDecorator, sealed: true, ntlm: true},
		{name: "basic over https", cfg: winrmemu.Config{TLS: true}, https: true},
		{name: "ntlm over https", cfg: winrmemu.Config{TLS: true}, https: true, decorator: ntlmDecorator, ntlm: true},
	}
}

func newMasterzenClient(t *testing.T, s *winrmemu.Server, m clientMode, password, opTimeout string) *winrm.Client {
	t.Helper()
	host, port := hostPort(t, s)
	var ca []byte
	if m.https {
		ca = s.CACertPEM()
	}
	ep := winrm.NewEndpoint(host, port, m.https, false, ca, nil, nil, 10*time.Second)
	params := *winrm.DefaultParameters // copy: never mutate the library's global
	params.Timeout = opTimeout
	params.TransportDecorator = m.decorator
	c, err := winrm.NewClientWithParameters(ep, testUser, password, &params)
	if err != nil {
		t.Fatalf("NewClientWithParameters: %v", err)
	}
	return c
}

func TestMasterzenRunsCommands(t *testing.T) {
	commands := []struct {
		line           string
		stdout, stderr string
		code           int
	}{
		{"echo hello", "hello\r\n", "", 0},
		{"echo out & echo oops >&2 & exit /b 3", "out\r\n", "oops\r\n", 3},
		{"nosuchtool --version", "", "'nosuchtool' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", 9009},
	}
	for _, m := range clientModes() {
		t.Run(m.name, func(t *testing.T) {
			s := startServer(t, m.cfg)
			c := newMasterzenClient(t, s, m, testPass, "PT5S")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, tc := range commands {
				stdout, stderr, code, err := c.RunCmdWithContext(ctx, tc.line)
				if err != nil {
					t.Fatalf("%q: %v", tc.line, err)
				}
				if stdout != tc.stdout || stderr != tc.stderr || code != tc.code {
					t.Errorf("%q: got stdout %q stderr %q code %d; want %q %q %d",
						tc.line, stdout, stderr, code, tc.stdout, tc.stderr, tc.code)
				}
			}
			st := s.Stats()
			if m.sealed && st.SealedRequests == 0 {
				t.Errorf("no sealed requests reached the server (client fell back to plaintext?): %+v", st)
			}
			if !m.sealed && st.SealedRequests != 0 {
				t.Errorf("unexpected sealed requests: %+v", st)
			}
			if m.ntlm && st.NTLMHandshakes == 0 {
				t.Errorf("no NTLM handshake completed: %+v", st)
			}
			if st.ShellsOpen != 0 {
				t.Errorf("client deleted its shells but %d remain open", st.ShellsOpen)
			}
		})
	}
}

func TestMasterzenStdin(t *testing.T) {
	// Basic only. masterzen sends stdin while a Receive is in flight, on a
	// second connection; its NTLM transports then sometimes finish a
	// handshake on the wrong pooled connection, which a connection-oriented
	// server (Windows, and this emulator) answers with 401.
	for _, m := range clientModes() {
		if m.ntlm {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			s := startServer(t, m.cfg)
			c := newMasterzenClient(t, s, m, testPass, "PT5S")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			stdout, _, code, err := c.RunWithContextWithString(ctx, "type con", "line one\nline two\n")
			if err != nil || code != 0 || stdout != "line one\nline two\n" {
				t.Fatalf("type con: stdout %q code %d err %v", stdout, code, err)
			}
		})
	}
}

func TestMasterzenRetriesOperationTimeout(t *testing.T) {
	for _, m := range clientModes()[:3] {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, m.cfg)
			c := newMasterzenClient(t, s, m, testPass, "PT0.5S")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			stdout, stderr, code, err := c.RunCmdWithContext(ctx, "echo started & sleep 1300ms & echo finished")
			if err != nil || code != 0 {
				t.Fatalf("run: code %d err %v stderr %q", code, err, stderr)
			}
			if stdout != "started\r\nfinished\r\n" {
				t.Errorf("stdout %q, want both lines", stdout)
			}
			if st := s.Stats(); st.TimedOutFaults < 1 {
				t.Errorf("the command outlived OperationTimeout but no TimedOut fault was sent: %+v", st)
			}
		})
	}
}

func TestMasterzenWrongPassword(t *testing.T) {
	for _, m := range clientModes() {
		t.Run(m.name, func(t *testing.T) {
			s := startServer(t, m.cfg)
			c := newMasterzenClient(t, s, m, "wrong-"+testPass, "PT5S")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, _, _, err := c.RunCmdWithContext(ctx, "echo should not run")
			if err == nil {
				t.Fatal("a wrong password ran a command")
			}
			if st := s.Stats(); st.Commands != 0 || st.AuthFailures == 0 {
				t.Errorf("want no commands and some auth failures, got %+v", st)
			}
		})
	}
}
