package inventory

import (
	"os/user"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A patchrun YAML inventory using the keys docs/inventory.md describes.
const fullInventory = `defaults:                      # every key may also be set per host
  user: root
  ssh_key: ~/.ssh/id_ed25519   # paths are relative to the inventory file
  known_hosts: ~/.ssh/known_hosts
  host_key_policy: strict      # strict (default) | accept-new (trust on first use, then strict)
  port: 22
groups:
  web: [web1, web2]
  windows: [win1]
hosts:
  - name: web1
    address: 10.0.0.5
  - name: web2                 # address defaults to name
  - name: win1
    address: 10.0.0.9
    transport: winrm           # ssh (default) | winrm
    port: 5986
    winrm_https: true
    winrm_auth: ntlm           # ntlm (default) | basic | kerberos
    user: Administrator
    password_env: WIN_ADMIN_PASSWORD   # secrets by reference only: password_env, password_file, or --ask-pass
`

func TestLoadFullPatchrunInventory(t *testing.T) {
	f := newFixture(t)
	key := f.write("~/.ssh/id_ed25519", "key", 0o600)
	f.env["WIN_ADMIN_PASSWORD"] = "hunter2"
	inv := f.mustLoad("inventory.yaml", fullInventory)
	if inv.Format != FormatPatchrun {
		t.Errorf("format = %q, want %q", inv.Format, FormatPatchrun)
	}
	known := filepath.Join(f.home, ".ssh", "known_hosts")
	src := filepath.Join(f.dir, "inventory.yaml")
	want := []Host{
		{Name: "web1", Address: "10.0.0.5", Port: 22, Groups: []string{"web"}, File: src, Line: 11,
			Transport: "ssh", User: "root", SSH: &SSHSettings{Key: key, KnownHosts: known, HostKeyPolicy: "strict"},
			Explicit: ExplicitAddress | ExplicitUser | ExplicitPort | ExplicitSSHKey},
		{Name: "web2", Address: "web2", Port: 22, Groups: []string{"web"}, File: src, Line: 13,
			Transport: "ssh", User: "root", SSH: &SSHSettings{Key: key, KnownHosts: known, HostKeyPolicy: "strict"},
			Explicit: ExplicitUser | ExplicitPort | ExplicitSSHKey}, // address defaults to the name
		{Name: "win1", Address: "10.0.0.9", Port: 5986, Groups: []string{"windows"}, File: src, Line: 14,
			Transport: "winrm", User: "Administrator", Password: NewSecret("hunter2", "env:WIN_ADMIN_PASSWORD"),
			Explicit: ExplicitAddress | ExplicitUser | ExplicitPort,
			WinRM:    &WinRMSettings{HTTPS: true, Auth: "ntlm", Encryption: "auto"}},
	}
	if !reflect.DeepEqual(inv.Hosts, want) {
		t.Errorf("hosts:\n got %+v\nwant %+v", inv.Hosts, want)
	}
	if got := inv.Hosts[2].Password.Reveal(); got != "hunter2" {
		t.Errorf("win1 password = %q, want the env value", got)
	}
}

func TestLoadPatchrunDefaultsAndOverrides(t *testing.T) {
	f := newFixture(t)
	f.write("keys/lab", "key", 0o600)
	f.write("ca.pem", "pem", 0o644)
	inv := f.mustLoad("inv.yml", `
defaults:
  ssh_key: keys/lab
  connect_timeout: 5s
  vars: {site: ams, rack: "4"}
hosts:
  - name: plain
  - name: tuned
    port: 2222
    known_hosts: kh
    host_key_policy: accept-new
    proxy_jump: ops@bastion:22
    reboot_timeout: 10m
    reboot_delay: 5s
    ready_command: systemctl is-system-running --wait
    pre_cmd: lb-drain
    health_cmd: curl -fsS localhost/health
    post_cmd: lb-undrain
    vars: {rack: "7"}
  - name: win-http
    transport: winrm
  - name: win-tls
    transport: winrm
    winrm_https: yes
    winrm_auth: kerberos
    winrm_kerberos_realm: corp.example.com
    winrm_ca_cert: ca.pem
    winrm_server_name: win-tls.corp
    winrm_encryption: never
  - name: win-basic
    transport: winrm
    winrm_auth: basic
    winrm_allow_basic_http: true
    winrm_insecure_skip_verify: true
  - bare-name
`)
	plain := hostByName(t, inv.Hosts, "plain")
	if plain.User != "tester" || plain.Port != 22 || plain.SSH.Key != filepath.Join(f.dir, "keys/lab") ||
		plain.ConnectTimeout != 5*time.Second || plain.SSH.HostKeyPolicy != HostKeyStrict ||
		plain.SSH.KnownHosts != filepath.Join(f.home, ".ssh/known_hosts") || plain.Vars["site"] != "ams" {
		t.Errorf("plain host did not get defaults: %+v", plain)
	}
	tuned := hostByName(t, inv.Hosts, "tuned")
	if tuned.Port != 2222 || tuned.SSH.KnownHosts != filepath.Join(f.dir, "kh") || tuned.SSH.HostKeyPolicy != HostKeyAcceptNew ||
		tuned.SSH.ProxyJump != "ops@bastion:22" || tuned.RebootTimeout != 10*time.Minute || tuned.RebootDelay != 5*time.Second ||
		tuned.ReadyCommand != "systemctl is-system-running --wait" || tuned.Vars["rack"] != "7" || tuned.Vars["site"] != "ams" {
		t.Errorf("per-host overrides lost: %+v", tuned)
	}
	if tuned.PreCmd != "lb-drain" || tuned.HealthCmd != "curl -fsS localhost/health" || tuned.PostCmd != "lb-undrain" ||
		plain.PreCmd != "" || plain.HealthCmd != "" || plain.PostCmd != "" {
		t.Errorf("rollout commands: tuned %q %q %q, plain %q %q %q", tuned.PreCmd, tuned.HealthCmd, tuned.PostCmd,
			plain.PreCmd, plain.HealthCmd, plain.PostCmd)
	}
	if h := hostByName(t, inv.Hosts, "win-http"); h.Port != 5985 || h.SSH != nil || h.WinRM.Auth != "ntlm" || h.WinRM.Encryption != "auto" {
		t.Errorf("winrm http defaults wrong: %+v", h)
	}
	if h := hostByName(t, inv.Hosts, "win-tls"); h.Port != 5986 || !h.WinRM.HTTPS || h.WinRM.Auth != "kerberos" ||
		h.WinRM.CACert != filepath.Join(f.dir, "ca.pem") || h.WinRM.ServerName != "win-tls.corp" || h.WinRM.Encryption != "never" ||
		h.WinRM.KerberosRealm != "CORP.EXAMPLE.COM" || h.User != "tester" {
		t.Errorf("winrm https settings wrong: %+v", h)
	}
	if h := hostByName(t, inv.Hosts, "win-basic"); !h.WinRM.AllowBasicHTTP || !h.WinRM.Insecure || h.WinRM.Auth != "basic" {
		t.Errorf("winrm basic settings wrong: %+v", h)
	}
	if h := hostByName(t, inv.Hosts, "bare-name"); h.Address != "bare-name" || h.Transport != TransportSSH {
		t.Errorf("bare host entry wrong: %+v", h)
	}
}

// A port in defaults is the SSH port; it must not send WinRM hosts to 22.
func TestDefaultsSSHPortDoesNotApplyToWinRM(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("inv.yaml", `
defaults: {port: 22}
hosts:
  - {name: a}
  - {name: w, transport: winrm}
  - {name: ws, transport: winrm, winrm_https: true}
`)
	for name, want := range map[string]int{"a": 22, "w": 5985, "ws": 5986} {
		if got := hostByName(t, inv.Hosts, name).Port; got != want {
			t.Errorf("%s: port %d, want %d", name, got, want)
		}
	}
}

func TestPatchrunNestedGroups(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("inv.yaml", `
groups:
  web: [web1, web2]
  db: [db1]
  prod: [web, db1]
hosts: [web1, web2, db1, lonely]
`)
	want := map[string][]string{"web1": {"web", "prod"}, "web2": {"web", "prod"}, "db1": {"db", "prod"}, "lonely": nil}
	for name, groups := range want {
		if got := hostByName(t, inv.Hosts, name).Groups; !reflect.DeepEqual(got, groups) {
			t.Errorf("%s groups = %v, want %v", name, got, groups)
		}
	}
}

func TestPasswordFileAndWarnings(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits to warn about")
	}
	f := newFixture(t)
	f.write("~/.config/patchrun/lab.pass", "s3cret\n", 0o600)
	f.write("open.pass", "open\r\n", 0o644)
	f.env["PW"] = "fromenv"
	inv := f.mustLoad("inv.yaml", `
defaults:
  password_env: PW
hosts:
  - name: a
  - name: b
    password_file: ~/.config/patchrun/lab.pass
  - name: c
    password_file: open.pass
  - name: d
    password_file: open.pass
`)
	cases := map[string]struct{ val, src string }{
		"a": {"fromenv", "env:PW"},
		"b": {"s3cret", "file:" + filepath.Join(f.home, ".config/patchrun/lab.pass")},
		"c": {"open", "file:" + filepath.Join(f.dir, "open.pass")},
	}
	for name, want := range cases {
		h := hostByName(t, inv.Hosts, name)
		if h.Password.Reveal() != want.val || h.Password.Source() != want.src {
			t.Errorf("%s: password %q from %q, want %q from %q", name, h.Password.Reveal(), h.Password.Source(), want.val, want.src)
		}
	}
	// One warning for the world-readable file, though two hosts use it.
	var got []string
	for _, w := range inv.Warnings {
		c := *w
		c.File = filepath.Base(c.File)
		got = append(got, c.Error())
	}
	open := filepath.Join(f.dir, "open.pass")
	want := []string{"inv.yaml:9: hosts[2].password_file: password file " + open +
		" is readable by every user on this machine (hint: chmod 600 " + open + ")"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n got %q\nwant %q", got, want)
	}
}

