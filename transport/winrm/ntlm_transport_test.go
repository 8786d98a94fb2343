package winrm

import (
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
	"github.com/patchrun/patchrun/transport"
)

// ntlmModes are the three NTLM setups: each must authenticate one TCP
// connection once and keep every message on it, because the host binds
// the NTLM logon to the connection (real Windows and the emulator alike).
var ntlmModes = []struct {
	name  string
	emu   winrmemu.Config
	https bool
	enc   string
}{
	{"https", winrmemu.Config{TLS: true}, true, EncryptionAuto},
	{"http, encryption never", winrmemu.Config{AllowUnencrypted: true}, false, EncryptionNever},
	{"http, sealed", winrmemu.Config{}, false, EncryptionAuto},
}

// TestNTLMConcurrentRequestsNeverSplitTheHandshake forces what a command
// with stdin does (the library's Send while its Receive is in flight),
// many times over: several goroutines post through one client at once.
// With a pooled transport the handshake legs of one request landed on
// different connections and the host answered 401.
func TestNTLMConcurrentRequestsNeverSplitTheHandshake(t *testing.T) {
	for _, m := range ntlmModes {
		t.Run(m.name, func(t *testing.T) {
			s := startEmu(t, m.emu)
			cfg := emuConfig(t, s, AuthNTLM, m.https)
			cfg.Encryption = m.enc
			c := dialEmu(t, cfg)
			const workers, rounds = 6, 8
			var wg sync.WaitGroup
			errs := make(chan error, workers*rounds)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := 0; r < rounds; r++ {
						// Create and delete a shell: two cheap, real WS-Man
						// operations straight through the client's transporter.
						shell, err := c.wc.CreateShell()
						if err == nil {
							err = shell.Close()
						}
						if err != nil {
							errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("%v (kind %q)", err, transport.Kind(err))
			}
			st := s.Stats()
			if st.AuthFailures != 0 {
				t.Errorf("host sent %d 401s for bad or missing credentials", st.AuthFailures)
			}
			if st.NTLMHandshakes != 1 {
				t.Errorf("%d NTLM handshakes, want 1: one connection, authenticated once", st.NTLMHandshakes)
			}
		})
	}
}

// TestNTLMStdinOnOneConnection: every NTLM mode keeps one connection, so
// stdin goes out only once the Receive in flight returns, and the command
// still gets all of it, without a second handshake.
func TestNTLMStdinOnOneConnection(t *testing.T) {
	for _, m := range ntlmModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := startEmu(t, m.emu)
			cfg := emuConfig(t, s, AuthNTLM, m.https)
			cfg.Encryption = m.enc
			cfg.OperationTimeout = 100 * time.Millisecond
			c := dialEmu(t, cfg)
			in := strings.Repeat("a line of stdin\r\n", 500)
			for i := 0; i < 2; i++ {
				res, err := c.Run(testCtx(t), transport.Command{Line: "type", Stdin: strings.NewReader(in)})
				if err != nil || string(res.Stdout) != in {
					t.Fatalf("run %d: %d bytes back of %d, %v", i+1, len(res.Stdout), len(in), err)
				}
			}
			if st := s.Stats(); st.NTLMHandshakes != 1 || st.AuthFailures != 0 {
				t.Errorf("%d handshakes and %d auth failures, want 1 and 0", st.NTLMHandshakes, st.AuthFailures)
			}
		})
	}
}

// TestNTLMOverHTTPSNeverFallsBackToBasic: over TLS too, a host (or a man in
// the middle with a trusted certificate) that offers only Basic gets no
// password; the library's NTLM client would have sent it as Basic.
func TestNTLMOverHTTPSNeverFallsBackToBasic(t *testing.T) {
	var basic atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); ok {
			basic.Add(1)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	cfg := Config{
		Address: u.Hostname(), Port: port, HTTPS: true, Auth: AuthNTLM, User: "admin", Password: "s3cret",
		CACertPEM:        pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		OperationTimeout: time.Second, ResponseTimeout: 3 * time.Second, ConnectTimeout: time.Second, CallTimeout: 2 * time.Second,
	}
	_, err := Dial(testCtx(t), cfg)
	if !errors.Is(err, transport.ErrAuth) || !strings.Contains(err.Error(), "Basic") {
		t.Fatalf("err = %v, want ErrAuth naming the Basic-only offer", err)
	}
	if n := basic.Load(); n != 0 {
		t.Errorf("the password reached the host as Basic %d times", n)
	}
}
