package winrm

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// mitmProxy is a man in the middle between a client and the emulator: one
// upstream connection per client connection (NTLM binds to it), every
// request recorded as sent, every response open to rewriting.
//
// Concurrency: two goroutines per connection (requests, responses) share
// the fields behind mu; wg joins them all at cleanup.
type mitmProxy struct {
	t        testing.TB
	ln       net.Listener
	upstream string
	// rewrite may change a response's status and headers and returns the
	// body to send instead; it runs on the response goroutines.
	rewrite func(resp *http.Response, body []byte) []byte

	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	accepted int
	requests []http.Header
	raw      bytes.Buffer // every byte clients sent
}

func startMITM(t testing.TB, upstream string, rewrite func(*http.Response, []byte) []byte) *mitmProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &mitmProxy{t: t, ln: ln, upstream: upstream, rewrite: rewrite}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(func() {
		ln.Close()
		p.closeConns()
		p.wg.Wait()
	})
	return p
}

// config points cfg at the proxy instead of the host.
func (p *mitmProxy) config(cfg Config) Config {
	_, port, _ := net.SplitHostPort(p.ln.Addr().String())
	cfg.Port, _ = strconv.Atoi(port)
	return cfg
}

// closeConns drops every connection, as a host's idle timeout would.
func (p *mitmProxy) closeConns() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (p *mitmProxy) snapshot() (accepted int, requests []http.Header, raw []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted, append([]http.Header(nil), p.requests...), append([]byte(nil), p.raw.Bytes()...)
}

func (p *mitmProxy) acceptLoop() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.accepted++
		p.conns = append(p.conns, client, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.forwardRequests(client, up)
		go p.forwardResponses(up, client)
	}
}

type recordWriter struct{ p *mitmProxy }

func (w recordWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.raw.Write(b)
}

func (p *mitmProxy) forwardRequests(client, up net.Conn) {
	defer p.wg.Done()
	defer up.Close()
	br := bufio.NewReader(io.TeeReader(client, recordWriter{p}))
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.requests = append(p.requests, req.Header.Clone())
		p.mu.Unlock()
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		if err := req.Write(up); err != nil {
			return
		}
	}
}

func (p *mitmProxy) forwardResponses(up, client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	br := bufio.NewReader(up)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return
		}
		if p.rewrite != nil {
			body = p.rewrite(resp, body)
		}
		resp.Body, resp.ContentLength, resp.TransferEncoding = io.NopCloser(bytes.NewReader(body)), int64(len(body)), nil
		resp.Header.Del("Content-Length")
		if err := resp.Write(client); err != nil {
			return
		}
	}
}
