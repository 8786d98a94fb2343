//go:build linux

package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/patchrun/patchrun/transport"
)

// realSSHD runs Debian's OpenSSH sshd on 127.0.0.1 for one test, with its
// own host key, authorized key and a MaxStartups of 1 so that parallel
// handshakes get dropped as on a busy real host. It needs root (sshd's
// privilege separation) and runs sshd in a private mount namespace with a
// tmpfs /run, so the machine's /run is not touched. It returns the port.
func realSSHD(t *testing.T, authorized gossh.PublicKey) int {
	t.Helper()
	sshd, err := exec.LookPath("/usr/sbin/sshd")
	if err != nil || os.Geteuid() != 0 {
		skipUnlessCI(t, "needs root and /usr/sbin/sshd (Debian openssh-server)")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		skipUnlessCI(t, "needs unshare (util-linux)")
	}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		skipUnlessCI(t, fmt.Sprintf("ssh-keygen: %v: %s", err, out))
	}
	authFile := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authFile, gossh.MarshalAuthorizedKey(authorized), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `ListenAddress 127.0.0.1:%d
HostKey %s
AuthorizedKeysFile %s
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 1
LogLevel ERROR
`, port, hostKey, authFile), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec "$0" -D -e -f "$1"`, sshd, conf)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		skipUnlessCI(t, fmt.Sprintf("start sshd: %v", err))
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", logs.String())
		}
	})

	// Wait until sshd listens.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return port
		}
		select {
		case <-exited:
			skipUnlessCI(t, fmt.Sprintf("sshd exited: %s", logs.String()))
		case <-deadline.C:
			t.Fatalf("sshd did not listen: %s", logs.String())
		case <-tick.C:
		}
	}
}

func TestRealOpenSSH(t *testing.T) {
	key := newClientKey(t)
	port := realSSHD(t, key.pub())
	khPath := filepath.Join(t.TempDir(), "known_hosts")
	cfg := Config{
		Address: "127.0.0.1", Port: port, User: "root", KeyFiles: []string{key.file(t)},
		HostKeys:          openKnownHosts(t, khPath, PolicyAcceptNew),
		KeepaliveInterval: 100 * time.Millisecond, RetryBackoff: 20 * time.Millisecond, HandshakeRetries: 8,
	}

	// First contact under accept-new records the real server's key.
	start := time.Now()
	c := dial(t, cfg)
	t.Logf("first dial (handshake + auth) to OpenSSH on loopback: %s", time.Since(start))
	if data, _ := os.ReadFile(khPath); !strings.HasPrefix(string(data), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", port)) {
		t.Fatalf("known_hosts after accept-new: %q", data)
	}

	tests := []struct {
		line                   string
		code                   int
		stdout, stderrContains string
	}{
		{line: "echo out; echo err >&2; exit 3", code: 3, stdout: "out\n", stderrContains: "err"},
		{line: "exit 100", code: 100},
		{line: "kill -TERM $$", code: 143, stderrContains: "signal TERM"},
		{line: "head -c 300000 /dev/zero", code: 0},
	}
	for _, tt := range tests {
		res, err := c.Run(t.Context(), transport.Command{Line: tt.line, MaxOutput: 1000})
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		if res.ExitCode != tt.code || (tt.stdout != "" && string(res.Stdout) != tt.stdout) ||
			!strings.Contains(string(res.Stderr), tt.stderrContains) {
			t.Errorf("%s = %d %q %q", tt.line, res.ExitCode, res.Stdout, res.Stderr)
		}
	}

	// Upload, verified on the server's file system (shared /tmp).
	dst := filepath.Join(t.TempDir(), "it's uploaded")
	payload := bytes.Repeat([]byte{0, 1, 2, 255}, 100_000)
	if err := c.Upload(t.Context(), dst, bytes.NewReader(payload), int64(len(payload))); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, payload) {
		t.Errorf("uploaded file has %d bytes, want %d", len(got), len(payload))
	}

	// Cancel mid-command: prompt, and the connection is still usable.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	_, err := c.Run(ctx, transport.Command{Line: "sleep 30"})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled sleep: %v", err)
	}
	if res, err := c.Run(t.Context(), transport.Command{Line: "true"}); err != nil || res.ExitCode != 0 {
		t.Errorf("Run after cancel: %d, %v", res.ExitCode, err)
	}

	// MaxStartups 1: parallel handshakes are dropped by sshd and retried.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	start = time.Now()
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(t.Context(), cfg)
			if err == nil {
				c.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	t.Logf("%d parallel dials against MaxStartups 1: %s", len(errs), time.Since(start))
	for _, err := range errs {
		if err != nil {
			t.Errorf("parallel dial: %v", err)
		}
	}

	// A changed host key on a real server is refused loudly.
	other := newSigner(t)
	strictPath := knownHostsFile(t, fmt.Sprintf("[127.0.0.1]:%d %s", port, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(other.PublicKey())))))
	cfg.HostKeys = openKnownHosts(t, strictPath, PolicyStrict)
	if _, err := Dial(t.Context(), cfg); !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), strictPath+":1") {
		t.Errorf("changed key: %v", err)
	}
}

// skipUnlessCI skips on a laptop without a real sshd, but fails under CI
// (CI=true), where .ci/run installs openssh-server: a silently skipped
// real-server test would let a regression against OpenSSH land.
func skipUnlessCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("real OpenSSH test cannot run under CI: " + why)
	}
	t.Skip(why)
}
