package winrmemu

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// outcome is the SOAP answer to one request, before sealing.
type outcome struct {
	status int
	body   []byte
	drop   bool // close the TCP connection instead of answering
}

func (s *Server) ok(req *request, action, body string) outcome {
	return outcome{status: http.StatusOK, body: envelope(action, req.Header.MessageID, body)}
}

func (s *Server) fault(relatesTo string, f *Fault) outcome {
	return outcome{status: http.StatusInternalServerError, body: f.envelope(relatesTo, s.cfg.ComputerName)}
}

// dispatch runs one WS-Man operation for an authenticated user.
func (s *Server) dispatch(ctx context.Context, user string, payload []byte, faults Faults) outcome {
	req, err := parseRequest(payload)
	if err != nil {
		return s.fault("", faultSchema(err.Error()))
	}
	if len(payload) > s.cfg.MaxEnvelopeSize {
		return s.fault(req.Header.MessageID, faultEncodingLimit())
	}

	s.mu.Lock()
	if s.ops[user] >= s.cfg.MaxConcurrentOperationsPerUser {
		s.mu.Unlock()
		return s.fault(req.Header.MessageID, faultMaxOperations(s.cfg.MaxConcurrentOperationsPerUser))
	}
	s.ops[user]++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.ops[user]--
		s.mu.Unlock()
	}()

	switch req.Header.Action {
	case actionDelete, actionCommand, actionReceive, actionSend, actionSignal:
		// The selector is checked before the body, as Windows does: after a
		// reboot every old shell id answers InvalidSelectors.
		s.mu.Lock()
		sh := s.shellForLocked(req, user)
		s.mu.Unlock()
		if sh == nil {
			return s.fault(req.Header.MessageID, faultInvalidSelectors())
		}
	}
	switch req.Header.Action {
	case actionCreate:
		return s.createShell(req, user, faults)
	case actionDelete:
		return s.deleteShell(req, user)
	case actionCommand:
		return s.startCommand(req, user)
	case actionReceive:
		return s.receive(ctx, req, user, faults)
	case actionSend:
		return s.send(req, user)
	case actionSignal:
		return s.signal(req, user)
	default:
		return s.fault(req.Header.MessageID, faultActionNotSupported(req.Header.Action))
	}
}

