package inventory

import (
	"path/filepath"
	"reflect"
	"testing"
)

const ansibleYAML = `all:
  vars:
    ansible_user: admin
    ntp_server: ntp.corp
  hosts:
    jump1:
      ansible_host: 192.0.2.1
  children:
    linux:
      vars:
        ansible_port: 2200
        ntp_server: ntp.linux.corp
      children:
        web:
          vars:
            ansible_port: 2222
          hosts:
            web[01:02]:
            web03:
              ansible_port: 22
              ansible_user: deploy
        db:
          hosts:
            db1.corp:2345:
    windows:
      vars:
        ansible_connection: winrm
        ansible_winrm_transport: ntlm
        ansible_winrm_scheme: https
        ansible_winrm_server_cert_validation: ignore
        ansible_port: 5986
        patchrun_password_env: WIN_PASS
      hosts:
        win1:
          ansible_host: 10.0.0.9
          ansible_winrm_transport: kerberos
          ansible_user: patchsvc@corp.example.com
        web01:
`

func TestLoadAnsibleYAML(t *testing.T) {
	f := newFixture(t)
	f.env["WIN_PASS"] = "pw"
	inv := f.mustLoad("hosts.yml", ansibleYAML)
	if inv.Format != FormatAnsibleYAML {
		t.Fatalf("format = %q", inv.Format)
	}
	if got := names(inv.Hosts); got != "jump1,web01,web02,web03,db1.corp,win1" {
		t.Errorf("hosts in order = %s", got)
	}
	cases := []struct {
		name, addr, user, transport string
		port                        int
		groups                      []string
	}{
		{"jump1", "192.0.2.1", "admin", "ssh", 22, []string{"ungrouped"}},
		{"web02", "web02", "admin", "ssh", 2222, []string{"linux", "web"}}, // child group var beats parent
		{"web03", "web03", "deploy", "ssh", 22, []string{"linux", "web"}},  // host var beats groups
		{"db1.corp", "db1.corp", "admin", "ssh", 2345, []string{"linux", "db"}},
		{"win1", "10.0.0.9", "patchsvc", "winrm", 5986, []string{"windows"}}, // user@REALM split for kerberos
	}
	for _, tc := range cases {
		h := hostByName(t, inv.Hosts, tc.name)
		if h.Address != tc.addr || h.User != tc.user || h.Transport != tc.transport || h.Port != tc.port || !reflect.DeepEqual(h.Groups, tc.groups) {
			t.Errorf("%s = addr %s user %s %s port %d groups %v; want %+v", tc.name, h.Address, h.User, h.Transport, h.Port, h.Groups, tc)
		}
	}
	win := hostByName(t, inv.Hosts, "win1")
	if win.WinRM.Auth != "kerberos" || win.WinRM.KerberosRealm != "CORP.EXAMPLE.COM" || !win.WinRM.HTTPS || !win.WinRM.Insecure || win.Password.Reveal() != "pw" {
		t.Errorf("win1 winrm mapping wrong: %+v", win)
	}
	// Vars not interpreted stay as display vars, with group precedence.
	if got := hostByName(t, inv.Hosts, "web02").Vars["ntp_server"]; got != "ntp.linux.corp" {
		t.Errorf("web02 ntp_server = %q, want the linux group's value", got)
	}
	if got := hostByName(t, inv.Hosts, "jump1").Vars["ntp_server"]; got != "ntp.corp" {
		t.Errorf("jump1 ntp_server = %q", got)
	}
	// web01 is in both linux/web and windows: windows (depth 1, name after
	// linux) loses to web (depth 2) for the port, but its connection applies.
	w1 := hostByName(t, inv.Hosts, "web01")
	if !reflect.DeepEqual(w1.Groups, []string{"linux", "web", "windows"}) || w1.Transport != "winrm" || w1.Port != 2222 {
		t.Errorf("web01 = %s port %d groups %v", w1.Transport, w1.Port, w1.Groups)
	}
}

const ansibleINI = `# Ansible INI inventory
bastion ansible_host=192.0.2.1 ansible_ssh_common_args='-o ProxyJump=ops@gw.corp:22'

[web]
web[01:03].corp ansible_user=deploy   # three hosts
web9:2201

[db]
db-[a:b] ansible_ssh_private_key_file=keys/db

[windows]
win1 ansible_host=10.0.0.9 ansible_connection=winrm

[windows:vars]
ansible_winrm_transport=ntlm
ansible_winrm_scheme=http
patchrun_password_file=win.pass
owner = "Windows Team"

[linux:children]
web
db

[linux:vars]
ansible_user=root
patchrun_host_key_policy=accept-new
`

