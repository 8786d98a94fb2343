package inventory

import (
	"reflect"
	"strings"
	"testing"
)

// Names, addresses and users that cannot be real (control characters, a
// pasted user@host:port, a shell command, a 10 000-character name) are
// refused at load, naming file, line and key, with the value escaped.
func TestHostValuesValidated(t *testing.T) {
	long := strings.Repeat("a", 10000)
	cases := []struct {
		name, file, content string
		want                []string
	}{
		{"user@host:port as a name", "inventory.yaml", "hosts:\n  - name: \"x@y:22\"\n",
			[]string{`inventory.yaml:2: hosts[0].name: name "x@y:22" contains @ (a name is not user@host; set user: and address: separately) (hint: use the host's short name; put the real address in address:)`}},
		{"host:port as a name", "inventory.yaml", "hosts:\n  - name: \"y:22\"\n",
			[]string{`inventory.yaml:2: hosts[0].name: name "y:22" contains : (a name is not host:port; set port: separately) (hint: use the host's short name; put the real address in address:)`}},
		{"control character in a name", "inventory.yaml", "hosts:\n  - name: \"web\\e[2J\"\n  - name: \"nul\\0\"\n",
			[]string{
				`inventory.yaml:2: hosts[0].name: name "web\x1b[2J" contains the control character U+001B (hint: use the host's short name; put the real address in address:)`,
				`inventory.yaml:3: hosts[1].name: name "nul\x00" contains the control character U+0000 (hint: use the host's short name; put the real address in address:)`,
			}},
		{"huge name", "inventory.yaml", "hosts:\n  - name: " + long + "\n",
			[]string{`inventory.yaml:2: hosts[0].name: name is 10000 characters long (at most 255) (hint: use the host's short name; put the real address in address:)`}},
		{"shell in ansible_host", "hosts.ini", "[web]\nw1 ansible_host=\"10.0.0.1 ; rm -rf /\"\n",
			[]string{`hosts.ini:2: w1.ansible_host: address "10.0.0.1 ; rm -rf /" contains ' ' (want a host name, an IPv4 or an IPv6 address) (hint: write only the host: user, port and options have their own keys)`}},
		{"address with port", "inventory.yaml", "hosts:\n  - name: a\n    address: 10.0.0.1:22\n",
			[]string{`inventory.yaml:3: hosts[0].address: address "10.0.0.1:22" contains ':' (want a host name, an IPv4 or an IPv6 address) (hint: write only the host: user, port and options have their own keys)`}},
		{"address starting with -", "inventory.yaml", "hosts:\n  - name: a\n    address: -oProxyCommand\n",
			[]string{`inventory.yaml:3: hosts[0].address: address "-oProxyCommand" has a label starting with - (want a host name, an IPv4 or an IPv6 address) (hint: write only the host: user, port and options have their own keys)`}},
		{"terminal escape as user", "inventory.yaml", "defaults:\n  user: \"\\e[2J\"\nhosts: [a]\n",
			[]string{`inventory.yaml:2: defaults.user: "\x1b[2J" contains the control character U+001B (hint: remove the control character)`}},
		{"shell in a user", "hosts.ini", "[web]\nw1 ansible_user='root;id'\n",
			[]string{"hosts.ini:2: w1.ansible_user: user \"root;id\" contains one of `$;|&<>(){}'\"*?!# (hint: write the login name alone)"}},
		{"space in a unix user", "inventory.yaml", "hosts:\n  - name: a\n    user: john smith\n",
			[]string{`inventory.yaml:3: hosts[0].user: user "john smith" contains whitespace (hint: write the login name alone)`}},
		{"port out of range", "inventory.yaml", "hosts:\n  - name: a\n    port: 0\n",
			[]string{`inventory.yaml:3: hosts[0].port: bad port "0" (hint: a number from 1 to 65535)`}},
		{"control character in a path", "inventory.yaml", "hosts:\n  - name: a\n    ssh_key: \"id\\a\"\n",
			[]string{`inventory.yaml:3: hosts[0].ssh_key: "id\a" contains the control character U+0007 (hint: remove the control character)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newFixture(t).load(tc.file, tc.content)
			if got := errorLines(err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// Real-world values stay accepted: IPv6 literals, underscores in internal
// DNS names, DOMAIN\user and Windows accounts with spaces.
func TestHostValuesAccepted(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("inventory.yaml", `hosts:
  - name: "2001:db8::1"
  - name: db_1
    address: db_1.corp.example.com.
    user: deploy.bot-1
  - name: win
    transport: winrm
    address: fe80::1%eth0
    user: CORP\Patch Admin
  - name: krb
    transport: winrm
    winrm_https: true
    winrm_auth: kerberos
    user: svc@CORP.EXAMPLE.COM
`)
	if h := hostByName(t, inv.Hosts, "win"); h.User != `CORP\Patch Admin` || h.Address != "fe80::1%eth0" {
		t.Errorf("win = %q at %q", h.User, h.Address)
	}
}

// A key from the file is echoed in errors with its control characters
// escaped, so a crafted inventory cannot drive the terminal.
func TestErrorKeysEscaped(t *testing.T) {
	_, err := newFixture(t).load("inventory.yaml", "hosts:\n  - name: a\n    \"x\\e]0;pwned\\a\": 1\n")
	want := []string{`inventory.yaml:3: hosts[0].x\x1b]0;pwned\x07: unknown key`}
	if got := errorLines(err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}

func TestProxyJumpCharactersChecked(t *testing.T) {
	_, err := newFixture(t).load("inventory.yaml", "hosts:\n  - name: a\n    proxy_jump: \"ops@gw;id\"\n  - name: b\n    proxy_jump: ssh://ops@[2001:db8::1]:2222,bastion\n")
	want := []string{"inventory.yaml:3: hosts[0].proxy_jump: proxy jump \"ops@gw;id\" contains one of `$;|&<>(){}'\"*?!# (hint: write it as \"user@jumphost:22\", hops separated by commas)"}
	if got := errorLines(err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}
