package ssh

import (
	"testing"
	"time"
)

func TestParseProxyJump(t *testing.T) {
	kh := &KnownHosts{}
	target := Config{Address: "web1", User: "deploy", Password: "pw", KeyFiles: []string{"/k"}, AgentSocket: "/a",
		HostKeys: kh, ConnectTimeout: time.Second}
	type hop struct {
		user, addr string
		port       int
	}
	tests := []struct {
		spec    string
		want    []hop // nearest hop first
		wantErr bool
	}{
		{spec: "bastion", want: []hop{{"deploy", "bastion", 0}}},
		{spec: "ops@bastion:2222", want: []hop{{"ops", "bastion", 2222}}},
		{spec: "ssh://ops@bastion:2200", want: []hop{{"ops", "bastion", 2200}}},
		{spec: "[2001:db8::1]:22", want: []hop{{"deploy", "2001:db8::1", 22}}},
		{spec: "2001:db8::1", want: []hop{{"deploy", "2001:db8::1", 0}}},
		{spec: "a@outer, inner:2022", want: []hop{{"a", "outer", 0}, {"deploy", "inner", 2022}}},
		{spec: "bastion:notaport", wantErr: true},
		{spec: "bastion:0", wantErr: true},
		{spec: "a,,b", wantErr: true},
		{spec: "user@", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseProxyJump(tt.spec, target)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Walk from the last hop (the one the target dials through) back.
			for i := len(tt.want) - 1; i >= 0; i-- {
				w := tt.want[i]
				if got == nil {
					t.Fatalf("chain too short at hop %d", i)
				}
				if got.User != w.user || got.Address != w.addr || got.Port != w.port {
					t.Errorf("hop %d = %s@%s:%d, want %s@%s:%d", i, got.User, got.Address, got.Port, w.user, w.addr, w.port)
				}
				if got.Password != "" || got.HostKeys != kh || len(got.KeyFiles) != 1 || got.AgentSocket != "/a" || got.ConnectTimeout != time.Second {
					t.Errorf("hop %d did not inherit keys/agent/known_hosts (or inherited the password): %#v", i, got)
				}
				got = got.Jump
			}
			if got != nil {
				t.Errorf("chain longer than %d hops", len(tt.want))
			}
		})
	}
}
