package winrmemu_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

func TestEveryResponseRelatesToItsRequest(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true, MaxShellsPerUser: 1})
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "echo hi")
	stdinBody := `<rsp:Send><rsp:Stream Name="stdin" CommandId="` + cmd + `" End="true">` + base64.StdEncoding.EncodeToString([]byte("x")) + `</rsp:Stream></rsp:Send>`
	steps := []struct {
		name, action, shell, body string
		wantStatus                int
		wantAction, wantCode      string
	}{
		{"receive", aReceive, shell, `<rsp:Receive><rsp:DesiredStream CommandId="` + cmd + `">stdout stderr</rsp:DesiredStream></rsp:Receive>`, 200, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse", ""},
		{"send", aSend, shell, stdinBody, 200, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse", ""},
		{"signal", aSignal, shell, `<rsp:Signal CommandId="` + cmd + `"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate</rsp:Code></rsp:Signal>`, 200, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse", ""},
		{"second shell over quota", aCreate, "", `<rsp:Shell/>`, 500, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", "2150859173"},
		{"delete", aDelete, shell, "", 200, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", ""},
		{"command on deleted shell", aCommand, shell, `<rsp:CommandLine><rsp:Command>echo</rsp:Command></rsp:CommandLine>`, 500, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", "2150858843"},
		{"unknown action", "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", "", "", 500, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", "2150858752"},
	}
	for _, st := range steps {
		r, msgID := c.post(st.action, st.shell, "PT2S", st.body)
		if r.Status != st.wantStatus || r.Action != st.wantAction || r.FaultCode != st.wantCode {
			t.Errorf("%s: status %d action %q fault %q; want %d %q %q", st.name, r.Status, r.Action, r.FaultCode, st.wantStatus, st.wantAction, st.wantCode)
		}
		if r.RelatesTo != msgID {
			t.Errorf("%s: RelatesTo %q, want the request's MessageID %q", st.name, r.RelatesTo, msgID)
		}
		if !strings.HasPrefix(r.MessageID, "uuid:") || r.MessageID == msgID {
			t.Errorf("%s: MessageID %q is not a fresh uuid", st.name, r.MessageID)
		}
		if r.To != "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous" {
			t.Errorf("%s: To %q", st.name, r.To)
		}
		if r.ContentType != "application/soap+xml;charset=UTF-8" {
			t.Errorf("%s: Content-Type %q", st.name, r.ContentType)
		}
	}
}

func TestReceiveStreamsPartialOutputThenTimesOut(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "echo first & sleep 10s & echo never")

	r := c.receive(shell, cmd, "PT5S")
	if got := r.stream("stdout"); got != "first\r\n" || r.done() {
		t.Fatalf("first Receive: stdout %q done %v; want the partial output of a running command", got, r.done())
	}

	start := time.Now()
	r = c.receive(shell, cmd, "PT0.3S")
	elapsed := time.Since(start)
	if r.Status != 500 || r.FaultCode != "2150858793" || r.FaultSubcode != "w:TimedOut" {
		t.Fatalf("idle Receive: want TimedOut fault, got %+v", r)
	}
	if !strings.Contains(r.FaultText, "within the time specified in OperationTimeout.") {
		t.Errorf("fault text %q lacks the phrase clients match on", r.FaultText)
	}
	if elapsed < 300*time.Millisecond {
		t.Errorf("Receive answered after %v; want it to block for the 0.3 s OperationTimeout", elapsed)
	}
	c.signal(shell, cmd, "terminate")
}

func TestReceiveReportsStreamsAndExitCode(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "echo to-out & echo to-err 1>&2 & exit 42")
	stdout, stderr, code := c.receiveAll(shell, cmd)
	if stdout != "to-out\r\n" || stderr != "to-err\r\n" || code != 42 {
		t.Fatalf("got %q %q %d", stdout, stderr, code)
	}
}

func TestSendFeedsStdin(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "type")
	for i, chunk := range []string{"abc", "def"} {
		end := ""
		if i == 1 {
			end = ` End="true"`
		}
		r, _ := c.post(aSend, shell, "PT5S", `<rsp:Send><rsp:Stream Name="stdin" CommandId="`+cmd+`"`+end+`>`+base64.StdEncoding.EncodeToString([]byte(chunk))+`</rsp:Stream></rsp:Send>`)
		if r.Status != 200 {
			t.Fatalf("send: %+v", r)
		}
	}
	if stdout, _, code := c.receiveAll(shell, cmd); stdout != "abcdef" || code != 0 {
		t.Fatalf("type echoed %q (code %d), want abcdef", stdout, code)
	}
}

func TestUnknownShellIsInvalidSelectors(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
	c := newRawClient(t, s)
	for _, action := range []string{aCommand, aReceive, aSignal, aDelete} {
		r, _ := c.post(action, "6B1A4A8E-0000-4000-8000-000000000000", "PT1S",
			`<rsp:CommandLine><rsp:Command>echo</rsp:Command></rsp:CommandLine>`)
		if r.Status != 500 || r.FaultCode != "2150858843" || r.FaultSubcode != "w:InvalidSelectors" {
			t.Errorf("%s on unknown shell: %+v", action, r)
		}
	}
}

func TestShellQuota(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true, MaxShellsPerUser: 2})
	c := newRawClient(t, s)
	first := c.createShell()
	c.createShell()
	if r, _ := c.post(aCreate, "", "PT1S", `<rsp:Shell/>`); r.FaultCode != "2150859173" {
		t.Fatalf("third shell with quota 2: %+v", r)
	}
	// Delete frees a slot.
	if r, _ := c.post(aDelete, first, "PT1S", ""); r.Status != 200 {
		t.Fatalf("delete: %+v", r)
	}
	if got := s.Stats().ShellsOpen; got != 1 {
		t.Errorf("ShellsOpen %d after delete, want 1", got)
	}
	c.createShell()

	// The injected fault refuses even under quota.
	s.SetFaults(winrmemu.Faults{ShellQuotaExceeded: true})
	c.post(aDelete, c.createShellOrFault(t), "PT1S", "")
}

// createShellOrFault expects the quota fault and returns "" for Delete
// (which then answers InvalidSelectors harmlessly).
func (c *rawClient) createShellOrFault(t *testing.T) string {
	r, _ := c.post(aCreate, "", "PT1S", `<rsp:Shell/>`)
	if r.FaultCode != "2150859173" {
		t.Errorf("ShellQuotaExceeded fault injection: %+v", r)
	}
	return r.ShellID
}

func TestAccessDeniedFault(t *testing.T) {
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true, Faults: winrmemu.Faults{DenyAccess: true}})
	c := newRawClient(t, s)
	if r, _ := c.post(aCreate, "", "PT1S", `<rsp:Shell/>`); r.FaultCode != "2147942405" || r.Status != 500 {
		t.Fatalf("DenyAccess: %+v", r)
	}
}

