package inventory

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Every mistake a user can make in a file comes back naming file, line and
// key, with a hint. The expected texts are what the user reads.
func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		content string
		env     map[string]string
		files   map[string]string // extra files to create, name → content
		want    []string
	}{
		{
			name: "unknown key with did-you-mean",
			file: "inventory.yaml",
			content: `hosts:
  - name: a
  - name: b
  - name: c
  - name: d
    pasword: x
`,
			want: []string{`inventory.yaml:6: hosts[3].pasword: unknown key (hint: did you mean "password_env"?)`},
		},
		{
			name:    "unknown key close to a real one",
			file:    "inventory.yaml",
			content: "defaults:\n  host_key_polcy: strict\nhosts: [a]\n",
			want:    []string{`inventory.yaml:2: defaults.host_key_polcy: unknown key (hint: did you mean "host_key_policy"?)`},
		},
		{
			name:    "unknown top-level key",
			file:    "inventory.yaml",
			content: "defaults: {}\nhots:\n  - name: a\n",
			want: []string{
				`inventory.yaml:2: hots: unknown key (hint: did you mean "hosts"?)`,
			},
		},
		{
			name:    "unknown key with no close match",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: a\n    flavour: vanilla\n",
			want:    []string{`inventory.yaml:3: hosts[0].flavour: unknown key`},
		},
		{
			name: "bad values",
			file: "inventory.yaml",
			content: `hosts:
  - name: a
    port: 70000
  - name: b
    port: ssh
  - name: c
    host_key_policy: yolo
  - name: d
    connect_timeout: 30
  - name: e
    reboot_timeout: soon
  - name: f
    transport: rdp
  - name: g
    transport: winrm
    winrm_auth: credssp
  - name: h
    winrm_https: maybe
  - name: i
    connect_timeout: -5s
  - name: j
    transport: winrm
    winrm_encryption: always
  - name: k
    transport: wimrm
`,
			want: []string{
				`inventory.yaml:3: hosts[0].port: bad port "70000" (hint: a number from 1 to 65535)`,
				`inventory.yaml:5: hosts[1].port: bad port "ssh" (hint: a number from 1 to 65535)`,
				`inventory.yaml:7: hosts[2].host_key_policy: bad host_key_policy "yolo" (hint: use strict (default) or accept-new)`,
				`inventory.yaml:9: hosts[3].connect_timeout: bad duration "30" (hint: add a unit: "30s")`,
				`inventory.yaml:11: hosts[4].reboot_timeout: bad duration "soon" (hint: a Go duration such as "90s", "5m" or "1h30m")`,
				`inventory.yaml:13: hosts[5].transport: bad transport "rdp" (hint: use ssh (default) or winrm)`,
				`inventory.yaml:16: hosts[6].winrm_auth: bad winrm_auth "credssp" (hint: use ntlm (default), basic or kerberos)`,
				`inventory.yaml:18: hosts[7].winrm_https: bad boolean "maybe" (hint: use true or false)`,
				`inventory.yaml:20: hosts[8].connect_timeout: duration "-5s" must be positive (hint: remove the key to use the run's timeout)`,
				`inventory.yaml:23: hosts[9].winrm_encryption: bad winrm_encryption "always" (hint: use auto (default) or never)`,
				`inventory.yaml:25: hosts[10].transport: bad transport "wimrm" (hint: use ssh (default) or winrm; did you mean "winrm"?)`,
			},
		},
		{
			name:    "bad value in defaults reported once, at the defaults line",
			file:    "inventory.yaml",
			content: "defaults:\n  port: 0\nhosts: [a, b, c]\n",
			want:    []string{`inventory.yaml:2: defaults.port: bad port "0" (hint: a number from 1 to 65535)`},
		},
		{
			name:    "duplicate host names",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: web1\n  - name: web2\n  - name: web1\n",
			want:    []string{`inventory.yaml:4: hosts[2].name: duplicate host name "web1" (hint: host names must be unique; it was first defined at line 2)`},
		},
		{
			name:    "group naming an unknown host",
			file:    "inventory.yaml",
			content: "groups:\n  web: [web1, wbe2]\nhosts: [web1, web2]\n",
			want:    []string{`inventory.yaml:2: groups.web[1]: unknown host "wbe2" (hint: add it under hosts: or fix the name; did you mean "web2"?)`},
		},
		{
			name:    "group cycle",
			file:    "inventory.yaml",
			content: "groups:\n  a: [b]\n  b: [a]\nhosts: [h]\n",
			want:    []string{`inventory.yaml:3: groups.b[0]: group "a" is nested inside itself (hint: remove the cycle between groups)`},
		},
		{
			name:    "group named like a host",
			file:    "inventory.yaml",
			content: "groups:\n  web1: [web1]\nhosts: [web1]\n",
			want:    []string{`inventory.yaml:2: groups.web1: group has the same name as a host (hint: rename the group so --limit is unambiguous)`},
		},
		{
			name:    "missing ssh_key file",
			file:    "inventory.yaml",
			content: "defaults:\n  ssh_key: keys/nope\nhosts: [a]\n",
			want:    []string{`inventory.yaml:2: defaults.ssh_key: cannot use {dir}/keys/nope: no such file (hint: relative paths start at the inventory file's directory; remove ssh_key to use ssh-agent and ~/.ssh/config instead)`},
		},
		{
			name:    "ssh_key on a winrm-only host is not checked",
			file:    "inventory.yaml",
			content: "defaults:\n  ssh_key: keys/nope\n  password_env: PW\nhosts:\n  - {name: w, transport: winrm}\n",
			env:     map[string]string{"PW": "x"},
			want:    nil,
		},
		{
			name:    "missing winrm CA bundle",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: w\n    transport: winrm\n    winrm_https: true\n    winrm_ca_cert: ~/ca.pem\n",
			want:    []string{`inventory.yaml:5: hosts[0].winrm_ca_cert: cannot use {home}/ca.pem: no such file (hint: remove winrm_ca_cert to trust the system roots)`},
		},
		{
			name:    "inline password",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: w\n    password: hunter2\n",
			want:    []string{`inventory.yaml:3: hosts[0].password: inline passwords are refused (hint: use password_env: VAR or password_file: PATH, or run with --ask-pass)`},
		},
		{
			name:    "password_env naming an unset variable",
			file:    "inventory.yaml",
			content: "defaults:\n  password_env: WIN_PASS\nhosts: [a]\n",
			want:    []string{`inventory.yaml:2: defaults.password_env: environment variable WIN_PASS is not set or empty (hint: export WIN_PASS before running patchrun, or use password_file / --ask-pass)`},
		},
		{
			name:    "password_env naming an empty variable",
			file:    "inventory.yaml",
			content: "hosts:\n  - {name: a, password_env: EMPTY}\n",
			env:     map[string]string{"EMPTY": ""},
			want:    []string{`inventory.yaml:2: hosts[0].password_env: environment variable EMPTY is not set or empty (hint: export EMPTY before running patchrun, or use password_file / --ask-pass)`},
		},
		{
			name:    "password_env written like a shell expansion",
			file:    "inventory.yaml",
			content: "hosts:\n  - {name: a, password_env: $PW}\n",
			want:    []string{`inventory.yaml:2: hosts[0].password_env: bad environment variable name "$PW" (hint: name the variable, e.g. password_env: WIN_ADMIN_PASSWORD (no $))`},
		},
		{
			name:    "unreadable password_file",
			file:    "inventory.yaml",
			content: "hosts:\n  - {name: a, password_file: nope.pass}\n",
			want:    []string{`inventory.yaml:2: hosts[0].password_file: cannot use password file {dir}/nope.pass: no such file (hint: the file must hold the password on its first line; check the path and permissions)`},
		},
		{
			name:    "empty password_file",
			file:    "inventory.yaml",
			content: "hosts:\n  - {name: a, password_file: empty.pass}\n",
			files:   map[string]string{"empty.pass": "\n"},
			want:    []string{`inventory.yaml:2: hosts[0].password_file: password file {dir}/empty.pass is empty (hint: the file must hold the password on its first line; check the path and permissions)`},
		},
		{
			name:    "both password references in one place",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: a\n    password_env: PW\n    password_file: pw\n",
			env:     map[string]string{"PW": "x"},
			files:   map[string]string{"pw": "y"},
			want:    []string{`inventory.yaml:4: hosts[0].password_file: both password_env and password_file are set (hint: keep only one)`},
		},
		{
			name:    "basic over plain http without opting in",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: w\n    transport: winrm\n    winrm_auth: basic\n",
			want:    []string{`inventory.yaml:4: hosts[0].winrm_auth: basic auth over plain HTTP sends the password readable on the wire (hint: set winrm_https: true, or winrm_allow_basic_http: true if you accept that)`},
		},
		{
			name:    "empty inventory",
			file:    "inventory.yaml",
			content: "# nothing yet\n",
			want:    []string{`inventory.yaml: inventory has no hosts (hint: list hosts under hosts: (see examples/inventory.yaml), or one host name per line)`},
		},
		{
			name:    "empty hosts list",
			file:    "inventory.yaml",
			content: "defaults: {user: root}\nhosts: []\n",
			want:    []string{`inventory.yaml: inventory has no hosts (hint: list hosts under hosts: (see examples/inventory.yaml), or one host name per line)`},
		},
		{
			name:    "name in defaults",
			file:    "inventory.yaml",
			content: "defaults:\n  name: x\nhosts: [a]\n",
			want:    []string{`inventory.yaml:2: defaults.name: name cannot be set in defaults (hint: give each host its own name under hosts:)`},
		},
		{
			name:    "host without a name",
			file:    "inventory.yaml",
			content: "hosts:\n  - address: 10.0.0.1\n",
			want:    []string{`inventory.yaml:2: hosts[0]: host has no name (hint: add "name: HOSTNAME")`},
		},
		{
			name:    "list value where a scalar belongs",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: a\n    port: [22, 2222]\n",
			want:    []string{`inventory.yaml:3: hosts[0].port: must be a single value, not a list or mapping`},
		},
		{
			name:    "several problems at once, in file order",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: a\n    transport: tcp\n  - name: a\n    port: x\n",
			want: []string{
				`inventory.yaml:3: hosts[0].transport: bad transport "tcp" (hint: use ssh (default) or winrm)`,
				`inventory.yaml:4: hosts[1].name: duplicate host name "a" (hint: host names must be unique; it was first defined at line 2)`,
			},
		},
		{
			name:    "plain list: duplicates, bad port, two words",
			file:    "hosts.txt",
			content: "web1\nweb2:22x\nweb1\nweb3 web4\n",
			want: []string{
				`hosts.txt:2: web2.port: bad port "22x" (hint: a number from 1 to 65535)`,
				`hosts.txt:3: web1: duplicate host name "web1" (hint: list each host once; it was first listed at line 1)`,
				`hosts.txt:4: expected one host per line, got "web3 web4" (hint: write host or host:port; for per-host settings use a YAML inventory (see examples/inventory.yaml))`,
			},
		},
		{
			name:    "ini: bad section, bad var line, bad range",
			file:    "hosts.ini",
			content: "[web]\nweb[05:01]\n[web:var]\nx=1\n[db:vars]\njust-a-word\n[db]\ndb1 ansible_port\n",
			want: []string{
				`hosts.ini:2: web[05:01]: bad range [05:01] in "web[05:01]": start after end (hint: write a host name, host:port, or a range like web[01:03])`,
				`hosts.ini:3: [web:var]: unknown section kind "var" (hint: did you mean "vars"?)`,
				`hosts.ini:6: [db:vars]: expected name=value, got "just-a-word"`,
				`hosts.ini:8: db1: expected name=value after the host, got "ansible_port" (hint: one host per line; put variables as name=value after it)`,
			},
		},
		{
			name: "shape mistakes",
			file: "inventory.yaml",
			content: `defaults: [user, root]
groups: [web]
hosts:
  - name: a,b
  - name: c
    address: ""
    user:
    ssh_key: ~bob/.ssh/id
    vars: [x]
  - name: d
    password_file: adir
  - name: e
    ssh_key: adir
  - [f]
`,
			files: map[string]string{"adir/x": ""},
			want: []string{
				`inventory.yaml:1: defaults: must be a mapping of key: value (hint: see examples/inventory.yaml)`,
				`inventory.yaml:2: groups: must be a mapping of group name to a list of hosts (hint: write "web: [web1, web2]")`,
				`inventory.yaml:4: hosts[0].name: name "a,b" contains one of , & ! ~ * ? [ ] (they mean something in --limit) (hint: use the host's short name; put the real address in address:)`,
				`inventory.yaml:6: hosts[1].address: empty value (hint: give it a value or remove the key)`,
				`inventory.yaml:7: hosts[1].user: missing value (hint: give it a value or remove the key)`,
				`inventory.yaml:8: hosts[1].ssh_key: ~user paths are not supported (hint: write the full path)`,
				`inventory.yaml:9: hosts[1].vars: must be a mapping of name: value`,
				`inventory.yaml:11: hosts[2].password_file: password file {dir}/adir is a directory, not a file (hint: the file must hold the password on its first line; check the path and permissions)`,
				`inventory.yaml:13: hosts[3].ssh_key: {dir}/adir is a directory, not a file (hint: remove ssh_key to use ssh-agent and ~/.ssh/config instead)`,
				`inventory.yaml:14: hosts[4]: must be a mapping or a host name (hint: write "- name: web1")`,
			},
		},
		{
			name:    "hosts not a list, reserved group",
			file:    "inventory.yaml",
			content: "groups:\n  all: [a]\nhosts:\n  a: {}\n",
			want: []string{
				`inventory.yaml:2: groups.all: group name is reserved (hint: "all" already means every host; pick another name)`,
				`inventory.yaml:4: hosts: must be a list of hosts (hint: write each host as "- name: web1")`,
			},
		},
		{
			name:    "top level not a mapping",
			file:    "inventory.yaml",
			content: "- web1\n- web2\n",
			want:    []string{`inventory.yaml:1: top level must be a mapping with defaults:, groups: and hosts: (hint: see examples/inventory.yaml)`},
		},
		{
			name:    "ansible shape mistakes",
			file:    "hosts.yml",
			content: "all:\n  hosts: [a, b]\n  vars: [x]\n  children:\n    web: [c]\n    db:\n      hosts:\n        web[1:\n",
			want: []string{
				`hosts.yml:2: all.hosts: must be a mapping of host names (write "web1:" on its own line)`,
				`hosts.yml:3: all.vars: must be a mapping of name: value`,
				`hosts.yml:5: all.children.web: a group must be a mapping with hosts:, children: or vars:`,
				`hosts.yml:8: all.children.db.hosts.web[1: unmatched [ in "web[1" (hint: write a host name, host:port, or a range like web[01:03])`,
			},
		},
		{
			name:    "invalid YAML",
			file:    "inventory.yaml",
			content: "hosts:\n  - name: a\n   port: 22\n",
			want:    []string{`inventory.yaml: invalid YAML: yaml: line 1: did not find expected '-' indicator (hint: check indentation and that every key ends with a colon)`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for k, v := range tc.env {
				f.env[k] = v
			}
			for name, content := range tc.files {
				f.write(name, content, 0o600)
			}
			inv, err := f.load(tc.file, tc.content)
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.NewReplacer("{dir}", f.dir, "{home}", f.home).Replace(w))
			}
			got := errorLines(err)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n got %q\nwant %q", got, want)
			}
			if err != nil && inv.Hosts != nil {
				t.Errorf("hosts returned alongside an error: %v", names(inv.Hosts))
			}
		})
	}
}

