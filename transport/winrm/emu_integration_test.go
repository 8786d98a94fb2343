package winrm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
	"github.com/patchrun/patchrun/transport"
)

// These tests run the transport against internal/winrmemu, the wire-level
// WinRM emulator: real Basic and NTLM authentication, NTLM sealing, TLS,
// blocking Receives with OperationTimeout faults, and injected failures.

const (
	emuUser = `WIN-EMU\Administrator`
	emuPass = "Emu-Passw0rd!"
)

func startEmu(t testing.TB, cfg winrmemu.Config) *winrmemu.Server {
	t.Helper()
	cfg.Users = map[string]string{"Administrator": emuPass}
	s, err := winrmemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	return s
}

// emuConfig is a Config for s with short timeouts; mode is the auth setup.
func emuConfig(t testing.TB, s *winrmemu.Server, auth string, https bool) Config {
	t.Helper()
	host, portStr, err := net.SplitHostPort(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portStr)
	cfg := Config{
		Address: host, Port: port, HTTPS: https, Auth: auth,
		User: emuUser, Password: emuPass,
		OperationTimeout: time.Second, ResponseTimeout: 3 * time.Second,
		ConnectTimeout: time.Second, CallTimeout: 2 * time.Second,
	}
	if https {
		cfg.CACertPEM = s.CACertPEM()
	}
	if auth == AuthBasic && !https {
		cfg.AllowBasicHTTP = true
	}
	return cfg
}