func TestConcurrentOperationQuota(t *testing.T) {
	// The command writes nothing until released, so the Receive below
	// holds the only operation slot for as long as the test needs it.
	release := make(chan struct{})
	h := winrmemu.FuncHandler(func(ctx context.Context, req winrmemu.CommandRequest, stdout, stderr io.Writer, stdin io.Reader) int {
		select {
		case <-release:
			io.WriteString(stdout, "released\r\n")
		case <-ctx.Done():
		}
		return 0
	})
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true, MaxConcurrentOperationsPerUser: 1, Handler: h})
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "wait for release")
	other := newRawClient(t, s)
	req, _, err := other.request(aReceive, shell, "PT60S", `<rsp:Receive><rsp:DesiredStream CommandId="`+cmd+`">stdout stderr</rsp:DesiredStream></rsp:Receive>`)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan response, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := other.do(req)
		if err != nil {
			r.FaultText = err.Error()
		}
		done <- r
	}()
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(func() { free(); wg.Wait() })
	waitFor(t, func() bool { return s.Stats().Operations == 1 })

	if r, _ := c.post(aCreate, "", "PT1S", `<rsp:Shell/>`); r.FaultCode != "2150859174" {
		t.Errorf("second concurrent operation: want MaxConcurrentOperationsPerUser fault, got %+v", r)
	}
	free()
	if got := <-done; got.stream("stdout") != "released\r\n" {
		t.Errorf("the Receive holding the slot must be unharmed by the refused operation, got %+v", got)
	}
	// The slot is free again once the Receive ended.
	waitFor(t, func() bool { return s.Stats().Operations == 0 })
	if r, _ := c.post(aCreate, "", "PT1S", `<rsp:Shell/>`); r.Status != 200 {
		t.Errorf("operation after the slot was freed: %+v", r)
	}
}

