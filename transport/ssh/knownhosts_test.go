package ssh

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/patchrun/patchrun/transport"
)

func TestHostKeyPolicies(t *testing.T) {
	key := newClientKey(t)
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}})
	impostorKey := newSigner(t)
	port := fmt.Sprint(srv.port)
	// The entry for the server's address, with a different key, on line 3.
	changed := knownhosts.Line([]string{srv.addr}, impostorKey.PublicKey())

	tests := []struct {
		name     string
		lines    []string // known_hosts content; nil means no file
		policy   string
		wantErr  bool
		wantText []string
	}{
		{name: "strict known host", lines: []string{srv.knownLine()}, policy: PolicyStrict},
		{name: "default policy is strict", lines: []string{"# empty"}, wantErr: true},
		{
			name: "strict unknown host", lines: []string{"# nothing yet"}, policy: PolicyStrict, wantErr: true,
			wantText: []string{"unknown host [127.0.0.1]:" + port, "ssh-keyscan -p " + port + " '127.0.0.1' >>", "accept-new",
				gossh.FingerprintSHA256(srv.hostKey.PublicKey())},
		},
		{
			name: "strict missing file", policy: PolicyStrict, wantErr: true,
			wantText: []string{"unknown host", "ssh-keyscan"},
		},
		{
			// An entry for port 22 is a different host: OpenSSH's [host]:port form.
			name:  "port 22 entry does not match another port",
			lines: []string{knownhosts.Line([]string{"127.0.0.1:22"}, srv.hostKey.PublicKey())}, policy: PolicyStrict,
			wantErr: true, wantText: []string{"unknown host [127.0.0.1]:" + port},
		},
		{
			name:   "strict changed key",
			lines:  []string{"# managed by hand", "other.example ssh-ed25519 " + authorizedBlob(t, newSigner(t).PublicKey()), changed},
			policy: PolicyStrict, wantErr: true,
			wantText: []string{"CHANGED", "known_hosts:3", gossh.FingerprintSHA256(srv.hostKey.PublicKey()),
				gossh.FingerprintSHA256(impostorKey.PublicKey()), "man-in-the-middle", "ssh-keygen"},
		},
		{
			name:  "accept-new refuses a changed key too",
			lines: []string{changed}, policy: PolicyAcceptNew, wantErr: true,
			wantText: []string{"CHANGED", "known_hosts:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "known_hosts")
			if tt.lines != nil {
				path = knownHostsFile(t, tt.lines...)
			}
			before, _ := os.ReadFile(path)
			cfg := srv.config(t, key)
			cfg.HostKeys = openKnownHosts(t, path, tt.policy)
			c, err := Dial(t.Context(), cfg)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded, want a host key error")
			}
			if !errors.Is(err, transport.ErrHostKey) || !transport.Permanent(err) {
				t.Errorf("err = %v, want permanent ErrHostKey", err)
			}
			for _, s := range append(tt.wantText, path) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not mention %q:\n%v", s, err)
				}
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Errorf("a refused key changed the file:\n%s", after)
			}
			if n := srv.accepts.Load(); n == 0 {
				t.Error("server never contacted")
			}
		})
	}
}

func authorizedBlob(t *testing.T, k gossh.PublicKey) string {
	t.Helper()
	f := strings.Fields(string(gossh.MarshalAuthorizedKey(k)))
	return f[1]
}

func TestAcceptNewRecordsThenEnforces(t *testing.T) {
	key := newClientKey(t)
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}})
	impostor := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}})

	// A file in a directory that does not exist yet, like a fresh ~/.ssh.
	path := filepath.Join(t.TempDir(), "dotssh", "known_hosts")
	kh := openKnownHosts(t, path, PolicyAcceptNew)
	cfg := srv.config(t, key)
	cfg.HostKeys = kh

	// Many workers meeting the same new host at once record it once.
	var wg sync.WaitGroup
	errs := make([]error, 8)
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
	for _, err := range errs {
		if err != nil {
			t.Fatalf("accept-new first dial: %v", err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := srv.knownLine() + "\n"
	if string(data) != want {
		t.Fatalf("known_hosts = %q, want exactly %q", data, want)
	}
	if !strings.HasPrefix(string(data), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", srv.port)) {
		t.Errorf("entry not in [host]:port form: %q", data)
	}
	for p, mode := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, %v; want %v", p, st.Mode().Perm(), err, mode)
		}
	}

	// Another process's view: a fresh KnownHosts on the file under strict.
	strictCfg := cfg
	strictCfg.HostKeys = openKnownHosts(t, path, PolicyStrict)
	c := dial(t, strictCfg)
	c.Close()

	// Now the same name answers with another key: refused, file untouched.
	cfg.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, impostor.addr)
	}
	_, err = Dial(t.Context(), cfg)
	if !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), path+":1") {
		t.Fatalf("changed key under accept-new: err = %v, want ErrHostKey naming %s:1", err, path)
	}
	if after, _ := os.ReadFile(path); string(after) != want {
		t.Errorf("changed key was recorded: %q", after)
	}
}

