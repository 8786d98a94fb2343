package ssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// fakeServer is an in-process SSH server on 127.0.0.1 built on x/crypto's
// server side. Its "shell" understands the few commands the tests need (see
// exec). It can reset handshakes, drop or stall connections mid-command, and
// forward direct-tcpip channels (a jump host). Every goroutine it starts is
// joined in t.Cleanup.
type fakeServer struct {
	t       testing.TB
	ln      net.Listener
	hostKey gossh.Signer
	addr    string // "127.0.0.1:port"
	port    int

	resetFirst int32        // reset this many TCP connections before the handshake
	accepts    atomic.Int32 // TCP connections accepted
	authTries  atomic.Int32 // password/publickey/keyboard-interactive attempts
	forwarding bool         // accept direct-tcpip (a jump host)

	quit chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns []io.Closer       // closed at cleanup; guarded by mu
	files map[string][]byte // uploads by path; guarded by mu

	signalled chan string // every "signal" request received, in order
	started   chan string // every exec command line, as it starts
}

type serverOpts struct {
	password   string            // "" disables password auth
	keyboard   bool              // offer keyboard-interactive with the password
	authorized []gossh.PublicKey // keys accepted by publickey auth
	resetFirst int32             // see fakeServer.resetFirst
	forwarding bool              // act as a jump host
	hostKey    gossh.Signer      // nil means a fresh ed25519 key
	extraKeys  []gossh.Signer    // more host keys (several key types)
	// inMemory serves connections over net.Pipe instead of TCP (config
	// dials them), so a test can run in a testing/synctest bubble.
	inMemory bool
}

// newSigner is a fresh ed25519 key (a host key, or an impostor's).
func newSigner(t testing.TB) gossh.Signer { return newClientKey(t).signer }

