package fleet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/patchrun/patchrun/lease"
)

// The SSH side of a host: accept loop, handshake (with the auth, host-key
// and reset faults), session channels running "exec" requests through the
// mini-shell.

var errDenied = errors.New("permission denied")

func (h *SimHost) acceptLoop(bootCtx context.Context, ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || bootCtx.Err() != nil {
				return
			}
			// EMFILE and friends: back off briefly rather than spin.
			if !sleepCtx(bootCtx, 5*time.Millisecond) {
				return
			}
			continue
		}
		h.f.goTracked(func() { h.serveConn(bootCtx, nc) })
	}
}

// trackConn registers nc so a power-off can drop it; false if the boot is
// already over.
func (h *SimHost) trackConn(bootCtx context.Context, nc net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if bootCtx.Err() != nil || !h.up {
		return false
	}
	h.conns[nc] = struct{}{}
	return true
}

func (h *SimHost) untrackConn(nc net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, nc)
}

// resetConn closes with RST instead of FIN, as a busy sshd's dropped
// handshake looks to the client.
func resetConn(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	nc.Close()
}

func (h *SimHost) serveConn(bootCtx context.Context, nc net.Conn) {
	if !h.trackConn(bootCtx, nc) {
		resetConn(nc)
		return
	}
	defer h.untrackConn(nc)
	defer nc.Close()
	if h.takeHandshakeReset() {
		h.logf("handshake reset (MaxStartups fault)")
		resetConn(nc)
		return
	}
	_ = nc.SetDeadline(time.Now().Add(h.f.cfg.HandshakeTimeout))
	_, chans, reqs, err := ssh.NewServerConn(nc, h.serverConfig())
	if err != nil {
		return
	}
	_ = nc.SetDeadline(time.Time{})

	connCtx, cancel := context.WithCancel(bootCtx)
	defer cancel()
	sess := &session{bgCtx: bootCtx, drop: func() { resetConn(nc) }}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ssh.DiscardRequests(reqs) // keepalives get a "failure" reply, as from OpenSSH
	}()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "unknown channel type")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.serveSession(connCtx, sess, ch, creqs)
		}()
	}
	cancel() // the connection is gone: running commands die with it
	wg.Wait()
}

// serverConfig is built per connection so fault changes apply to the next
// handshake.
func (h *SimHost) serverConfig() *ssh.ServerConfig {
	f := h.Faults()
	user, pass := h.f.cfg.User, h.f.cfg.Password
	clientKey := h.f.clientSigner.PublicKey().Marshal()
	cfg := &ssh.ServerConfig{
		ServerVersion: h.sshdVersion(),
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if f.RejectAuth || c.User() != user || !bytes.Equal(key.Marshal(), clientKey) {
				return nil, errDenied
			}
			return &ssh.Permissions{}, nil
		},
	}
	if pass != "" {
		cfg.PasswordCallback = func(c ssh.ConnMetadata, p []byte) (*ssh.Permissions, error) {
			if f.RejectAuth || c.User() != user || string(p) != pass {
				return nil, errDenied
			}
			return &ssh.Permissions{}, nil
		}
	}
	key := h.hostKey
	if f.ChangedHostKey {
		key = h.altKey
	}
	cfg.AddHostKey(key)
	return cfg
}

func (h *SimHost) sshdVersion() string {
	switch h.prof.distro {
	case Debian12:
		return "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7"
	case Ubuntu2404:
		return "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.13"
	case Rocky9:
		return "SSH-2.0-OpenSSH_8.7"
	}
	return "SSH-2.0-OpenSSH_8.4"
}

// serveSession handles one session channel: env and pty requests, then one
// exec (or shell, which runs stdin as a script).
func (h *SimHost) serveSession(connCtx context.Context, sess *session, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	ctx, cancel := context.WithCancel(connCtx)
	var wg sync.WaitGroup
	env := map[string]string{}
	started := false
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) == nil && validName(kv.Name) {
				env[kv.Name] = kv.Value
			}
			_ = req.Reply(true, nil)
		case "pty-req", "window-change":
			_ = req.Reply(true, nil)
		case "exec", "shell":
			var cmd struct{ Command string }
			if req.Type == "exec" && ssh.Unmarshal(req.Payload, &cmd) != nil || started {
				_ = req.Reply(false, nil)
				continue
			}
			if req.Type == "shell" {
				cmd.Command = "sh -s"
			}
			started = true
			_ = req.Reply(true, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.runExec(ctx, sess, cmd.Command, env, ch)
			}()
		case "signal":
			cancel() // TERM/KILL/INT all end the command here
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
	cancel()
	wg.Wait()
}

// runExec runs one command line and reports its exit status, unless the
// connection died under it (then there is nothing to report, as with a
// real host that went away).
func (h *SimHost) runExec(ctx context.Context, sess *session, line string, env map[string]string, ch ssh.Channel) {
	defer ch.Close()
	h.recordCommand(line)
	if !sleepCtx(ctx, h.f.cfg.Latency+h.Faults().Latency) {
		return
	}
	var code int
	run := func(line string) int {
		return h.newShell(sess, env).runLine(ctx, line, stdio{in: ch, out: ch, err: ch.Stderr()})
	}
	if req, ok := lease.ParseUnixCommand(line); ok {
		// The lease script is answered by the host's lease file, not
		// interpreted: the mini-shell has no if, case or functions.
		print := func(s string) { _, _ = io.WriteString(ch, s) }
		if req.Then != "" {
			code = h.lock.UnixWrapped(req, print, run)
		} else {
			print(h.lock.UnixAnswer(req))
		}
	} else {
		code = run(line)
	}
	if sess.dropped.Load() || ctx.Err() != nil {
		return
	}
	_ = ch.CloseWrite()
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
}
