package ssh

import (
	"context"
	"strings"
	"testing"
)

// Which agent a workstation reaches, for each OS and SSH_AUTH_SOCK, as
// OpenSSH on that OS would: tested on any OS, since the choice is made from
// the OS name.
func TestAgentEndpointFor(t *testing.T) {
	tests := []struct {
		goos, sock string
		want       string // "" means no agent
	}{
		{"linux", "", ""},
		{"linux", "/run/user/1000/ssh-agent.sock", "/run/user/1000/ssh-agent.sock"},
		{"darwin", "/private/tmp/com.apple.launchd.x/Listeners", "/private/tmp/com.apple.launchd.x/Listeners"},
		// On Unix a backslashed name is just an odd file name.
		{"linux", `\\.\pipe\openssh-ssh-agent`, `\\.\pipe\openssh-ssh-agent`},
		{"windows", "", `named pipe \\.\pipe\openssh-ssh-agent`},
		{"windows", `\\.\pipe\openssh-ssh-agent`, `named pipe \\.\pipe\openssh-ssh-agent`},
		{"windows", `\\.\pipe\pageant.me.1234`, `named pipe \\.\pipe\pageant.me.1234`},
		{"windows", `\\.\PIPE\Agent`, `named pipe \\.\PIPE\Agent`},
		{"windows", `//./pipe/openssh-ssh-agent`, `named pipe //./pipe/openssh-ssh-agent`},
		{"windows", `C:\Users\me\.ssh\agent.sock`, `C:\Users\me\.ssh\agent.sock`},
		{"windows", `/tmp/ssh-XXXX/agent.42`, `/tmp/ssh-XXXX/agent.42`},
		{"windows", `\\.\pipe\`, `\\.\pipe\`},
	}
	for _, tt := range tests {
		ep, ok := agentEndpointFor(tt.goos, tt.sock)
		got := ""
		if ok {
			got = ep.String()
		}
		if got != tt.want {
			t.Errorf("%s with SSH_AUTH_SOCK=%q: agent %q, want %q", tt.goos, tt.sock, got, tt.want)
		}
	}
}

// An agent that is not there is named in the error, pipe or socket.
func TestDialAgentErrorNamesEndpoint(t *testing.T) {
	for _, ep := range []agentEndpoint{{address: t.TempDir() + "/none.sock"}, {pipe: true, address: WindowsAgentPipe + "-not-there"}} {
		_, err := dialAgent(context.Background(), ep)
		if err == nil || !strings.Contains(err.Error(), ep.String()) {
			t.Errorf("dial %s: err %v, want one naming it", ep, err)
		}
	}
}