// With no DefaultUser injected, the login of whoever runs patchrun is used,
// without a Windows DOMAIN\ prefix.
func TestDefaultUserIsCurrentUser(t *testing.T) {
	u, err := user.Current()
	if err != nil || u.Username == "" {
		t.Skip("no current user on this machine")
	}
	want := u.Username[strings.LastIndex(u.Username, `\`)+1:]
	f := newFixture(t)
	opts := f.opts()
	opts.DefaultUser = ""
	hosts, err := Load(f.write("hosts.txt", "a\n", 0o644), opts)
	if err != nil {
		t.Fatal(err)
	}
	if hosts[0].User != want {
		t.Errorf("user = %q, want %q", hosts[0].User, want)
	}
}

func TestWakeOnLANKeys(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("inv.yaml", `
defaults: {wol_broadcast: 192.0.2.255}
hosts:
  - {name: a, mac: "52:54:00:12:34:56"}
  - {name: b, mac: 52-54-00-AB-CD-EF, wol_port: 7, wol_broadcast: 255.255.255.255}
  - {name: c}
`)
	a, b, c := hostByName(t, inv.Hosts, "a"), hostByName(t, inv.Hosts, "b"), hostByName(t, inv.Hosts, "c")
	if a.MAC.String() != "52:54:00:12:34:56" || a.WakeAddr() != "192.0.2.255:9" {
		t.Errorf("a: mac %v, wake address %s", a.MAC, a.WakeAddr())
	}
	if b.MAC.String() != "52:54:00:ab:cd:ef" || b.WakeAddr() != "255.255.255.255:7" {
		t.Errorf("b: mac %v, wake address %s", b.MAC, b.WakeAddr())
	}
	if c.MAC != nil || c.WakeAddr() != "192.0.2.255:9" {
		t.Errorf("c: mac %v, wake address %s", c.MAC, c.WakeAddr())
	}
	if (Host{}).WakeAddr() != "255.255.255.255:9" {
		t.Errorf("defaults: %s", (Host{}).WakeAddr())
	}
}

func TestWakeOnLANBadValues(t *testing.T) {
	for _, tc := range []struct{ entry, want string }{
		{`{name: web1, mac: "52:54:00:12:34"}`, `hosts[0].mac: host web1: bad MAC address "52:54:00:12:34"`},
		{`{name: web1, mac: "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"}`, "bad MAC address"},
		{`{name: web1, mac: zz:54:00:12:34:56}`, "bad MAC address"},
		{`{name: web1, wol_broadcast: 2001:db8::1}`, `wol_broadcast: bad broadcast address "2001:db8::1"`},
		{`{name: web1, wol_port: 70000}`, `wol_port: bad port "70000"`},
		{`{name: web1, mac_address: "52:54:00:12:34:56"}`, `did you mean "mac"?`},
	} {
		f := newFixture(t)
		_, err := f.load("inv.yaml", "hosts:\n  - "+tc.entry+"\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.entry, err, tc.want)
		}
	}
}
