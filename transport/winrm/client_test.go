package winrm

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/transport"
)

func dialFake(t *testing.T, h *fakeHost, mutate func(*Config)) *Client {
	t.Helper()
	cfg := h.config()
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunReturnsOutputAndExitCode(t *testing.T) {
	h := newFakeHost(t)
	h.exec = func(line string, _ []byte) fakeOutcome {
		return fakeOutcome{stdout: "hello from " + line, stderr: "warn", exit: 3010}
	}
	c := dialFake(t, h, nil)
	var tee bytes.Buffer
	res, err := c.Run(testCtx(t), transport.Command{Line: "whoami", Stdout: &tee})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 3010 || string(res.Stdout) != "hello from whoami" || string(res.Stderr) != "warn" {
		t.Errorf("got exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	if tee.String() != "hello from whoami" {
		t.Errorf("tee writer got %q", tee.String())
	}
}

func TestRunDecodesCLIXMLStderr(t *testing.T) {
	h := newFakeHost(t)
	h.exec = func(string, []byte) fakeOutcome {
		return fakeOutcome{stderr: clixmlSample, exit: 1}
	}
	c := dialFake(t, h, nil)
	res, err := c.Run(testCtx(t), transport.Command{Line: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(res.Stderr), "Write-Error : boom") {
		t.Errorf("stderr not decoded: %q", res.Stderr)
	}
}

func TestRunSpansOperationTimeoutRetries(t *testing.T) {
	h := newFakeHost(t)
	h.exec = func(string, []byte) fakeOutcome { return fakeOutcome{stdout: "done", timeouts: 3, exit: 0} }
	c := dialFake(t, h, nil)
	res, err := c.Run(testCtx(t), transport.Command{Line: "long"})
	if err != nil {
		t.Fatalf("Run across TimedOut faults: %v", err)
	}
	if string(res.Stdout) != "done" {
		t.Errorf("stdout %q", res.Stdout)
	}
	if got := h.count("Receive"); got != 4 {
		t.Errorf("Receive requests = %d, want 4 (3 timed out, 1 with output)", got)
	}
}

func TestRunFaultOnReceiveIsTypedAndStops(t *testing.T) {
	h := newFakeHost(t)
	h.hook = func(w http.ResponseWriter, _ *http.Request, action string, _ int) bool {
		if action != "Receive" {
			return false
		}
		writeFault(w, "", FaultMaxConcurrentOps, "w:QuotaLimit", "The WS-Management service cannot process the request because the maximum number of concurrent operations for this user has been exceeded.")
		return true
	}
	c := dialFake(t, h, nil)
	_, err := c.Run(testCtx(t), transport.Command{Line: "x"})
	var fault *WSManFault
	if !errors.As(err, &fault) || fault.Code != FaultMaxConcurrentOps {
		t.Fatalf("err = %v, want *WSManFault %d", err, FaultMaxConcurrentOps)
	}
	if got := h.count("Receive"); got != 1 {
		t.Errorf("Receive requests = %d: a non-timeout fault must not loop", got)
	}
}

func TestRunRecreatesVanishedShellOnce(t *testing.T) {
	h := newFakeHost(t)
	c := dialFake(t, h, nil)
	// Simulate a reboot: the host forgets every shell.
	h.mu.Lock()
	h.shells = map[string]bool{}
	h.mu.Unlock()
	res, err := c.Run(testCtx(t), transport.Command{Line: "after-reboot"})
	if err != nil {
		t.Fatalf("Run after the shell vanished: %v", err)
	}
	if !strings.Contains(string(res.Stdout), "after-reboot") {
		t.Errorf("stdout %q", res.Stdout)
	}
	if got := h.count("Create"); got != 2 {
		t.Errorf("shells created = %d, want 2", got)
	}
}

func TestRunRecyclesShell(t *testing.T) {
	h := newFakeHost(t)
	c := dialFake(t, h, func(c *Config) { c.RecycleAfter = 2 })
	for i := 0; i < 5; i++ {
		if _, err := c.Run(testCtx(t), transport.Command{Line: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.count("Create"); got != 3 {
		t.Errorf("shells created for 5 commands with RecycleAfter=2: %d, want 3", got)
	}
	if got := h.liveShells(); got != 1 {
		t.Errorf("live shells on the host = %d, want 1 (recycled ones deleted)", got)
	}
}

func TestCloseDeletesShellAndIsIdempotent(t *testing.T) {
	h := newFakeHost(t)
	c := dialFake(t, h, nil)
	if h.liveShells() != 1 {
		t.Fatalf("Dial did not open a shell")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if h.liveShells() != 0 {
		t.Errorf("shell left on the host after Close")
	}
	if _, err := c.Run(testCtx(t), transport.Command{Line: "x"}); err == nil {
		t.Errorf("Run after Close succeeded")
	}
}

func TestRunSendsStdin(t *testing.T) {
	h := newFakeHost(t)
	h.exec = func(_ string, stdin []byte) fakeOutcome {
		return fakeOutcome{stdout: "got:" + string(stdin), waitStdin: true}
	}
	c := dialFake(t, h, nil)
	res, err := c.Run(testCtx(t), transport.Command{Line: "more", Stdin: strings.NewReader("line1\nline2\n")})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "got:line1\nline2\n" {
		t.Errorf("stdout %q", res.Stdout)
	}
}

func TestRunBoundsOutput(t *testing.T) {
	h := newFakeHost(t)
	h.exec = func(string, []byte) fakeOutcome { return fakeOutcome{stdout: strings.Repeat("x", 5000)} }
	c := dialFake(t, h, nil)
	res, err := c.Run(testCtx(t), transport.Command{Line: "x", MaxOutput: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != 100 || !res.Truncated {
		t.Errorf("kept %d bytes, truncated=%v; want 100, true", len(res.Stdout), res.Truncated)
	}
}

func TestDialAuthFailureIsErrAuth(t *testing.T) {
	h := newFakeHost(t)
	cfg := h.config()
	cfg.Password = "wrong-password-value"
	_, err := Dial(testCtx(t), cfg)
	if !errors.Is(err, transport.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "wrong-password-value") {
		t.Errorf("error text leaks the password: %v", err)
	}
}

func TestDialUnreachable(t *testing.T) {
	h := newFakeHost(t)
	cfg := h.config()
	h.srv.Close() // nothing listens on the port any more
	_, err := Dial(testCtx(t), cfg)
	if !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

func TestDroppedConnectionMidCommandIsConnLost(t *testing.T) {
	h := newFakeHost(t)
	h.hook = func(w http.ResponseWriter, _ *http.Request, action string, _ int) bool {
		if action != "Receive" {
			return false
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return true
		}
		conn.Close()
		return true
	}
	c := dialFake(t, h, nil)
	_, err := c.Run(testCtx(t), transport.Command{Line: "shutdown /r"})
	if !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("err = %v, want ErrConnLost", err)
	}
}

func TestHungHostIsBoundedByResponseTimeout(t *testing.T) {
	h := newFakeHost(t)
	h.hook = func(_ http.ResponseWriter, r *http.Request, action string, _ int) bool {
		if action != "Receive" {
			return false
		}
		select { // a host that accepted the request and went silent
		case <-h.release:
		case <-r.Context().Done():
		}
		return true
	}
	c := dialFake(t, h, func(c *Config) {
		c.OperationTimeout, c.ResponseTimeout = 200*time.Millisecond, 500*time.Millisecond
	})
	// No context deadline and a host that never answers: only the
	// response timeout can end this Run.
	_, err := c.Run(context.Background(), transport.Command{Line: "hang"})
	if !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("err = %v, want ErrConnLost", err)
	}
}

func TestCancelledRunReturnsPromptly(t *testing.T) {
	h := newFakeHost(t)
	h.exec = func(line string, _ []byte) fakeOutcome {
		if line == "forever" {
			return fakeOutcome{timeouts: 1 << 30}
		}
		return fakeOutcome{stdout: "ok"}
	}
	c := dialFake(t, h, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// "forever" never ends by itself: only the context can end this Run.
	_, err := c.Run(ctx, transport.Command{Line: "forever"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if h.count("Signal") == 0 {
		t.Errorf("the remote command was not signalled to stop")
	}
	// The client is still usable after a clean cancellation.
	if _, err := c.Run(testCtx(t), transport.Command{Line: "next"}); err != nil {
		t.Errorf("Run after cancellation: %v", err)
	}
}

func TestMalformedReceiveBodiesAreErrorsNotPanics(t *testing.T) {
	bodies := map[string]string{
		"empty":     "",
		"not xml":   "Service Unavailable",
		"truncated": `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><rsp:ReceiveRes`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			h := newFakeHost(t)
			h.hook = func(w http.ResponseWriter, _ *http.Request, action string, _ int) bool {
				if action != "Receive" {
					return false
				}
				w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
				w.Write([]byte(body))
				return true
			}
			c := dialFake(t, h, nil)
			_, err := c.Run(testCtx(t), transport.Command{Line: "x"})
			var perr *ProtocolError
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want *ProtocolError", err)
			}
		})
	}
}

func TestDialFaultOnCreateIsTyped(t *testing.T) {
	h := newFakeHost(t)
	h.hook = func(w http.ResponseWriter, _ *http.Request, action string, _ int) bool {
		if action != "Create" {
			return false
		}
		writeFault(w, "", FaultMaxShells, "w:QuotaLimit", "The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells, which has been exceeded.")
		return true
	}
	_, err := Dial(testCtx(t), h.config())
	var fault *WSManFault
	if !errors.As(err, &fault) || fault.Code != FaultMaxShells {
		t.Fatalf("err = %v, want *WSManFault %d (the library alone returns a shell with an empty id)", err, FaultMaxShells)
	}
}

func TestNTLMNeverFallsBackToBasicOverHTTP(t *testing.T) {
	for _, enc := range []string{EncryptionAuto, EncryptionNever} { // sealed, then unsealed NTLM
		t.Run(enc, func(t *testing.T) {
			h := newFakeHost(t) // answers 401 offering only Basic
			cfg := h.config()
			cfg.Auth, cfg.AllowBasicHTTP, cfg.Encryption = AuthNTLM, false, enc
			_, err := Dial(testCtx(t), cfg)
			if !errors.Is(err, transport.ErrAuth) || !strings.Contains(err.Error(), "Basic") {
				t.Fatalf("err = %v, want ErrAuth naming the Basic-only offer", err)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.sawBasic != 0 {
				t.Errorf("the password reached the host as Basic over plain HTTP %d times", h.sawBasic)
			}
		})
	}
}

func TestCloseFromAnotherGoroutineCutsOffRun(t *testing.T) {
	h := newFakeHost(t)
	h.exec = func(string, []byte) fakeOutcome { return fakeOutcome{timeouts: 1 << 30} }
	c := dialFake(t, h, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), transport.Command{Line: "forever"})
		errc <- err
	}()
	for h.count("Receive") == 0 { // wait until the command is in flight
		select {
		case err := <-errc:
			t.Fatalf("Run returned early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Errorf("Run cut off by Close reported success")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

func TestKerberosConfigErrorSurfacesAtDial(t *testing.T) {
	host, port := tripwire(t)
	_, err := Dial(testCtx(t), Config{Address: host, Port: port, HTTPS: true, Auth: AuthKerberos,
		User: "svc", Password: "pw", Realm: "EXAMPLE.COM", KrbConfig: "/nonexistent/krb5.conf"})
	if err == nil || !strings.Contains(err.Error(), "krb5.conf") {
		t.Fatalf("err = %v, want the krb5.conf problem", err)
	}
}