func dialEmu(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := Dial(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEmuAuthModes(t *testing.T) {
	modes := []struct {
		name   string
		emu    winrmemu.Config
		auth   string
		https  bool
		sealed bool
	}{
		{"basic over http (allowed)", winrmemu.Config{AllowUnencrypted: true}, AuthBasic, false, false},
		{"ntlm sealed over http", winrmemu.Config{}, AuthNTLM, false, true},
		{"ntlm over https with the emulator's CA", winrmemu.Config{TLS: true}, AuthNTLM, true, false},
		{"basic over https", winrmemu.Config{TLS: true}, AuthBasic, true, false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := startEmu(t, m.emu)
			c := dialEmu(t, emuConfig(t, s, m.auth, m.https))
			res, err := c.Run(testCtx(t), transport.Command{Line: "echo hello & echo oops 1>&2 & exit 3010"})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != 3010 || string(res.Stdout) != "hello\r\n" || !strings.Contains(string(res.Stderr), "oops") {
				t.Errorf("got exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
			}
			st := s.Stats()
			if m.sealed && st.SealedRequests == 0 {
				t.Errorf("no request was sealed")
			}
			if !m.sealed && st.SealedRequests != 0 {
				t.Errorf("%d sealed requests in an unsealed mode", st.SealedRequests)
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if open := s.Stats().ShellsOpen; open != 0 {
				t.Errorf("%d shells left open after Close", open)
			}
		})
	}
}

func TestEmuWrongPasswordIsErrAuth(t *testing.T) {
	for _, m := range []struct {
		name  string
		emu   winrmemu.Config
		auth  string
		https bool
	}{
		{"basic", winrmemu.Config{AllowUnencrypted: true}, AuthBasic, false},
		{"ntlm sealed", winrmemu.Config{}, AuthNTLM, false},
		{"ntlm https", winrmemu.Config{TLS: true}, AuthNTLM, true},
	} {
		t.Run(m.name, func(t *testing.T) {
			s := startEmu(t, m.emu)
			cfg := emuConfig(t, s, m.auth, m.https)
			cfg.Password = "Not-The-Password-9"
			_, err := Dial(testCtx(t), cfg)
			if !errors.Is(err, transport.ErrAuth) || !errors.Is(err, ErrAccessDenied) {
				t.Fatalf("err = %v, want ErrAuth and ErrAccessDenied", err)
			}
			if strings.Contains(err.Error(), cfg.Password) {
				t.Errorf("error leaks the password")
			}
		})
	}
}

func TestEmuAccessDeniedIsErrAuthWithHint(t *testing.T) {
	s := startEmu(t, winrmemu.Config{TLS: true, Faults: winrmemu.Faults{DenyAccess: true}})
	_, err := Dial(testCtx(t), emuConfig(t, s, AuthNTLM, true))
	if !errors.Is(err, transport.ErrAuth) || !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "LocalAccountTokenFilterPolicy") {
		t.Fatalf("err = %v, want ErrAuth and ErrAccessDenied with the token filter hint", err)
	}
}

func TestEmuUnsealedNTLMRefusedByDefaultHost(t *testing.T) {
	// A default Windows HTTP listener (AllowUnencrypted=false) rejects
	// unsealed NTLM bodies: Encryption "never" must fail as auth, not hang.
	s := startEmu(t, winrmemu.Config{})
	cfg := emuConfig(t, s, AuthNTLM, false)
	cfg.Encryption = EncryptionNever
	if _, err := Dial(testCtx(t), cfg); !errors.Is(err, transport.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
}

func TestEmuTLSVerification(t *testing.T) {
	s := startEmu(t, winrmemu.Config{TLS: true})
	tests := []struct {
		name   string
		mutate func(*Config)
		kind   string
	}{
		{"untrusted certificate", func(c *Config) { c.CACertPEM = nil }, "host-key"},
		{"server name not on the certificate", func(c *Config) { c.ServerName = "win1.example.com" }, "host-key"},
		{"server name on the certificate", func(c *Config) { c.ServerName = "localhost" }, ""},
		{"insecure skip verify, explicitly", func(c *Config) { c.CACertPEM = nil; c.Insecure = true }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := emuConfig(t, s, AuthNTLM, true)
			tt.mutate(&cfg)
			c, err := Dial(testCtx(t), cfg)
			if got := transport.Kind(err); got != tt.kind {
				t.Fatalf("kind %q, want %q (err: %v)", got, tt.kind, err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "TLS certificate not trusted") || !strings.Contains(err.Error(), "winrm_ca_cert") {
					t.Errorf("error text lacks the explanation and hint: %v", err)
				}
				if !transport.Permanent(err) {
					t.Errorf("a TLS failure must be permanent")
				}
				return
			}
			c.Close()
		})
	}
}

func TestEmuLongCommandSpansOperationTimeouts(t *testing.T) {
	for _, auth := range []string{AuthBasic, AuthNTLM} {
		t.Run(auth, func(t *testing.T) {
			emu := winrmemu.Config{AllowUnencrypted: auth == AuthBasic}
			s := startEmu(t, emu)
			cfg := emuConfig(t, s, auth, false)
			cfg.OperationTimeout = 200 * time.Millisecond
			c := dialEmu(t, cfg)
			res, err := c.Run(testCtx(t), transport.Command{Line: "echo start & sleep 500ms & echo done"})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if string(res.Stdout) != "start\r\ndone\r\n" || res.ExitCode != 0 {
				t.Errorf("got %q exit %d", res.Stdout, res.ExitCode)
			}
			if s.Stats().TimedOutFaults == 0 {
				t.Errorf("the command did not span an OperationTimeout")
			}
		})
	}
}

func TestEmuDroppedConnectionIsConnLost(t *testing.T) {
	s := startEmu(t, winrmemu.Config{AllowUnencrypted: true})
	c := dialEmu(t, emuConfig(t, s, AuthBasic, false))
	s.SetFaults(winrmemu.Faults{DropReceives: 1})
	_, err := c.Run(testCtx(t), transport.Command{Line: "sleep 200ms & echo never seen"})
	if !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("err = %v, want ErrConnLost", err)
	}
	// The connection drop was transient: the next command works.
	res, err := c.Run(testCtx(t), transport.Command{Line: "echo back"})
	if err != nil || string(res.Stdout) != "back\r\n" {
		t.Errorf("Run after the drop: %q, %v", res.Stdout, err)
	}
}

func TestEmuRebootLosesShellAndRunRecreatesIt(t *testing.T) {
	s := startEmu(t, winrmemu.Config{AllowUnencrypted: true})
	c := dialEmu(t, emuConfig(t, s, AuthBasic, false))
	s.GoDown()
	if _, err := c.Run(testCtx(t), transport.Command{Line: "echo x"}); !errors.Is(err, transport.ErrUnreachable) && !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("Run while down: %v, want unreachable or connection lost", err)
	}
	if err := s.ComeUp(); err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(testCtx(t), transport.Command{Line: "echo up again"})
	if err != nil || string(res.Stdout) != "up again\r\n" {
		t.Fatalf("Run after reboot: %q, %v", res.Stdout, err)
	}
	if got := s.Stats().ShellsCreated; got != 2 {
		t.Errorf("shells created = %d, want 2 (one before, one after the reboot)", got)
	}
}

