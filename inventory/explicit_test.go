package inventory

import "testing"

// connect lets ~/.ssh/config fill exactly the keys not marked here; a key
// marked by mistake silently ignores the user's ssh config, a key left
// unmarked lets ssh config override what the inventory says.
func TestExplicitKeysPerFormat(t *testing.T) {
	const (
		addr = ExplicitAddress
		user = ExplicitUser
		port = ExplicitPort
		key  = ExplicitSSHKey
		jump = ExplicitProxyJump
	)
	tests := []struct {
		name    string
		file    string
		content string
		want    map[string]ExplicitKeys
	}{
		{
			name: "patchrun yaml: host entry, groups and defaults all count",
			file: "inventory.yaml",
			content: `defaults:
  proxy_jump: ops@bastion:22
hosts:
  - name: full
    address: 10.0.0.5
    user: deploy
    port: 2222
    ssh_key: ~/.ssh/id_ed25519
  - name: grouped
groups:
  web: [grouped]
`,
			want: map[string]ExplicitKeys{"full": addr | user | port | key | jump, "grouped": jump},
		},
		{
			name: "patchrun yaml: nothing set means nothing explicit",
			file: "inventory.yaml",
			content: `hosts:
  - name: web1
  - name: win1
    transport: winrm
    ssh_key: ~/.ssh/id_ed25519
`,
			// A WinRM host never uses ssh_key, so it is not marked.
			want: map[string]ExplicitKeys{"web1": 0, "win1": 0},
		},
		{
			name: "patchrun yaml: an inherited port of the other transport is not used, so not explicit",
			file: "inventory.yaml",
			content: `defaults:
  port: 5986
  transport: winrm
hosts:
  - name: lin1
    transport: ssh
  - name: win1
`,
			want: map[string]ExplicitKeys{"lin1": 0, "win1": port},
		},
		{
			name: "ansible yaml",
			file: "hosts.yml",
			content: `all:
  vars:
    ansible_ssh_common_args: -J jumper@bastion
  children:
    web:
      vars:
        ansible_user: deploy
      hosts:
        web01:
          ansible_host: 10.0.0.1
          ansible_ssh_private_key_file: ~/.ssh/id_ed25519
        db1:2345:
`,
			want: map[string]ExplicitKeys{"web01": addr | user | key | jump, "db1": user | port | jump},
		},
		{
			name: "ansible ini",
			file: "hosts.ini",
			content: `plain
[web]
web01 ansible_host=10.0.0.1 ansible_port=2200
web02 ansible_ssh_user=ops
[web:vars]
ansible_private_key_file=~/.ssh/id_ed25519
`,
			want: map[string]ExplicitKeys{"plain": 0, "web01": addr | port | key, "web02": user | key},
		},
		{
			name:    "plain list: only a port written as host:port",
			file:    "hosts.txt",
			content: "web1\nweb2:2222\n",
			want:    map[string]ExplicitKeys{"web1": 0, "web2": port},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.write("~/.ssh/id_ed25519", "key", 0o600)
			inv, err := f.load(tt.file, tt.content)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := hostByName(t, inv.Hosts, name).Explicit; got != want {
					t.Errorf("%s: explicit = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestExplicitKeysString(t *testing.T) {
	tests := []struct {
		e    ExplicitKeys
		want string
	}{
		{0, ""},
		{ExplicitAddress | ExplicitPort, "address,port"},
		{ExplicitUser | ExplicitSSHKey | ExplicitProxyJump, "user,ssh_key,proxy_jump"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("%d.String() = %q, want %q", uint8(tt.e), got, tt.want)
		}
	}
	if (ExplicitAddress).Has(ExplicitAddress|ExplicitUser) || !(ExplicitAddress | ExplicitUser).Has(ExplicitUser) {
		t.Error("Has must require every key asked about")
	}
}
