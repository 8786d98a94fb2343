package winrmemu

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is one emulated WinRM listener. All methods are safe for
// concurrent use. mu guards the listener, the connection and shell
// registries, the per-user counters and the fault state; wg counts every
// goroutine the server starts (serve loops, output pumps, timers, request
// handlers) so Close can join them.
type Server struct {
	cfg     Config
	tlsConf *tls.Config
	caPEM   []byte
	httpSrv *http.Server

	baseCtx context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	wg      sync.WaitGroup
	closed  bool
	started bool
	down    bool
	addr    string
	ln      net.Listener
	upTimer chan struct{} // closed to cancel a pending DownFor timer
	conns   map[net.Conn]*connState
	shells  map[string]*shell
	ops     map[string]int // in-flight requests per user
	faults  Faults
	boots   int
	stats   counters
}

// counters are the Stats fields, updated atomically.
type counters struct {
	requests, sealed, handshakes, authFailures, timedOut, shellsCreated, commands, dropped atomic.Int64
}

// Stats is a snapshot of what the server has seen, for tests that must
// prove a path was taken (for example that messages really were sealed).
type Stats struct {
	Requests       int64 // HTTP requests to /wsman
	SealedRequests int64 // requests whose body was NTLM-sealed and unsealed
	NTLMHandshakes int64 // successful NTLM AUTHENTICATE messages
	AuthFailures   int64 // 401s sent for bad or missing credentials (not challenges)
	TimedOutFaults int64 // Receives that ended in the OperationTimeout fault
	ShellsCreated  int64
	ShellsOpen     int
	Operations     int // WS-Man requests in flight now (all users)
	Commands       int64
	Dropped        int64 // connections closed by the DropReceives fault
	Boots          int   // times the server came back up after going down
}

// New validates cfg and prepares a server; Start begins listening.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:    cfg,
		conns:  map[net.Conn]*connState{},
		shells: map[string]*shell{},
		ops:    map[string]int{},
		faults: cfg.Faults,
	}
	switch {
	case cfg.TLSConfig != nil:
		s.tlsConf = cfg.TLSConfig.Clone()
	case cfg.TLS:
		conf, caPEM, err := selfSignedTLS(cfg.ComputerName, time.Now())
		if err != nil {
			return nil, fmt.Errorf("winrmemu: %w", err)
		}
		s.tlsConf, s.caPEM = conf, caPEM
	}
	if s.tlsConf != nil {
		// HTTP/1.1 only: NTLM state is per connection.
		s.tlsConf.NextProtos = []string{"http/1.1"}
	}
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	s.httpSrv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 30 * time.Second,
		ConnContext:       s.connContext,
		ConnState:         s.connStateHook,
		ErrorLog:          log.New(io.Discard, "", 0), // TLS handshake noise from probing clients
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
	}
	return s, nil
}

// Start listens on Config.Addr and serves in the background. The server
// stops when ctx ends or Close is called; either way call Close to join.
func (s *Server) Start(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.started {
		return "", errors.New("winrmemu: server already started or closed")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return "", fmt.Errorf("winrmemu: listen: %w", err)
	}
	s.started = true
	s.addr = ln.Addr().String()
	s.serveLocked(ln)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			s.shutdown()
		case <-s.baseCtx.Done():
		}
	}()
	return s.addr, nil
}

func (s *Server) serveLocked(ln net.Listener) {
	if s.tlsConf != nil {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.httpSrv.Serve(ln) // returns when the listener closes (GoDown, Close)
	}()
}

// Addr is the host:port the server listens on (stable across GoDown/ComeUp).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the endpoint clients post to, e.g. http://127.0.0.1:PORT/wsman.
func (s *Server) URL() string {
	scheme := "http"
	if s.tlsConf != nil {
		scheme = "https"
	}
	return scheme + "://" + s.Addr() + "/wsman"
}

// CACertPEM is the PEM of the CA that signed the self-signed certificate
// (Config.TLS), or nil.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.caPEM...) }

// Close stops the server, terminates every command, and waits for every
// goroutine it started. Handlers' processes must honour their ctx.
func (s *Server) Close() error {
	s.shutdown()
	s.wg.Wait()
	return nil
}