func TestErrorTypeForCallers(t *testing.T) {
	f := newFixture(t)
	_, err := f.load("inventory.yaml", "hosts:\n  - {name: a, port: x}\n  - {name: b, port: y}\n")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(*Error) failed on %v", err)
	}
	if e.Line != 2 || e.Key != "hosts[0].port" || e.Hint == "" || !strings.HasSuffix(e.File, "inventory.yaml") {
		t.Errorf("first error fields = %+v", e)
	}
	if n := len(Errors(err)); n != 2 {
		t.Errorf("Errors() found %d, want 2", n)
	}
	// Load (not LoadInventory) returns no hosts on error.
	if hosts, err := Load(f.write("x.yaml", "hosts: [{name: a, port: x}]\n", 0o644), f.opts()); err == nil || hosts != nil {
		t.Errorf("Load = %v, %v; want nil hosts and an error", hosts, err)
	}
}

func TestErrorRendering(t *testing.T) {
	cases := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.yaml", Line: 3, Key: "hosts[0].port", Msg: "bad port", Hint: "fix it"}, "a.yaml:3: hosts[0].port: bad port (hint: fix it)"},
		{Error{File: "a.yaml", Msg: "inventory has no hosts"}, "a.yaml: inventory has no hosts"},
		{Error{File: "a.yaml", Line: 1, Msg: "oops"}, "a.yaml:1: oops"},
	}
	for _, tc := range cases {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