func TestLoadAnsibleINI(t *testing.T) {
	f := newFixture(t)
	f.write("keys/db", "key", 0o600)
	f.write("win.pass", "winpw\n", 0o600)
	inv := f.mustLoad("hosts", ansibleINI)
	if inv.Format != FormatAnsibleINI {
		t.Fatalf("format = %q", inv.Format)
	}
	if got := names(inv.Hosts); got != "bastion,web01.corp,web02.corp,web03.corp,web9,db-a,db-b,win1" {
		t.Errorf("hosts = %s", got)
	}
	b := hostByName(t, inv.Hosts, "bastion")
	if b.Address != "192.0.2.1" || b.SSH.ProxyJump != "ops@gw.corp:22" || b.User != "tester" || b.Vars["ansible_ssh_common_args"] != "-o ProxyJump=ops@gw.corp:22" {
		t.Errorf("bastion = %+v", b)
	}
	w := hostByName(t, inv.Hosts, "web02.corp")
	if w.User != "deploy" || w.SSH.HostKeyPolicy != HostKeyAcceptNew || !reflect.DeepEqual(w.Groups, []string{"web", "linux"}) {
		t.Errorf("web02.corp = user %s policy %s groups %v", w.User, w.SSH.HostKeyPolicy, w.Groups)
	}
	if h := hostByName(t, inv.Hosts, "web9"); h.Port != 2201 || h.User != "root" {
		t.Errorf("web9 = port %d user %s", h.Port, h.User)
	}
	if h := hostByName(t, inv.Hosts, "db-b"); h.SSH.Key != filepath.Join(f.dir, "keys/db") {
		t.Errorf("db-b key = %q", h.SSH.Key)
	}
	win := hostByName(t, inv.Hosts, "win1")
	if win.Transport != "winrm" || win.Port != 5985 || win.WinRM.Auth != "ntlm" || win.Password.Reveal() != "winpw" || win.Vars["owner"] != "Windows Team" {
		t.Errorf("win1 = %+v", win)
	}
}

