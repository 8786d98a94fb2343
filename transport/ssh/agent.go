package ssh

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// WindowsAgentPipe is where the OpenSSH ssh-agent service that ships with
// Windows listens; ssh.exe uses it when SSH_AUTH_SOCK is not set.
const WindowsAgentPipe = `\\.\pipe\openssh-ssh-agent`

// agentEndpoint is how to reach an ssh-agent: a Unix socket or a Windows
// named pipe.
type agentEndpoint struct {
	pipe    bool // a named pipe (Windows only); otherwise a Unix socket
	address string
}

func (e agentEndpoint) String() string {
	if e.pipe {
		return "named pipe " + e.address
	}
	return e.address
}

// agentEndpointFor picks the agent for goos from SSH_AUTH_SOCK as the user
// set it, as OpenSSH does on that OS. On Unix "" means no agent and any
// value is a socket path. On Windows "" means the OpenSSH agent service's
// pipe, a \\.\pipe\ path names another pipe, and anything else is a Unix
// socket path (Windows 10 has them; agents bridged from WSL or Cygwin use
// them).
func agentEndpointFor(goos, sshAuthSock string) (agentEndpoint, bool) {
	if goos != "windows" {
		return agentEndpoint{address: sshAuthSock}, sshAuthSock != ""
	}
	switch {
	case sshAuthSock == "":
		return agentEndpoint{pipe: true, address: WindowsAgentPipe}, true
	case isPipePath(sshAuthSock):
		return agentEndpoint{pipe: true, address: sshAuthSock}, true
	}
	return agentEndpoint{address: sshAuthSock}, true
}

// isPipePath reports whether p names a local Windows named pipe, written
// with either slash (\\.\pipe\name or //./pipe/name), in any case.
func isPipePath(p string) bool {
	p = strings.ReplaceAll(p, "/", `\`)
	const prefix = `\\.\pipe\`
	return len(p) > len(prefix) && strings.EqualFold(p[:len(prefix)], prefix)
}

// dialAgent connects to the agent at e.
func dialAgent(ctx context.Context, e agentEndpoint) (net.Conn, error) {
	if e.pipe {
		conn, err := dialPipe(ctx, e.address)
		if err != nil {
			return nil, fmt.Errorf("ssh-agent at %s (is the ssh-agent service running? Get-Service ssh-agent): %w", e, err)
		}
		return conn, nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", e.address)
	if err != nil {
		return nil, fmt.Errorf("ssh-agent at %s: %w", e, err)
	}
	return conn, nil
}
