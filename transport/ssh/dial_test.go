package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/patchrun/patchrun/transport"
)

// startAgent serves an in-process ssh-agent holding key on a unix socket
// and returns the socket path.
func startAgent(t *testing.T, key *clientKey) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("unix-socket agent")
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key.priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				agent.ServeAgent(keyring, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return sock
}

func TestDialAuth(t *testing.T) {
	good := newClientKey(t)
	other := newClientKey(t)
	const password = "s3cret-Pa55"

	tests := []struct {
		name     string
		server   serverOpts
		setup    func(t *testing.T, cfg *Config)
		wantKind string // "" means success
		wantText []string
		accepts  int32 // TCP connections the server must have seen
	}{
		{
			name:   "key file",
			server: serverOpts{authorized: []gossh.PublicKey{good.pub()}},
			setup:  func(t *testing.T, cfg *Config) { cfg.KeyFiles = []string{good.file(t)} },
		},
		{
			name:   "second key file after a refused one",
			server: serverOpts{authorized: []gossh.PublicKey{good.pub()}},
			setup: func(t *testing.T, cfg *Config) {
				cfg.KeyFiles = []string{other.file(t), good.file(t)}
			},
		},
		{
			name:   "password",
			server: serverOpts{password: password},
			setup:  func(t *testing.T, cfg *Config) { cfg.Password = password },
		},
		{
			name:   "keyboard-interactive",
			server: serverOpts{password: password, keyboard: true},
			setup:  func(t *testing.T, cfg *Config) { cfg.Password = password },
		},
		{
			name:   "agent",
			server: serverOpts{authorized: []gossh.PublicKey{good.pub()}},
			setup:  func(t *testing.T, cfg *Config) { cfg.AgentSocket = startAgent(t, good) },
		},
		{
			name:   "key file refused, agent key accepted",
			server: serverOpts{authorized: []gossh.PublicKey{good.pub()}},
			setup: func(t *testing.T, cfg *Config) {
				cfg.KeyFiles = []string{other.file(t)}
				cfg.AgentSocket = startAgent(t, good)
			},
		},
		{
			name:     "wrong password is not retried",
			server:   serverOpts{password: password},
			setup:    func(t *testing.T, cfg *Config) { cfg.Password = "wrong-" + password },
			wantKind: "auth",
			wantText: []string{`user "patch"`, "password", "keyboard-interactive"},
			accepts:  1,
		},
		{
			name:     "unauthorized key",
			server:   serverOpts{authorized: []gossh.PublicKey{good.pub()}},
			setup:    func(t *testing.T, cfg *Config) { cfg.KeyFiles = []string{other.file(t)} },
			wantKind: "auth",
			wantText: []string{`user "patch"`, "publickey (1 key file(s))"},
			accepts:  1,
		},
		{
			name:     "passphrase-protected key points at ssh-agent",
			server:   serverOpts{authorized: []gossh.PublicKey{good.pub()}},
			setup:    func(t *testing.T, cfg *Config) { cfg.KeyFiles = []string{"testdata/encrypted_ed25519"} },
			wantKind: "auth",
			wantText: []string{"passphrase", "ssh-add"},
			accepts:  0,
		},
		{
			// The usual workstation: an encrypted ~/.ssh/id_ed25519 that
			// ssh-agent holds. The file is skipped, the agent offers the key.
			name:   "passphrase-protected key file is skipped when an agent runs",
			server: serverOpts{authorized: []gossh.PublicKey{good.pub()}},
			setup: func(t *testing.T, cfg *Config) {
				cfg.KeyFiles = []string{"testdata/encrypted_ed25519"}
				cfg.AgentSocket = startAgent(t, good)
			},
		},
		{
			name:   "skipped passphrase-protected key is named when the agent's keys are refused",
			server: serverOpts{authorized: []gossh.PublicKey{good.pub()}},
			setup: func(t *testing.T, cfg *Config) {
				cfg.KeyFiles = []string{"testdata/encrypted_ed25519"}
				cfg.AgentSocket = startAgent(t, other)
			},
			wantKind: "auth",
			wantText: []string{"testdata/encrypted_ed25519 skipped", "ssh-add"},
			accepts:  1,
		},
		{
			name:     "no credentials at all",
			server:   serverOpts{password: password},
			setup:    func(t *testing.T, cfg *Config) {},
			wantKind: "auth",
			wantText: []string{"no credentials"},
			accepts:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.server)
			cfg := srv.config(t, nil)
			tt.setup(t, &cfg)
			c, err := Dial(t.Context(), cfg)
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				res, err := c.Run(t.Context(), transport.Command{Line: "both"})
				if err != nil || string(res.Stdout) != "out\n" {
					t.Fatalf("Run after auth = %q, %v", res.Stdout, err)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded, want an error")
			}
			if got := transport.Kind(err); got != tt.wantKind {
				t.Errorf("kind = %q, want %q (err: %v)", got, tt.wantKind, err)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a secret: %v", err)
			}
			if got := srv.accepts.Load(); got != tt.accepts {
				t.Errorf("server saw %d connections, want %d (auth failures must not be retried)", got, tt.accepts)
			}
		})
	}
}