func startServer(t testing.TB, o serverOpts) *fakeServer {
	t.Helper()
	var ln net.Listener = newPipeListener()
	if !o.inMemory {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	s := &fakeServer{
		t: t, ln: ln, hostKey: o.hostKey, addr: ln.Addr().String(),
		port: ln.Addr().(*net.TCPAddr).Port, resetFirst: o.resetFirst, forwarding: o.forwarding,
		quit: make(chan struct{}), files: map[string][]byte{}, signalled: make(chan string, 16), started: make(chan string, 64),
	}
	if s.hostKey == nil {
		s.hostKey = newSigner(t)
	}
	cfg := &gossh.ServerConfig{}
	if o.password != "" {
		cfg.PasswordCallback = func(_ gossh.ConnMetadata, pw []byte) (*gossh.Permissions, error) {
			s.authTries.Add(1)
			if string(pw) == o.password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
		if o.keyboard {
			cfg.PasswordCallback = nil
			cfg.KeyboardInteractiveCallback = func(_ gossh.ConnMetadata, ask gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
				s.authTries.Add(1)
				ans, err := ask("", "", []string{"Password: "}, []bool{false})
				if err == nil && len(ans) == 1 && ans[0] == o.password {
					return nil, nil
				}
				return nil, errors.New("wrong password")
			}
		}
	}
	if len(o.authorized) > 0 {
		cfg.PublicKeyCallback = func(_ gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
			s.authTries.Add(1)
			for _, k := range o.authorized {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		}
	}
	cfg.AddHostKey(s.hostKey)
	for _, k := range o.extraKeys {
		cfg.AddHostKey(k)
	}

	s.wg.Add(1)
	go s.serve(cfg)
	t.Cleanup(s.shutdown)
	return s
}

func (s *fakeServer) shutdown() {
	close(s.quit)
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// track registers c to be closed at shutdown; false means shutdown began.
func (s *fakeServer) track(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.quit:
		c.Close()
		return false
	default:
	}
	s.conns = append(s.conns, c)
	return true
}

func (s *fakeServer) goTracked(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

func (s *fakeServer) serve(cfg *gossh.ServerConfig) {
	defer s.wg.Done()
	for {
		raw, err := s.ln.Accept()
		if err != nil {
			return
		}
		if s.accepts.Add(1) <= s.resetFirst {
			// What sshd's MaxStartups does to an excess connection.
			raw.(*net.TCPConn).SetLinger(0)
			raw.Close()
			continue
		}
		c := newStallConn(raw)
		if !s.track(c) {
			return
		}
		s.goTracked(func() { s.handleConn(c, cfg) })
	}
}

func (s *fakeServer) handleConn(c *stallConn, cfg *gossh.ServerConfig) {
	sconn, chans, reqs, err := gossh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	defer sconn.Close()
	s.goTracked(func() { gossh.DiscardRequests(reqs) }) // answers keepalives with "failure"
	for nc := range chans {
		switch {
		case nc.ChannelType() == "session":
			s.goTracked(func() { s.session(nc, c) })
		case nc.ChannelType() == "direct-tcpip" && s.forwarding:
			s.goTracked(func() { s.forward(nc) })
		default:
			nc.Reject(gossh.UnknownChannelType, "not here")
		}
	}
}

// session serves one session channel: one exec request, signals.
func (s *fakeServer) session(nc gossh.NewChannel, c *stallConn) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	signals := make(chan string, 4)
	gone := make(chan struct{}) // the client closed the channel
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if err := gossh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			select {
			case s.started <- p.Command:
			default: // nobody is watching
			}
			s.goTracked(func() { s.exec(p.Command, ch, c, signals, gone) })
		case "signal":
			var p struct{ Signal string }
			if gossh.Unmarshal(req.Payload, &p) == nil {
				select {
				case s.signalled <- p.Signal:
				default:
				}
				select {
				case signals <- p.Signal:
				default:
				}
			}
		default:
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}
	close(gone)
}

// exec is the fake shell. Commands:
//
//	exit N            exit with status N
//	both              "out" on stdout, "err" on stderr, exit 0
//	flood N           N bytes of 'x' on stdout
//	signal NAME       killed by signal NAME
//	sleep             run until killed or the channel closes
//	drop              print "partial", then close the TCP connection
//	stall             stop reading and writing the TCP connection
//	cat > 'PATH'      store stdin as PATH; paths under /ro/ are refused
func (s *fakeServer) exec(line string, ch gossh.Channel, c *stallConn, signals <-chan string, gone <-chan struct{}) {
	defer ch.Close() // the client's Wait ends when the channel closes
	word, arg, _ := strings.Cut(line, " ")
	status := 0
	switch word {
	case "exit":
		status, _ = strconv.Atoi(arg)
	case "both":
		io.WriteString(ch, "out\n")
		io.WriteString(ch.Stderr(), "err\n")
	case "flood":
		n, _ := strconv.Atoi(arg)
		chunk := bytes.Repeat([]byte("x"), 32*1024)
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := ch.Write(chunk[:k]); err != nil {
				return
			}
			n -= k
		}
	case "signal":
		sendExitSignal(ch, arg)
		return
	case "sleep":
		select {
		case sig := <-signals:
			sendExitSignal(ch, sig)
		case <-gone:
		case <-s.quit:
		}
		return
	case "drop":
		io.WriteString(ch, "partial\n")
		c.Conn.Close()
		return
	case "stall":
		io.WriteString(ch, "partial\n")
		c.stall()
		<-s.quit
		return
	case "cat":
		path, err := unquoteSingle(strings.TrimPrefix(arg, "> "))
		if err != nil {
			io.WriteString(ch.Stderr(), err.Error())
			status = 2
			break
		}
		if strings.HasPrefix(path, "/ro/") {
			fmt.Fprintf(ch.Stderr(), "sh: %s: Read-only file system\n", path)
			status = 1
			break
		}
		data, err := io.ReadAll(ch)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.files[path] = data
		s.mu.Unlock()
	default:
		fmt.Fprintf(ch.Stderr(), "sh: %s: not found\n", word)
		status = 127
	}
	ch.CloseWrite()
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(status))
	ch.SendRequest("exit-status", false, b[:])
}

func sendExitSignal(ch gossh.Channel, sig string) {
	ch.CloseWrite()
	ch.SendRequest("exit-signal", false, gossh.Marshal(struct {
		Signal     string
		CoreDumped bool
		Error      string
		Lang       string
	}{Signal: sig}))
}

// unquoteSingle reverses shellQuote for a single quoted word.
func unquoteSingle(s string) (string, error) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", fmt.Errorf("not single-quoted: %s", s)
	}
	return strings.ReplaceAll(s[1:len(s)-1], `'\''`, "'"), nil
}

