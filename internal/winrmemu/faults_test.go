package winrmemu_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	azure "github.com/Azure/go-ntlmssp"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

func TestGoDownRefusesThenInvalidatesShells(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "sleep 10s")
	addr := s.Addr()

	// A Receive blocked when the host goes down loses its connection; it
	// must never see the killed command as Done.
	blocked := newRawClient(t, s)
	breq, _, err := blocked.request(aReceive, shell, "PT30S", `<rsp:Receive><rsp:DesiredStream CommandId="`+cmd+`">stdout stderr</rsp:DesiredStream></rsp:Receive>`)
	if err != nil {
		t.Fatal(err)
	}
	blockedErr := make(chan error, 1)
	go func() {
		r, err := blocked.do(breq)
		if err == nil {
			err = fmt.Errorf("answered %d %q", r.Status, r.State.State)
		}
		blockedErr <- err
	}()
	waitFor(t, func() bool { return s.Stats().Requests >= 3 })

	s.GoDown()
	if err := <-blockedErr; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("Receive in flight across GoDown: want a lost connection, got %v", err)
	}
	if !s.IsDown() || s.ReturnScheduled() {
		t.Fatalf("after GoDown: down %v, return scheduled %v; want down until ComeUp", s.IsDown(), s.ReturnScheduled())
	}
	req, _, err := c.request(aReceive, shell, "PT1S", "")
	if err != nil {
		t.Fatal(err)
	}
	// The kept-alive connection was cut; a new one is refused.
	if _, err := c.http.Do(req); err == nil {
		t.Fatal("request on a kept-alive connection succeeded while down")
	}
	req, _, _ = c.request(aReceive, shell, "PT1S", "")
	if _, err := (&http.Client{Transport: &http.Transport{}}).Do(req); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("new connection while down: want connection refused, got %v", err)
	}

	if err := s.ComeUp(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Errorf("came back on %s, want the same address %s", s.Addr(), addr)
	}
	if r := c.receive(shell, cmd, "PT1S"); r.FaultCode != "2150858843" {
		t.Errorf("old shell after reboot: want InvalidSelectors, got %+v", r)
	}
	if st := s.Stats(); st.Boots != 1 || st.ShellsOpen != 0 {
		t.Errorf("stats after one reboot: %+v", st)
	}
	// A new shell works.
	fresh := c.createShell()
	if out, _, code := c.receiveAll(fresh, c.command(fresh, "echo back")); out != "back\r\n" || code != 0 {
		t.Errorf("new shell after reboot: %q %d", out, code)
	}
}

func TestDownForComesBackByItself(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
	c := newRawClient(t, s)
	s.DownFor(200 * time.Millisecond)
	start := time.Now()
	if !s.ReturnScheduled() {
		t.Error("DownFor scheduled no return")
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for s.IsDown() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("server did not come back")
		}
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("came back after %v, want about 200ms", d)
	}
	shell := c.createShell()
	if out, _, code := c.receiveAll(shell, c.command(shell, "echo up")); out != "up\r\n" || code != 0 {
		t.Errorf("after coming back: %q %d", out, code)
	}
}

func TestDropReceiveLosesTheConnection(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
	s.SetFaults(winrmemu.Faults{DropReceives: 1})
	m := clientModes()[0]
	client := newMasterzenClient(t, s, m, testPass, "PT5S")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, _, err := client.RunCmdWithContext(ctx, "echo lost")
	if err == nil {
		t.Fatal("a dropped Receive went unnoticed by the client")
	}
	if st := s.Stats(); st.Dropped != 1 {
		t.Errorf("Dropped = %d, want 1", st.Dropped)
	}
	if f := s.Faults(); f.DropReceives != 0 {
		t.Errorf("DropReceives did not count down: %+v", f)
	}
	// The fault is spent: the next run works.
	if out, _, code, err := client.RunCmdWithContext(ctx, "echo fine"); err != nil || out != "fine\r\n" || code != 0 {
		t.Errorf("after the drop: %q %d %v", out, code, err)
	}
}

func TestRejectAuthAndReceiveDelay(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "echo slow")

	s.SetFaults(winrmemu.Faults{ReceiveDelay: 300 * time.Millisecond})
	start := time.Now()
	if r := c.receive(shell, cmd, "PT5S"); r.stream("stdout") != "slow\r\n" {
		t.Fatalf("delayed receive: %+v", r)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("Receive answered in %v despite a 300ms delay", d)
	}

	s.SetFaults(winrmemu.Faults{RejectAuth: true})
	if r, _ := c.post(aCreate, "", "PT1S", "<rsp:Shell/>"); r.Status != http.StatusUnauthorized {
		t.Errorf("RejectAuth: status %d", r.Status)
	}
}

// Windows refuses an unsealed SOAP body over plain HTTP after NTLM unless
// AllowUnencrypted is set; HTTPS is fine. Basic over HTTP likewise.
func TestUnencryptedPolicy(t *testing.T) {
	cases := []struct {
		name   string
		cfg    winrmemu.Config
		ntlm   bool
		status int
	}{
		{"ntlm unsealed over http refused", winrmemu.Config{}, true, http.StatusUnauthorized},
		{"ntlm unsealed over http allowed", winrmemu.Config{AllowUnencrypted: true}, true, http.StatusOK},
		{"ntlm over https", winrmemu.Config{TLS: true}, true, http.StatusOK},
		{"basic over http refused", winrmemu.Config{}, false, http.StatusUnauthorized},
		{"basic over https", winrmemu.Config{TLS: true}, false, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.cfg)
			tr := &http.Transport{}
			if tc.cfg.TLS {
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM(s.CACertPEM())
				tr.TLSClientConfig = &tls.Config{RootCAs: pool}
			}
			t.Cleanup(tr.CloseIdleConnections)
			var rt http.RoundTripper = tr
			if tc.ntlm {
				rt = azure.Negotiator{RoundTripper: tr}
			}
			c := newRawClient(t, s)
			c.http = &http.Client{Transport: rt, Timeout: 10 * time.Second}
			r, _ := c.post(aCreate, "", "PT1S", "<rsp:Shell/>")
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d", r.Status, tc.status)
			}
			if tc.ntlm && s.Stats().NTLMHandshakes != 1 {
				t.Errorf("want exactly one NTLM handshake, got %+v", s.Stats())
			}
		})
	}
}

func TestStartTwiceAndAfterClose(t *testing.T) {
	s, err := winrmemu.New(winrmemu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	cancel() // ending Start's ctx stops the server
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.ComeUp(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("ComeUp after Close: %v", err)
	}
}