func TestSignalTerminatesRunningProcess(t *testing.T) {
	var stopped atomic.Bool
	exited := make(chan struct{})
	h := winrmemu.FuncHandler(func(ctx context.Context, req winrmemu.CommandRequest, stdout, stderr io.Writer, stdin io.Reader) int {
		defer close(exited)
		io.WriteString(stdout, "running\r\n")
		<-ctx.Done()
		stopped.Store(true)
		return 1
	})
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true, Handler: h})
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "wait forever")
	if r := c.receive(shell, cmd, "PT5S"); r.stream("stdout") != "running\r\n" {
		t.Fatalf("receive: %+v", r)
	}
	if r := c.signal(shell, cmd, "terminate"); r.Status != 200 {
		t.Fatalf("signal: %+v", r)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("terminate did not stop the process")
	}
	if !stopped.Load() {
		t.Error("process ended without seeing its context cancelled")
	}
	// The command is gone from the shell.
	if r := c.receive(shell, cmd, "PT1S"); r.FaultCode != "2150858843" {
		t.Errorf("Receive after terminate: %+v", r)
	}
}

func TestDeleteShellStopsItsCommands(t *testing.T) {
	exited := make(chan struct{})
	h := winrmemu.FuncHandler(func(ctx context.Context, req winrmemu.CommandRequest, stdout, stderr io.Writer, stdin io.Reader) int {
		defer close(exited)
		<-ctx.Done()
		return 0
	})
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true, Handler: h})
	c := newRawClient(t, s)
	shell := c.createShell()
	c.command(shell, "x")
	if r, _ := c.post(aDelete, shell, "PT1S", ""); r.Status != 200 {
		t.Fatalf("delete: %+v", r)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("deleting the shell left its command running")
	}
	if s.Stats().ShellsOpen != 0 {
		t.Error("shell still counted after Delete")
	}
}

func TestCommandRequestReachesHandler(t *testing.T) {
	got := make(chan winrmemu.CommandRequest, 1)
	h := winrmemu.FuncHandler(func(ctx context.Context, req winrmemu.CommandRequest, stdout, stderr io.Writer, stdin io.Reader) int {
		got <- req
		return 0
	})
	s := startServer(t, winrmemu.Config{AllowUnencrypted: true, Handler: h, Users: map[string]string{"Administrator": "pw"}})
	c := newRawClient(t, s)
	c.user, c.pass = `WIN-EMU\administrator`, "pw"
	shell := c.createShell()
	r, _ := c.post(aCommand, shell, "PT5S", `<rsp:CommandLine><rsp:Command><![CDATA[powershell.exe]]></rsp:Command><rsp:Arguments>-NoProfile</rsp:Arguments><rsp:Arguments><![CDATA[-Command "a & b"]]></rsp:Arguments></rsp:CommandLine>`)
	if r.Status != 200 {
		t.Fatalf("command: %+v", r)
	}
	req := <-got
	if req.User != "Administrator" || req.ShellID != shell || req.CommandID != r.CommandID ||
		req.Command != "powershell.exe" || len(req.Arguments) != 2 || req.Arguments[1] != `-Command "a & b"` {
		t.Errorf("handler got %+v", req)
	}
}

func TestCloseJoinsRunningCommands(t *testing.T) {
	var running, returned atomic.Int32
	h := winrmemu.FuncHandler(func(ctx context.Context, req winrmemu.CommandRequest, stdout, stderr io.Writer, stdin io.Reader) int {
		running.Add(1)
		defer returned.Add(1)
		<-ctx.Done()
		return 0
	})
	s, err := winrmemu.New(winrmemu.Config{AllowUnencrypted: true, Handler: h, Users: map[string]string{testUser: testPass}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := newRawClient(t, s)
	shell := c.createShell()
	cmd := c.command(shell, "a")
	c.command(shell, "b")
	// A Receive blocked in the server must not hold up Close either.
	blocked := newRawClient(t, s)
	req, _, err := blocked.request(aReceive, shell, "PT60S", `<rsp:Receive><rsp:DesiredStream CommandId="`+cmd+`">stdout stderr</rsp:DesiredStream></rsp:Receive>`)
	if err != nil {
		t.Fatal(err)
	}
	recvErr := make(chan error, 1)
	go func() {
		r, err := blocked.do(req)
		if err == nil {
			err = fmt.Errorf("answered %d %s %s", r.Status, r.FaultCode, r.FaultText)
		}
		recvErr <- err
	}()
	// Wait until the Receive is inside the server.
	waitFor(t, func() bool { return s.Stats().Requests >= 4 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if running.Load() != 2 || returned.Load() != 2 {
		t.Errorf("Close returned with %d of %d commands still running", running.Load()-returned.Load(), running.Load())
	}
	if err := <-recvErr; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("the blocked Receive must lose its connection when the server closes, got %v", err)
	}
}