func (s *Server) createShell(req *request, user string, faults Faults) outcome {
	switch {
	case faults.DenyAccess:
		return s.fault(req.Header.MessageID, faultAccessDenied())
	case faults.ShellQuotaExceeded:
		return s.fault(req.Header.MessageID, faultMaxShells(s.cfg.MaxShellsPerUser))
	}
	sh := &shell{id: newUUID(), user: user, commands: map[string]*command{}}
	if b := req.Body.Shell; b != nil {
		sh.workdir = strings.TrimSpace(b.WorkingDirectory)
		if len(b.Variables) > 0 {
			sh.env = map[string]string{}
			for _, v := range b.Variables {
				sh.env[v.Name] = v.Value
			}
		}
	}
	s.mu.Lock()
	n := 0
	for _, other := range s.shells {
		if other.user == user {
			n++
		}
	}
	if n >= s.cfg.MaxShellsPerUser {
		s.mu.Unlock()
		return s.fault(req.Header.MessageID, faultMaxShells(s.cfg.MaxShellsPerUser))
	}
	s.shells[sh.id] = sh
	s.mu.Unlock()
	s.stats.shellsCreated.Add(1)

	body := `<x:ResourceCreated><a:Address>` + esc(s.URL()) + `</a:Address><a:ReferenceParameters>` +
		`<w:ResourceURI>` + uriCmdShell + `</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">` + sh.id +
		`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
		`<rsp:Shell><rsp:ShellId>` + sh.id + `</rsp:ShellId><rsp:ResourceUri>` + uriCmdShell + `</rsp:ResourceUri>` +
		`<rsp:Owner>` + esc(user) + `</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>` +
		`<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>` +
		`<rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>` +
		`<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`
	return s.ok(req, actionCreateResponse, body)
}

// shellFor finds the request's shell for user; nil means InvalidSelectors.
// Callers hold s.mu.
func (s *Server) shellForLocked(req *request, user string) *shell {
	sh := s.shells[req.shellID()]
	if sh == nil || sh.user != user {
		return nil
	}
	return sh
}

func (s *Server) deleteShell(req *request, user string) outcome {
	s.mu.Lock()
	sh := s.shellForLocked(req, user)
	if sh == nil {
		s.mu.Unlock()
		return s.fault(req.Header.MessageID, faultInvalidSelectors())
	}
	for _, c := range sh.commands {
		c.terminate(SignalTerminate)
	}
	delete(s.shells, sh.id)
	s.mu.Unlock()
	return s.ok(req, actionDeleteResponse, "")
}

func (s *Server) startCommand(req *request, user string) outcome {
	cl := req.Body.CommandLine
	if cl == nil {
		return s.fault(req.Header.MessageID, faultSchema("missing rsp:CommandLine"))
	}
	s.mu.Lock()
	sh := s.shellForLocked(req, user)
	s.mu.Unlock()
	if sh == nil {
		return s.fault(req.Header.MessageID, faultInvalidSelectors())
	}
	cr := CommandRequest{
		ShellID:          sh.id,
		CommandID:        newUUID(),
		User:             user,
		Command:          strings.TrimSpace(cl.Command),
		Arguments:        cl.Arguments,
		Env:              sh.env,
		WorkingDirectory: sh.workdir,
	}
	cctx, cancel := context.WithCancel(s.baseCtx)
	proc, err := s.cfg.Handler.Start(cctx, cr)
	if err != nil {
		cancel()
		return s.fault(req.Header.MessageID, &Fault{"s:Receiver", "w:InternalError", err.Error(), 2147500037})
	}
	c := newCommand(cr.CommandID, proc, cancel)

	s.mu.Lock()
	if s.closed || s.shells[sh.id] != sh {
		// The host went down or the shell was deleted while we started.
		s.mu.Unlock()
		c.terminate(SignalTerminate)
		s.drainDetached(c)
		return s.fault(req.Header.MessageID, faultInvalidSelectors())
	}
	sh.commands[c.id] = c
	for _, f := range c.pumps() {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			f()
		}()
	}
	s.mu.Unlock()
	s.stats.commands.Add(1)
	return s.ok(req, actionCommandResponse, `<rsp:CommandResponse><rsp:CommandId>`+c.id+`</rsp:CommandId></rsp:CommandResponse>`)
}

// drainDetached runs a terminated command's pumps inline so its process is
// reaped even though no shell holds it.
func (s *Server) drainDetached(c *command) {
	fs := c.pumps()
	done := make(chan struct{}, len(fs)-1)
	for _, f := range fs[:len(fs)-1] {
		go func() { f(); done <- struct{}{} }()
	}
	fs[len(fs)-1]() // waits for the stream pumps itself
	for range len(fs) - 1 {
		<-done
	}
}

func (s *Server) commandFor(req *request, user, id string) (*command, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shellForLocked(req, user)
	if sh == nil {
		return nil, false
	}
	return sh.commands[id], true
}

func (s *Server) receive(ctx context.Context, req *request, user string, faults Faults) outcome {
	rc := req.Body.Receive
	if rc == nil {
		return s.fault(req.Header.MessageID, faultSchema("missing rsp:Receive"))
	}
	c, ok := s.commandFor(req, user, rc.DesiredStream.CommandID)
	if !ok || c == nil {
		return s.fault(req.Header.MessageID, faultInvalidSelectors())
	}
	s.mu.Lock()
	drop := s.faults.DropReceives > 0
	if drop {
		s.faults.DropReceives--
	}
	s.mu.Unlock()
	if drop {
		return outcome{drop: true}
	}
	timeout := req.operationTimeout(s.cfg.DefaultOperationTimeout)
	if faults.ReceiveDelay > 0 {
		t := time.NewTimer(faults.ReceiveDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return outcome{drop: true}
		}
		timeout -= faults.ReceiveDelay
	}
	res, err := c.receive(ctx, max(timeout, 0), s.maxOutput(req))
	// A command killed by a reboot, Close, Delete or terminate must not
	// look like one that finished: a client would trust its exit code.
	s.mu.Lock()
	down := s.closed || s.down
	sh := s.shellForLocked(req, user)
	current := sh != nil && sh.commands[c.id] == c
	s.mu.Unlock()
	switch {
	case down:
		return outcome{drop: true}
	case !current:
		return s.fault(req.Header.MessageID, faultInvalidSelectors())
	}
	switch {
	case errors.Is(err, errReceiveTimeout):
		s.stats.timedOut.Add(1)
		return s.fault(req.Header.MessageID, faultTimedOut())
	case err != nil:
		return outcome{drop: true} // the client went away or the server is closing
	}
	return s.ok(req, actionReceiveResponse, receiveBody(c.id, res))
}

// maxOutput bounds the raw bytes in one ReceiveResponse so that, base64
// encoded, it fits the client's MaxEnvelopeSize with room for the envelope.
func (s *Server) maxOutput(req *request) int {
	env, err := strconv.Atoi(strings.TrimSpace(req.Header.MaxEnvelopeSize))
	if err != nil || env <= 0 {
		env = 153600
	}
	return max((env-4096)*3/4, 1024)
}

func receiveBody(id string, r receiveResult) string {
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	stream := func(name string, data []byte, end bool) {
		b.WriteString(`<rsp:Stream Name="` + name + `" CommandId="` + id + `"`)
		if end {
			b.WriteString(` End="true"`)
		}
		b.WriteString(`>` + base64.StdEncoding.EncodeToString(data) + `</rsp:Stream>`)
	}
	if len(r.stdout) > 0 {
		stream("stdout", r.stdout, false)
	}
	if len(r.stderr) > 0 {
		stream("stderr", r.stderr, false)
	}
	if r.done {
		stream("stdout", nil, true)
		stream("stderr", nil, true)
		b.WriteString(`<rsp:CommandState CommandId="` + id + `" State="` + stateDone + `"><rsp:ExitCode>` +
			strconv.Itoa(r.exitCode) + `</rsp:ExitCode></rsp:CommandState>`)
	} else {
		b.WriteString(`<rsp:CommandState CommandId="` + id + `" State="` + stateRunning + `"/>`)
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	return b.String()
}

func (s *Server) send(req *request, user string) outcome {
	sd := req.Body.Send
	if sd == nil {
		return s.fault(req.Header.MessageID, faultSchema("missing rsp:Send"))
	}
	for _, st := range sd.Streams {
		if st.Name != "stdin" {
			continue
		}
		c, ok := s.commandFor(req, user, st.CommandID)
		if !ok || c == nil {
			return s.fault(req.Header.MessageID, faultInvalidSelectors())
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			return s.fault(req.Header.MessageID, faultSchema("stdin is not base64"))
		}
		in := c.proc.Stdin()
		if len(data) > 0 {
			_, _ = in.Write(data) // a process that stopped reading loses its input, as on Windows
		}
		if strings.EqualFold(st.End, "true") {
			_ = in.Close()
		}
	}
	return s.ok(req, actionSendResponse, `<rsp:SendResponse/>`)
}

func (s *Server) signal(req *request, user string) outcome {
	sg := req.Body.Signal
	if sg == nil {
		return s.fault(req.Header.MessageID, faultSchema("missing rsp:Signal"))
	}
	s.mu.Lock()
	sh := s.shellForLocked(req, user)
	if sh == nil {
		s.mu.Unlock()
		return s.fault(req.Header.MessageID, faultInvalidSelectors())
	}
	c := sh.commands[sg.CommandID]
	sig := Signal(strings.TrimSpace(sg.Code))
	if c != nil && sig == SignalTerminate {
		delete(sh.commands, c.id)
	}
	s.mu.Unlock()
	// Signalling a command that already ended and was cleaned up is
	// harmless, and clients do it routinely (masterzen after every Run).
	if c != nil {
		c.terminate(sig)
	}
	return s.ok(req, actionSignalResponse, `<rsp:SignalResponse/>`)
}
