package ssh

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSSHConfig(t *testing.T) {
	const config = `
# global defaults come first in many real files
IdentityFile ~/.ssh/id_global

Host web? !web9
    HostName %h.internal.example
    User deploy
    Port 2222
    IdentityFile "/keys/web key"

Host web* db*
    User fallback
    Port=2200
    ProxyJump ops@bastion:22
    IdentityFile /keys/%h

Match host db1
    User never-used

Host legacy
    ProxyJump none
    User = old

Host *
    User everyone
    Port 22
`
	tests := []struct {
		host string
		want SSHConfigEntry
	}{
		{host: "web1", want: SSHConfigEntry{HostName: "web1.internal.example", User: "deploy", Port: 2222,
			ProxyJump: "ops@bastion:22", IdentityFiles: []string{"~/.ssh/id_global", "/keys/web key", "/keys/%h"}}},
		{host: "web9", want: SSHConfigEntry{User: "fallback", Port: 2200, ProxyJump: "ops@bastion:22",
			IdentityFiles: []string{"~/.ssh/id_global", "/keys/%h"}}},
		{host: "db1", want: SSHConfigEntry{User: "fallback", Port: 2200, ProxyJump: "ops@bastion:22",
			IdentityFiles: []string{"~/.ssh/id_global", "/keys/%h"}}},
		{host: "legacy", want: SSHConfigEntry{User: "old", Port: 22, IdentityFiles: []string{"~/.ssh/id_global"}}},
		{host: "other", want: SSHConfigEntry{User: "everyone", Port: 22, IdentityFiles: []string{"~/.ssh/id_global"}}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, err := ParseSSHConfig(strings.NewReader(config), tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if got.HostName != tt.want.HostName || got.User != tt.want.User || got.Port != tt.want.Port ||
				got.ProxyJump != tt.want.ProxyJump || !slices.Equal(got.IdentityFiles, tt.want.IdentityFiles) {
				t.Errorf("ParseSSHConfig(%s) =\n %+v\nwant\n %+v", tt.host, got, tt.want)
			}
		})
	}
}

func TestParseSSHConfigErrors(t *testing.T) {
	for _, config := range []string{
		"Host x\n  Port notanumber\n",
		"Host x\n  Port 70000\n",
		"Host x\n  IdentityFile \"/unterminated\n",
	} {
		if _, err := ParseSSHConfig(strings.NewReader(config), "x"); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("ParseSSHConfig(%q) err = %v, want an error naming line 2", config, err)
		}
	}
}
