package winrm

import (
	"fmt"
	"sync"
	"time"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/patchrun/patchrun/transport"
)

// guard is a winrm.Transporter wrapped around the inner one (the library's
// for Basic and Kerberos, our NTLM transporter otherwise). It defends against the library's failure
// modes:
//   - SOAP faults come back as (body, nil): they become *WSManFault errors;
//   - empty or malformed bodies panic the library's Receive goroutine: they
//     become *ProtocolError before the library sees them;
//   - panics inside the inner transporter are recovered into *ProtocolError;
//   - a request that never returns is abandoned after postTimeout, and the
//     guard is then broken for good, because the abandoned goroutine still
//     owns the inner transporter's state (an NTLM client's session).
//
// Every error it returns went through classify.
//
// Concurrency: Post may be called from several library goroutines at once
// (Receive plus stdin Send); all mutable state is behind mu or the abort
// channel.
type guard struct {
	inner       winrm.Transporter
	postTimeout time.Duration
	onKill      func() // closes live connections so in-flight requests fail fast

	mu        sync.Mutex
	broken    error
	abort     chan struct{}
	abortOnce sync.Once
}

func newGuard(inner winrm.Transporter, postTimeout time.Duration, onKill func()) *guard {
	return &guard{inner: inner, postTimeout: postTimeout, onKill: onKill, abort: make(chan struct{})}
}

// Transport forwards the endpoint configuration to the inner transporter.
func (g *guard) Transport(ep *winrm.Endpoint) error { return g.inner.Transport(ep) }

type postResult struct {
	body string
	err  error
}

// Post sends one SOAP message and vets the answer.
func (g *guard) Post(c *winrm.Client, msg *soap.SoapMessage) (string, error) {
	if err := g.brokenErr(); err != nil {
		return "", err
	}
	ch := make(chan postResult, 1) // buffered: an abandoned sender never blocks
	go func() {
		var r postResult
		defer func() {
			if p := recover(); p != nil {
				r = postResult{err: &ProtocolError{Reason: fmt.Sprintf("winrm library panicked: %v", p)}}
			}
			ch <- r
		}()
		r.body, r.err = g.inner.Post(c, msg)
	}()
	timer := time.NewTimer(g.postTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return "", classify(r.err)
		}
		if err := checkBody(r.body); err != nil {
			return "", classify(err)
		}
		return r.body, nil
	case <-timer.C:
		err := fmt.Errorf("%w: no answer from the host within %s", transport.ErrConnLost, g.postTimeout)
		g.kill(err)
		return "", err
	case <-g.abort:
		return "", g.brokenErr()
	}
}

// kill breaks the guard: every later Post fails with cause at once, and
// requests in flight are cut off where the connections are ours to close.
func (g *guard) kill(cause error) {
	g.abortOnce.Do(func() {
		g.mu.Lock()
		g.broken = cause
		g.mu.Unlock()
		close(g.abort)
		if g.onKill != nil {
			g.onKill()
		}
	})
}

func (g *guard) brokenErr() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.broken
}