func TestEmuCancelStopsRemoteCommand(t *testing.T) {
	s := startEmu(t, winrmemu.Config{})
	cfg := emuConfig(t, s, AuthNTLM, false) // sealed
	cfg.OperationTimeout = 300 * time.Millisecond
	c := dialEmu(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err := c.Run(ctx, transport.Command{Line: "timeout /t 60"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	res, err := c.Run(testCtx(t), transport.Command{Line: "echo still usable"})
	if err != nil || string(res.Stdout) != "still usable\r\n" {
		t.Errorf("Run after cancellation: %q, %v", res.Stdout, err)
	}
}

func TestEmuStdinOverHTTPS(t *testing.T) {
	s := startEmu(t, winrmemu.Config{TLS: true})
	cfg := emuConfig(t, s, AuthNTLM, true)
	cfg.OperationTimeout = 100 * time.Millisecond // stdin waits for the Receive in flight to time out
	c := dialEmu(t, cfg)
	res, err := c.Run(testCtx(t), transport.Command{Line: "type", Stdin: strings.NewReader("from stdin\r\n")})
	if err != nil || string(res.Stdout) != "from stdin\r\n" {
		t.Fatalf("got %q, %v", res.Stdout, err)
	}
}

// fsHandler runs fakeFS's cmd.exe/PowerShell steps inside the emulator.
func fsHandler(t *testing.T, fs *fakeFS) winrmemu.Handler {
	exec := fs.exec(t)
	return winrmemu.FuncHandler(func(_ context.Context, req winrmemu.CommandRequest, stdout, stderr io.Writer, _ io.Reader) int {
		o := exec(req.Command, nil)
		io.WriteString(stdout, o.stdout)
		io.WriteString(stderr, o.stderr)
		return o.exit
	})
}

func TestEmuChunkedUploadSealed(t *testing.T) {
	fs := &fakeFS{files: map[string][]byte{}}
	s := startEmu(t, winrmemu.Config{Handler: fsHandler(t, fs)})
	c := dialEmu(t, emuConfig(t, s, AuthNTLM, false)) // sealed: every step is a sealed message
	data := bytes.Repeat([]byte("patchrun\x00\xff"), 3000)
	if err := c.Upload(testCtx(t), `C:\Windows\Temp\kb.msu`, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got := fs.snapshot()[`C:\Windows\Temp\kb.msu`]; !bytes.Equal(got, data) {
		t.Errorf("uploaded %d bytes differ from the source's %d", len(got), len(data))
	}
	script := strings.Repeat("Write-Output 'a long script line that pads things out'\n", 250)
	res, err := c.RunPowerShell(testCtx(t), script)
	if err != nil || !strings.HasPrefix(string(res.Stdout), "ran ") {
		t.Fatalf("RunPowerShell: %q, %v", res.Stdout, err)
	}
	if !bytes.Equal(fs.lastRan(), append([]byte("\ufeff"), psPrelude+script...)) {
		t.Errorf("the script that ran is not the one sent")
	}
}