// Each Ansible variable we interpret, alone on a host.
func TestAnsibleVarMapping(t *testing.T) {
	cases := []struct {
		vars  string
		check func(Host) bool
	}{
		{"ansible_host=10.1.1.1", func(h Host) bool { return h.Address == "10.1.1.1" }},
		{"ansible_ssh_host=10.1.1.2", func(h Host) bool { return h.Address == "10.1.1.2" }},
		{"ansible_port=2022", func(h Host) bool { return h.Port == 2022 }},
		{"ansible_user=bob", func(h Host) bool { return h.User == "bob" }},
		{"ansible_connection=smart", func(h Host) bool { return h.Transport == "ssh" }},
		{"ansible_connection=winrm", func(h Host) bool { return h.Transport == "winrm" && h.WinRM.HTTPS && h.Port == 5986 }}, // Ansible's default scheme
		{"ansible_connection=winrm ansible_port=5985", func(h Host) bool { return !h.WinRM.HTTPS && h.Port == 5985 }},
		{"ansible_connection=winrm ansible_winrm_scheme=http", func(h Host) bool { return !h.WinRM.HTTPS && h.Port == 5985 }},
		{"ansible_connection=winrm ansible_winrm_scheme=https", func(h Host) bool { return h.WinRM.HTTPS && h.Port == 5986 }},
		{"ansible_connection=winrm ansible_winrm_transport=kerberos ansible_user=bob@corp.example.com", func(h Host) bool {
			return h.WinRM.Auth == "kerberos" && h.User == "bob" && h.WinRM.KerberosRealm == "CORP.EXAMPLE.COM"
		}},
		{"ansible_connection=winrm ansible_winrm_transport=kerberos patchrun_winrm_kerberos_realm=corp.example.com", func(h Host) bool {
			return h.User == "tester" && h.WinRM.KerberosRealm == "CORP.EXAMPLE.COM"
		}},
		{"ansible_connection=winrm ansible_winrm_transport=kerberos ansible_user=bob@CORP patchrun_winrm_kerberos_spn=HTTP/w1.corp patchrun_winrm_krb5_conf=krb5.conf patchrun_winrm_kerberos_ccache=cc",
			func(h Host) bool {
				return h.WinRM.KerberosSPN == "HTTP/w1.corp" && filepath.Base(h.WinRM.Krb5Conf) == "krb5.conf" && filepath.Base(h.WinRM.KerberosCCache) == "cc"
			}},
		{"ansible_connection=winrm ansible_winrm_transport=kerberos ansible_user=bob@CORP ansible_winrm_kerberos_hostname_override=w1.corp.example.com",
			func(h Host) bool { return h.WinRM.KerberosSPN == "HTTP/w1.corp.example.com" }},
		{"ansible_connection=winrm ansible_winrm_transport=credssp,ntlm", func(h Host) bool { return h.WinRM.Auth == "ntlm" }},
		{"ansible_connection=winrm ansible_winrm_scheme=https ansible_winrm_transport=plaintext", func(h Host) bool { return h.WinRM.Auth == "basic" }},
		{"ansible_connection=winrm ansible_winrm_server_cert_validation=ignore", func(h Host) bool { return h.WinRM.Insecure }},
		{"ansible_connection=winrm ansible_winrm_message_encryption=never", func(h Host) bool { return h.WinRM.Encryption == "never" }},
		{"ansible_connection=winrm ansible_winrm_ca_trust_path=ca.pem", func(h Host) bool { return filepath.Base(h.WinRM.CACert) == "ca.pem" }},
		{"ansible_ssh_private_key_file=id", func(h Host) bool { return filepath.Base(h.SSH.Key) == "id" }},
		{"ansible_private_key_file=~/id", func(h Host) bool { return filepath.Base(h.SSH.Key) == "id" }},
		{"ansible_ssh_common_args='-J jump.corp'", func(h Host) bool { return h.SSH.ProxyJump == "jump.corp" }},
		{"ansible_ssh_extra_args=-oStrictHostKeyChecking=no", func(h Host) bool { return h.SSH.ProxyJump == "" && h.SSH.HostKeyPolicy == HostKeyStrict }},
		{"ansible_python_interpreter=/usr/bin/python3", func(h Host) bool { return h.Vars["ansible_python_interpreter"] == "/usr/bin/python3" }},
		{"db_password=hunter2", func(h Host) bool { return h.Vars["db_password"] == "[redacted]" }},
		{"ansible_become_pass=hunter2", func(h Host) bool { _, kept := h.Vars["ansible_become_pass"]; return !kept }},
		{"patchrun_reboot_timeout=20m patchrun_ready_command=true", func(h Host) bool { return h.RebootTimeout.Minutes() == 20 && h.ReadyCommand == "true" }},
		{"patchrun_health_cmd=healthy patchrun_pre_cmd=drain patchrun_post_cmd=undrain", func(h Host) bool {
			return h.HealthCmd == "healthy" && h.PreCmd == "drain" && h.PostCmd == "undrain"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.vars, func(t *testing.T) {
			f := newFixture(t)
			f.write("ca.pem", "pem", 0o644)
			f.write("krb5.conf", "[libdefaults]\n", 0o644)
			f.write("cc", "ccache", 0o600)
			f.write("id", "key", 0o600)
			f.write("~/id", "key", 0o600)
			inv := f.mustLoad("hosts.ini", "[g]\nh1 "+tc.vars+"\n")
			if !tc.check(inv.Hosts[0]) {
				t.Errorf("mapping not applied: %+v", inv.Hosts[0])
			}
		})
	}
}

func TestAnsibleErrors(t *testing.T) {
	cases := []struct {
		name, file, content string
		want                []string
	}{
		{"inline password", "hosts.ini", "[g]\nh1 ansible_password=hunter2\n",
			[]string{`hosts.ini:2: h1.ansible_password: inline passwords are refused (hint: remove it and set patchrun_password_env=VAR or patchrun_password_file=PATH, or run with --ask-pass)`}},
		{"inline ssh pass in group vars", "hosts.yml", "all:\n  vars:\n    ansible_ssh_pass: hunter2\n  hosts:\n    h1:\n",
			[]string{`hosts.yml:3: all.vars.ansible_ssh_pass: inline passwords are refused (hint: remove it and set patchrun_password_env=VAR or patchrun_password_file=PATH, or run with --ask-pass)`}},
		{"local connection", "hosts.ini", "localhost ansible_connection=local\n",
			[]string{`hosts.ini:1: localhost.ansible_connection: connection "local" is not supported (hint: patchrun reaches every host over ssh or winrm; give this host an address and use ssh)`}},
		{"psrp", "hosts.ini", "[w]\nw1 ansible_connection=psrp\n",
			[]string{`hosts.ini:2: w1.ansible_connection: connection "psrp" is not supported (hint: use ansible_connection=winrm (same WinRM listener))`}},
		{"credssp", "hosts.ini", "[w]\nw1 ansible_connection=winrm ansible_winrm_transport=credssp\n",
			[]string{`hosts.ini:2: w1.ansible_winrm_transport: winrm transport "credssp" is not supported (hint: use ntlm (encrypted even over http), kerberos, or basic over https)`}},
		{"bad scheme", "hosts.ini", "[w:vars]\nansible_winrm_scheme=ftp\n[w]\nw1\n",
			[]string{`hosts.ini:2: [w:vars].ansible_winrm_scheme: bad scheme "ftp" (hint: use http or https)`}},
		{"bad port from group vars", "hosts.yml", "all:\n  children:\n    web:\n      vars:\n        ansible_port: http\n      hosts:\n        w1:\n",
			[]string{`hosts.yml:5: all.children.web.vars.ansible_port: bad port "http" (hint: a number from 1 to 65535)`}},
		{"unknown patchrun key", "hosts.ini", "[g]\nh1 patchrun_pasword_env=X\n",
			[]string{`hosts.ini:2: h1.patchrun_pasword_env: unknown patchrun key (hint: did you mean "patchrun_password_env"?)`}},
		{"unknown group key", "hosts.yml", "all:\n  host:\n    h1:\n",
			[]string{`hosts.yml:2: all.host: unknown key in a group (hint: did you mean "hosts"?)`}},
		{"group cycle", "hosts.ini", "[a:children]\nb\n[b:children]\na\n[a]\nh1\n",
			[]string{`hosts.ini:1: a: group "a" is its own ancestor (hint: remove the cycle in children)`}},
		{"empty ansible yaml", "hosts.yml", "all:\n  children:\n    web:\n",
			[]string{`hosts.yml: inventory has no hosts (hint: list hosts under hosts: (see examples/inventory.yaml), or one host name per line)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.load(tc.file, tc.content)
			if got := errorLines(err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestAnsibleBecomePasswordWarns(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("hosts.ini", "[g]\nh1 ansible_become_pass=hunter2\n")
	want := []string{`hosts.ini:2: h1.ansible_become_pass: ignored: patchrun does not use become, and the value is not kept`}
	got := warningLines(inv)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings = %q, want %q", got, want)
	}
}

// Ansible vars that are lists or mappings are kept, as JSON, for display.
func TestAnsibleComplexVarsKept(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("hosts.yml", `all:
  hosts:
    h1:
      packages: [nginx, openssl]
      limits: {nofile: 1024, 2: two}
      nothing: ~
`)
	h := inv.Hosts[0]
	want := map[string]string{"packages": `["nginx","openssl"]`, "limits": `{"2":"two","nofile":1024}`}
	for k, v := range want {
		if h.Vars[k] != v {
			t.Errorf("var %s = %q, want %q", k, h.Vars[k], v)
		}
	}
	if _, ok := h.Vars["nothing"]; ok {
		t.Errorf("a null Ansible var (None) should be unset, got %q", h.Vars["nothing"])
	}
}

// Typos Ansible accepts silently get one warning each: a child group no
// section defines, and vars for a group without hosts. The file still loads.
func TestAnsibleINITyposWarn(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("hosts.ini", `[web]
w1
[prod:children]
web
wbe
[nogroup:vars]
ansible_user=x
[prod:vars]
ansible_user=deploy
[all:vars]
ansible_port=22
[empty]
[empty:vars]
ansible_user=y
`)
	want := []string{
		`hosts.ini:5: [prod:children]: group "wbe" is not defined anywhere in the file (hint: add a [wbe] section with its hosts, or fix the name)`,
		`hosts.ini:6: [nogroup:vars]: group "nogroup" has no hosts, so these vars apply to nothing (hint: add a [nogroup] section with its hosts, or fix the name)`,
		`hosts.ini:13: [empty:vars]: group "empty" has no hosts, so these vars apply to nothing (hint: add a [empty] section with its hosts, or fix the name)`,
	}
	got := warningLines(inv)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n got %q\nwant %q", got, want)
	}
	if h := hostByName(t, inv.Hosts, "w1"); h.User != "deploy" {
		t.Errorf("w1 user = %q, want deploy from [prod:vars] through children", h.User)
	}
}