func TestAcceptNewKeepsLastLineIntact(t *testing.T) {
	key := newClientKey(t)
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}})
	path := filepath.Join(t.TempDir(), "known_hosts")
	other := "other.example " + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(newSigner(t).PublicKey())))
	if err := os.WriteFile(path, []byte(other), 0o600); err != nil { // no trailing newline
		t.Fatal(err)
	}
	cfg := srv.config(t, key)
	cfg.HostKeys = openKnownHosts(t, path, PolicyAcceptNew)
	dial(t, cfg).Close()
	data, _ := os.ReadFile(path)
	if want := other + "\n" + srv.knownLine() + "\n"; string(data) != want {
		t.Errorf("known_hosts = %q, want %q", data, want)
	}
}

// hostSigner returns a function that wraps a freshly generated crypto key
// (key, err) as an SSH host key.
func hostSigner(t *testing.T) func(key any, err error) gossh.Signer {
	return func(key any, err error) gossh.Signer {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		s, err := gossh.NewSignerFromKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// A host with several host keys must present the type we know, or the
// first dial after adding a key type would look like a changed key.
func TestHostKeyAlgorithmsFollowKnownHosts(t *testing.T) {
	key := newClientKey(t)
	ecSigner := hostSigner(t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	// srv.config trusts only the ECDSA key (the server's primary one); we
	// prefer ed25519, which the server also has, so without following
	// known_hosts this dial would see the ed25519 key and report a change.
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}, hostKey: ecSigner, extraKeys: []gossh.Signer{newSigner(t)}})
	cfg := srv.config(t, key)
	dial(t, cfg).Close()
}

func TestAlgorithmsFor(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := gossh.NewPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaLine := knownhosts.Line([]string{"h.example"}, rsaPub)
	ed := newSigner(t).PublicKey()
	edLine := knownhosts.Line([]string{"h.example"}, ed)
	tests := []struct {
		name  string
		lines []string
		host  string
		want  []string
	}{
		{name: "unknown host: every algorithm, ed25519 first", lines: []string{edLine}, host: "other.example:22", want: defaultHostKeyAlgorithms()},
		{name: "ed25519", lines: []string{edLine}, host: "h.example:22", want: []string{"ssh-ed25519"}},
		{name: "rsa signs with sha2 too", lines: []string{rsaLine}, host: "h.example:22",
			want: []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{name: "both, no duplicates", lines: []string{edLine, rsaLine, edLine}, host: "h.example:22",
			want: []string{"ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{name: "ed25519 first whatever the file order", lines: []string{rsaLine, edLine}, host: "h.example:22",
			want: []string{"ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{name: "other port is another host", lines: []string{edLine}, host: "h.example:2222", want: defaultHostKeyAlgorithms()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kh := openKnownHosts(t, knownHostsFile(t, tt.lines...), PolicyStrict)
			if got := kh.algorithmsFor(tt.host); !slices.Equal(got, tt.want) {
				t.Errorf("algorithmsFor(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

// For a host we do not know yet, every algorithm the library accepts is
// offered (no host that worked before is cut off), ed25519 first.
func TestDefaultHostKeyAlgorithms(t *testing.T) {
	all := slices.Concat(gossh.SupportedAlgorithms().HostKeys, gossh.InsecureAlgorithms().HostKeys)
	got := defaultHostKeyAlgorithms()
	if len(got) != len(all) || !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(all))) {
		t.Errorf("offered %v, want exactly %v", got, all)
	}
	if got[0] != gossh.CertAlgoED25519v01 || slices.Index(got, gossh.KeyAlgoED25519) > slices.Index(got, gossh.KeyAlgoECDSA256) {
		t.Errorf("offered %v, want ed25519 first among certificates and among plain keys", got)
	}
}

// A new host with several host keys is recorded by its ed25519 key, as
// OpenSSH's own ssh would, not by whichever the library lists first.
func TestAcceptNewRecordsEd25519(t *testing.T) {
	key := newClientKey(t)
	signer := hostSigner(t)
	ecSigner := signer(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	rsaSigner := signer(rsa.GenerateKey(rand.Reader, 2048))
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}, extraKeys: []gossh.Signer{ecSigner, rsaSigner}})
	path := filepath.Join(t.TempDir(), "known_hosts")
	cfg := srv.config(t, key)
	cfg.HostKeys = openKnownHosts(t, path, PolicyAcceptNew)
	dial(t, cfg).Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := srv.knownLine() + "\n"; string(data) != want {
		t.Errorf("known_hosts = %q, want the ed25519 key %q", data, want)
	}
}

func TestOpenKnownHostsErrors(t *testing.T) {
	good := knownHostsFile(t, "# fine")
	tests := []struct {
		name, path, policy string
	}{
		{name: "no path", path: "", policy: PolicyStrict},
		{name: "unknown policy", path: good, policy: "yolo"},
		{name: "garbage line", path: knownHostsFile(t, "h.example ssh-ed25519 !!notbase64"), policy: PolicyStrict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OpenKnownHosts(tt.path, tt.policy); err == nil {
				t.Error("OpenKnownHosts succeeded, want an error")
			}
		})
	}
}