func TestDialRetriesDroppedHandshakes(t *testing.T) {
	key := newClientKey(t)
	tests := []struct {
		name     string
		resets   int32
		retries  int
		wantOK   bool
		attempts int32
	}{
		{name: "two resets then success", resets: 2, retries: 4, wantOK: true, attempts: 3},
		{name: "more resets than retries", resets: 10, retries: 2, wantOK: false, attempts: 3},
		{name: "retries disabled", resets: 1, retries: -1, wantOK: false, attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}, resetFirst: tt.resets})
			cfg := srv.config(t, key)
			cfg.HandshakeRetries = tt.retries
			c, err := Dial(t.Context(), cfg)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				c.Close()
			} else {
				if err == nil {
					c.Close()
					t.Fatal("Dial succeeded, want unreachable")
				}
				if !errors.Is(err, transport.ErrUnreachable) {
					t.Errorf("err = %v, want ErrUnreachable", err)
				}
			}
			if got := srv.accepts.Load(); got != tt.attempts {
				t.Errorf("server saw %d connections, want %d", got, tt.attempts)
			}
		})
	}
}

func TestDialUnreachable(t *testing.T) {
	// A port nobody listens on: grab one, then free it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	// A listener that accepts but never speaks SSH: the handshake timeout.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mute.Close() })

	kh := openKnownHosts(t, knownHostsFile(t), PolicyStrict)
	tests := []struct {
		name string
		port int
	}{
		{name: "refused", port: port},
		{name: "handshake timeout", port: mute.Addr().(*net.TCPAddr).Port},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(t.Context(), Config{
				Address: "127.0.0.1", Port: tt.port, User: "u", Password: "p", HostKeys: kh,
				HandshakeTimeout: 200 * time.Millisecond, RetryBackoff: time.Millisecond,
			})
			if !errors.Is(err, transport.ErrUnreachable) {
				t.Fatalf("err = %v, want ErrUnreachable", err)
			}
		})
	}
}

func TestDialCancelledIsNotUnreachable(t *testing.T) {
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mute.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	// Cancel in the middle of the handshake: once the server has the
	// connection and says nothing.
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := mute.Accept(); err == nil {
			accepted <- c
			cancel()
		}
	}()
	_, err = Dial(ctx, Config{
		Address: "127.0.0.1", Port: mute.Addr().(*net.TCPAddr).Port, User: "u", Password: "p",
		HostKeys: openKnownHosts(t, knownHostsFile(t), PolicyStrict),
	})
	select {
	case c := <-accepted:
		c.Close()
	default:
	}
	if !errors.Is(err, context.Canceled) || errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("err = %v, want context.Canceled and not unreachable", err)
	}
}

func TestProxyJump(t *testing.T) {
	key := newClientKey(t)
	target := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}})
	jump := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}, forwarding: true})
	kh := openKnownHosts(t, knownHostsFile(t, target.knownLine(), jump.knownLine()), PolicyStrict)

	jcfg := jump.config(t, key)
	jcfg.HostKeys = nil // inherited from the target's config
	cfg := target.config(t, key)
	cfg.HostKeys = kh
	cfg.Jump = &jcfg
	c := dial(t, cfg)

	res, err := c.Run(t.Context(), transport.Command{Line: "exit 7"})
	if err != nil || res.ExitCode != 7 {
		t.Fatalf("Run through jump = %d, %v", res.ExitCode, err)
	}
	if got := jump.accepts.Load(); got != 1 {
		t.Errorf("jump host saw %d connections, want 1", got)
	}
	if got := target.accepts.Load(); got != 1 {
		t.Errorf("target saw %d connections, want 1", got)
	}

	// The jump host's key is checked too: an unknown jump host is refused.
	cfg.HostKeys = openKnownHosts(t, knownHostsFile(t, target.knownLine()), PolicyStrict)
	if _, err := Dial(t.Context(), cfg); !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), "jump host") {
		t.Fatalf("unknown jump host: err = %v, want ErrHostKey naming the jump host", err)
	}
}

func TestConfigRedactsPassword(t *testing.T) {
	cfg := Config{Address: "web1", User: "root", Password: "topsecret", Jump: &Config{Address: "bastion", User: "j", Password: "topsecret"}}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(format, cfg)
		if strings.Contains(got, "topsecret") {
			t.Errorf("%s prints the password: %s", format, got)
		}
		if !strings.Contains(got, "root@web1:22") {
			t.Errorf("%s = %q, want it to name root@web1:22", format, got)
		}
	}
}
