package fleet

import (
	"context"
	"crypto/ed25519"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Fleet is a set of running simulated hosts.
//
// Concurrency: all methods are safe for concurrent use. Every goroutine the
// fleet or its hosts start is counted in wg and joined by Close.
type Fleet struct {
	cfg    Config
	ctx    context.Context // ends at Close (or when Start's ctx ends)
	cancel context.CancelFunc
	wg     sync.WaitGroup

	hosts  []*SimHost
	byName map[string]*SimHost

	clientSigner ssh.Signer
	clientPEM    []byte

	closeOnce sync.Once
}

// HostInfo describes a running host for callers that dial it.
type HostInfo struct {
	Name    string
	Distro  Distro
	Address string // always "127.0.0.1"
	Port    int
	Addr    string // "127.0.0.1:port"
	BootID  string // "" while down
	// HostKey is the key recorded in known_hosts (the ChangedHostKey fault
	// serves a different one).
	HostKey ssh.PublicKey
}

// ClientKey is the one key every host accepts for Config.User.
type ClientKey struct {
	Signer ssh.Signer
	// PEM is the private key in OpenSSH format (unencrypted), as written to
	// id_ed25519 by WriteInventory.
	PEM []byte
	// AuthorizedKey is the public key in authorized_keys format.
	AuthorizedKey []byte
}

// Start starts one SSH server per host on 127.0.0.1 (random ports). The
// fleet runs until Close is called or ctx ends; call Close in either case to
// join its goroutines.
func Start(ctx context.Context, cfg Config) (*Fleet, error) {
	cfg = cfg.withDefaults()
	specs, err := cfg.specs()
	if err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	clientSigner, clientPEM, err := newKey(rng)
	if err != nil {
		return nil, fmt.Errorf("fleet: client key: %w", err)
	}
	f := &Fleet{cfg: cfg, byName: map[string]*SimHost{}, clientSigner: clientSigner, clientPEM: clientPEM}
	f.ctx, f.cancel = context.WithCancel(ctx)

	lns := make([]net.Listener, 0, len(specs))
	fail := func(err error) (*Fleet, error) {
		for _, ln := range lns {
			ln.Close()
		}
		f.cancel()
		return nil, err
	}
	for _, spec := range specs {
		hostKey, _, err := newKey(rng)
		if err != nil {
			return fail(fmt.Errorf("fleet: host key for %s: %w", spec.Name, err))
		}
		altKey, _, err := newKey(rng)
		if err != nil {
			return fail(fmt.Errorf("fleet: host key for %s: %w", spec.Name, err))
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fail(fmt.Errorf("fleet: listen for %s: %w", spec.Name, err))
		}
		lns = append(lns, ln)
		h := newHost(f, spec, hostKey, altKey, rng.Uint64())
		h.addr = ln.Addr().String()
		h.port = ln.Addr().(*net.TCPAddr).Port
		f.hosts = append(f.hosts, h)
		f.byName[h.name] = h
	}
	// One watcher turns "ctx ended" into listeners and connections closed.
	f.goTracked(func() {
		<-f.ctx.Done()
		for _, h := range f.hosts {
			h.closeForShutdown()
		}
	})
	for i, h := range f.hosts {
		if err := h.boot(lns[i], true); err != nil {
			for _, ln := range lns[i+1:] {
				ln.Close()
			}
			f.Close()
			return nil, fmt.Errorf("fleet: boot %s: %w", h.name, err)
		}
	}
	return f, nil
}

// newKey makes an ed25519 key from rng, returning the signer and its
// OpenSSH PEM encoding.
func newKey(rng *rand.Rand) (ssh.Signer, []byte, error) {
	var seed [ed25519.SeedSize]byte
	for i := 0; i < len(seed); i += 8 {
		binary.LittleEndian.PutUint64(seed[i:], rng.Uint64())
	}
	priv := ed25519.NewKeyFromSeed(seed[:])
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "patchrun-fleet")
	if err != nil {
		return nil, nil, err
	}
	return signer, pem.EncodeToMemory(block), nil
}

// goTracked runs fn in a goroutine that Close waits for.
func (f *Fleet) goTracked(fn func()) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn()
	}()
}

// Close stops every host (listeners, connections, commands, timers) and
// waits for all of the fleet's goroutines. Safe to call more than once.
func (f *Fleet) Close() error {
	f.closeOnce.Do(func() {
		f.cancel()
		f.wg.Wait()
	})
	return nil
}

// Hosts describes every host, in start order.
func (f *Fleet) Hosts() []HostInfo {
	out := make([]HostInfo, 0, len(f.hosts))
	for _, h := range f.hosts {
		out = append(out, HostInfo{
			Name: h.name, Distro: h.prof.distro, Address: "127.0.0.1", Port: h.port,
			Addr: h.addr, BootID: h.BootID(), HostKey: h.hostKey.PublicKey(),
		})
	}
	return out
}

// Host returns the named host, or nil.
func (f *Fleet) Host(name string) *SimHost { return f.byName[name] }

// SimHosts returns every host, in start order.
func (f *Fleet) SimHosts() []*SimHost { return append([]*SimHost(nil), f.hosts...) }

// ClientKey returns the key every host accepts.
func (f *Fleet) ClientKey() ClientKey {
	return ClientKey{
		Signer:        f.clientSigner,
		PEM:           append([]byte(nil), f.clientPEM...),
		AuthorizedKey: ssh.MarshalAuthorizedKey(f.clientSigner.PublicKey()),
	}
}

// User is the login name the hosts accept.
func (f *Fleet) User() string { return f.cfg.User }

// ClientConfig returns an x/crypto/ssh client config that authenticates
// with the fleet's key and verifies host keys strictly against the recorded
// ones (so the ChangedHostKey fault is detected).
func (f *Fleet) ClientConfig() *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            f.cfg.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(f.clientSigner)},
		HostKeyCallback: f.hostKeyCallback,
	}
}

func (f *Fleet) hostKeyCallback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	for _, h := range f.hosts {
		if h.addr == hostname || (remote != nil && h.addr == remote.String()) {
			if string(h.hostKey.PublicKey().Marshal()) == string(key.Marshal()) {
				return nil
			}
			return fmt.Errorf("fleet: host key mismatch for %s", hostname)
		}
	}
	return fmt.Errorf("fleet: unknown host %s", hostname)
}

// Port returns the port of the named host (0 if unknown).
func (f *Fleet) Port(name string) int {
	if h := f.byName[name]; h != nil {
		return h.port
	}
	return 0
}