// forward serves a direct-tcpip channel: a ProxyJump hop.
func (s *fakeServer) forward(nc gossh.NewChannel) {
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := gossh.Unmarshal(nc.ExtraData(), &p); err != nil {
		nc.Reject(gossh.ConnectionFailed, "bad payload")
		return
	}
	target, err := net.Dial("tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
	if err != nil {
		nc.Reject(gossh.ConnectionFailed, err.Error())
		return
	}
	if !s.track(target) {
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		target.Close()
		return
	}
	s.goTracked(func() { gossh.DiscardRequests(reqs) })
	s.goTracked(func() {
		io.Copy(target, ch)
		target.(*net.TCPConn).CloseWrite()
	})
	io.Copy(ch, target)
	ch.Close()
}

func (s *fakeServer) file(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[path]
	return b, ok
}

// stallConn is a net.Conn that can be made to stop reading and writing
// without closing, like a host that lost power behind a live route.
type stallConn struct {
	net.Conn
	stalled   chan struct{}
	closed    chan struct{}
	stallOnce sync.Once
	closeOnce sync.Once
}

func newStallConn(c net.Conn) *stallConn {
	return &stallConn{Conn: c, stalled: make(chan struct{}), closed: make(chan struct{})}
}

func (c *stallConn) stall() { c.stallOnce.Do(func() { close(c.stalled) }) }

func (c *stallConn) wait() error {
	select {
	case <-c.stalled:
		<-c.closed
		return net.ErrClosed
	default:
		return nil
	}
}

func (c *stallConn) Read(p []byte) (int, error) {
	if err := c.wait(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *stallConn) Write(p []byte) (int, error) {
	if err := c.wait(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *stallConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// knownHostsFile writes lines to a known_hosts file in a temp dir.
func knownHostsFile(t testing.TB, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lineFor is the known_hosts line for s's host key.
func (s *fakeServer) knownLine() string {
	return knownhosts.Line([]string{s.addr}, s.hostKey.PublicKey())
}

func openKnownHosts(t testing.TB, path, policy string) *KnownHosts {
	t.Helper()
	kh, err := OpenKnownHosts(path, policy)
	if err != nil {
		t.Fatal(err)
	}
	return kh
}

// config is a Config for s with short timeouts, trusting s's host key and,
// when key is non-nil, authenticating with it from a key file.
func (s *fakeServer) config(t testing.TB, key *clientKey) Config {
	t.Helper()
	cfg := Config{
		Address:          "127.0.0.1",
		Port:             s.port,
		User:             "patch",
		HostKeys:         openKnownHosts(t, knownHostsFile(t, s.knownLine()), PolicyStrict),
		ConnectTimeout:   2 * time.Second,
		HandshakeTimeout: 2 * time.Second,
		RetryBackoff:     time.Millisecond,
	}
	if key != nil {
		cfg.KeyFiles = []string{key.file(t)}
	}
	if pl, ok := s.ln.(*pipeListener); ok {
		cfg.DialContext = pl.dial
	}
	return cfg
}

// bufferedPipe is net.Pipe with buffered writes, as a TCP connection has:
// both SSH peers send their version line before reading the other's, which
// deadlocks on net.Pipe's unbuffered writes.
func bufferedPipe() (net.Conn, net.Conn) {
	ab, ba := newPipeBuffer(), newPipeBuffer()
	return &pipeEnd{r: ba, w: ab}, &pipeEnd{r: ab, w: ba}
}

// pipeBuffer is one direction of a bufferedPipe.
type pipeBuffer struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    bytes.Buffer
	closed bool
}

func newPipeBuffer() *pipeBuffer {
	b := &pipeBuffer{}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *pipeBuffer) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

type pipeEnd struct{ r, w *pipeBuffer }

func (p *pipeEnd) Read(out []byte) (int, error) {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	for p.r.buf.Len() == 0 && !p.r.closed {
		p.r.cond.Wait()
	}
	if p.r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return p.r.buf.Read(out)
}

func (p *pipeEnd) Write(in []byte) (int, error) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if p.w.closed {
		return 0, net.ErrClosed
	}
	p.w.buf.Write(in)
	p.w.cond.Broadcast()
	return len(in), nil
}

func (p *pipeEnd) Close() error {
	p.r.close()
	p.w.close()
	return nil
}

func (p *pipeEnd) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (p *pipeEnd) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222} }
func (p *pipeEnd) SetDeadline(time.Time) error      { return nil }
func (p *pipeEnd) SetReadDeadline(time.Time) error  { return nil }
func (p *pipeEnd) SetWriteDeadline(time.Time) error { return nil }

// pipeListener hands out the server ends of bufferedPipe connections that its
// dial makes: a listener with no sockets, whose every wait is on a channel.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

// Addr is a fixed loopback address: what known_hosts names the server by.
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := bufferedPipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, errors.New("connection refused: the server has shut down")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// clientKey is a fresh ed25519 client key pair.
type clientKey struct {
	signer gossh.Signer
	priv   ed25519.PrivateKey
}

func newClientKey(t testing.TB) *clientKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return &clientKey{signer: s, priv: priv}
}

func (k *clientKey) pub() gossh.PublicKey { return k.signer.PublicKey() }

// file writes the private key in OpenSSH format and returns its path.
// (testdata/encrypted_ed25519, made by ssh-keygen with passphrase hunter2,
// is the encrypted case: encrypting here costs a second of bcrypt.)
func (k *clientKey) file(t testing.TB) string {
	t.Helper()
	block, err := gossh.MarshalPrivateKey(k.priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dial dials cfg and closes the client at cleanup.
func dial(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := Dial(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