func (s *Server) shutdown() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.stopTimerLocked()
	s.dropShellsLocked()
	s.mu.Unlock()
	s.cancel()
	_ = s.httpSrv.Close() // closes listeners and connections
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	open, boots := len(s.shells), s.boots
	ops := 0
	for _, n := range s.ops {
		ops += n
	}
	s.mu.Unlock()
	return Stats{
		Requests:       s.stats.requests.Load(),
		SealedRequests: s.stats.sealed.Load(),
		NTLMHandshakes: s.stats.handshakes.Load(),
		AuthFailures:   s.stats.authFailures.Load(),
		TimedOutFaults: s.stats.timedOut.Load(),
		ShellsCreated:  s.stats.shellsCreated.Load(),
		ShellsOpen:     open,
		Operations:     ops,
		Commands:       s.stats.commands.Load(),
		Dropped:        s.stats.dropped.Load(),
		Boots:          boots,
	}
}

// SetFaults replaces the injected faults; it applies to requests that
// arrive afterwards.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the current fault state (DropReceives counts down).
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// GoDown simulates the host going away (a reboot): the listener closes so
// new connections are refused, open connections drop, and every shell and
// command is gone; after ComeUp old shell ids get InvalidSelectors.
func (s *Server) GoDown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.goDownLocked()
}

func (s *Server) goDownLocked() {
	if s.closed || s.down || !s.started {
		return
	}
	s.down = true
	s.stopTimerLocked()
	if s.ln != nil {
		_ = s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.dropShellsLocked()
}

// ComeUp ends a GoDown: the server listens again on the same address.
func (s *Server) ComeUp() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.comeUpLocked()
}

func (s *Server) comeUpLocked() error {
	if s.closed {
		return errors.New("winrmemu: server closed")
	}
	if !s.down {
		return nil
	}
	s.stopTimerLocked()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("winrmemu: listen again on %s: %w", s.addr, err)
	}
	s.down = false
	s.boots++
	s.serveLocked(ln)
	return nil
}

// DownFor goes down now and comes back up after d (a reboot of length d).
// Calling GoDown, ComeUp, DownFor or Close first cancels the pending return.
func (s *Server) DownFor(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.goDownLocked()
	if s.closed || !s.down {
		return
	}
	stop := make(chan struct{})
	s.upTimer = stop
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-stop:
		case <-t.C:
			s.mu.Lock()
			if s.upTimer == stop {
				s.upTimer = nil
				_ = s.comeUpLocked()
			}
			s.mu.Unlock()
		}
	}()
}

// IsDown says whether the server is down (GoDown/DownFor).
func (s *Server) IsDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// ReturnScheduled says whether the server is down and due back by itself
// (DownFor), as opposed to down until ComeUp.
func (s *Server) ReturnScheduled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down && s.upTimer != nil
}

func (s *Server) stopTimerLocked() {
	if s.upTimer != nil {
		close(s.upTimer)
		s.upTimer = nil
	}
}

// dropShellsLocked terminates every command and forgets every shell.
func (s *Server) dropShellsLocked() {
	for id, sh := range s.shells {
		for _, c := range sh.commands {
			c.terminate(SignalTerminate)
		}
		delete(s.shells, id)
	}
}

// connState is the per-TCP-connection authentication state: NTLM is
// connection-oriented, so a handshake authenticates the connection and, with
// sealing, fixes the RC4 streams for the rest of it. HTTP/1.1 serves one
// request at a time per connection; mu still guards the fields because
// GoDown and Close look at connections from other goroutines.
type connState struct {
	conn  net.Conn
	isTLS bool

	mu      sync.Mutex
	pending *ntlmChallenge
	user    string // NTLM-authenticated user, "" if none
	seal    *sealSession
}

type connKey struct{}

func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	_, isTLS := c.(*tls.Conn)
	cs := &connState{conn: c, isTLS: isTLS}
	s.mu.Lock()
	if s.down || s.closed {
		_ = c.Close()
	} else {
		s.conns[c] = cs
	}
	s.mu.Unlock()
	return context.WithValue(ctx, connKey{}, cs)
}

func (s *Server) connStateHook(c net.Conn, st http.ConnState) {
	if st == http.StateClosed || st == http.StateHijacked {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}
}

// lookupUser finds a configured user, ignoring case and any domain part.
func (s *Server) lookupUser(name string) (canon, password string, ok bool) {
	if i := strings.LastIndex(name, `\`); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	for u, p := range s.cfg.Users {
		if strings.EqualFold(u, name) {
			return u, p, true
		}
	}
	return "", "", false
}
