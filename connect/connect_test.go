package connect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/inventory"
)

func TestDefaultIdentitiesWhenNoKeyIsNamed(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"id_rsa", "id_ed25519"} {
		if err := os.WriteFile(filepath.Join(home, ".ssh", name), []byte("key"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := NewDialer(Options{Home: home})
	kh := filepath.Join(home, "known_hosts")
	h := inventory.Host{Name: "web1", Address: "web1", Port: 22, User: "root",
		SSH: &inventory.SSHSettings{KnownHosts: kh, HostKeyPolicy: inventory.HostKeyStrict}}
	cfg, err := d.sshConfig(h)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_rsa")}
	if strings.Join(cfg.KeyFiles, ",") != strings.Join(want, ",") {
		t.Errorf("default identities %q, want %q (OpenSSH order, existing files only)", cfg.KeyFiles, want)
	}

	h.SSH.Key = "/etc/patchrun/key"
	cfg, err = d.sshConfig(h)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.KeyFiles) != 1 || cfg.KeyFiles[0] != "/etc/patchrun/key" {
		t.Errorf("a named ssh_key must be the only key file, got %q", cfg.KeyFiles)
	}
}

// Every worker must share one known_hosts database per file, or two
// accept-new writers would race on the file.
func TestDialerSharesKnownHostsPerFile(t *testing.T) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	d := NewDialer(Options{})
	a, err := d.hostKeys(kh, inventory.HostKeyAcceptNew)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.hostKeys(kh, inventory.HostKeyAcceptNew)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two hosts with the same known_hosts file got different databases")
	}
	c, err := d.hostKeys(filepath.Join(dir, "other"), inventory.HostKeyAcceptNew)
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Error("different files share a database")
	}
}

func TestWinRMConfigMapping(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := NewDialer(Options{ConnectTimeout: 7e9})
	h := inventory.Host{
		Name: "win1", Address: "10.0.0.9", Port: 5986, Transport: inventory.TransportWinRM,
		User: "Administrator", Password: inventory.NewSecret("s3cret", "env:WIN_PASS"),
		WinRM: &inventory.WinRMSettings{HTTPS: true, Auth: "ntlm", CACert: ca, ServerName: "win1.corp"},
	}
	cfg, err := d.winrmConfig(h)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "10.0.0.9" || cfg.Port != 5986 || !cfg.HTTPS || cfg.Auth != "ntlm" || cfg.User != "Administrator" ||
		cfg.Password != "s3cret" || cfg.ServerName != "win1.corp" || string(cfg.CACertPEM) == "" || cfg.ConnectTimeout != 7e9 {
		t.Errorf("winrm config not mapped: %+v", cfg)
	}

	// Kerberos: what the inventory resolved reaches the client unchanged.
	kh, kw := h, *h.WinRM
	kh.WinRM = &kw
	kh.WinRM.Auth, kh.User = "kerberos", "patchsvc"
	kh.WinRM.KerberosRealm, kh.WinRM.Krb5Conf = "CORP.EXAMPLE.COM", "/etc/patchrun/krb5.conf"
	kh.WinRM.KerberosCCache, kh.WinRM.KerberosSPN = "/tmp/krb5cc_patchrun", "HTTP/win1.corp.example.com"
	cfg, err = d.winrmConfig(kh)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth != "kerberos" || cfg.User != "patchsvc" || cfg.Realm != "CORP.EXAMPLE.COM" || cfg.KrbConfig != "/etc/patchrun/krb5.conf" ||
		cfg.KrbCCache != "/tmp/krb5cc_patchrun" || cfg.SPN != "HTTP/win1.corp.example.com" {
		t.Errorf("kerberos settings not mapped: realm %q krb5.conf %q ccache %q spn %q", cfg.Realm, cfg.KrbConfig, cfg.KrbCCache, cfg.SPN)
	}

	h.WinRM.CACert = filepath.Join(dir, "missing.pem")
	if _, err := d.winrmConfig(h); err == nil || !strings.Contains(err.Error(), "winrm_ca_cert") {
		t.Errorf("missing CA file: error %v should name winrm_ca_cert", err)
	}
}

func TestDialUnknownTransport(t *testing.T) {
	d := NewDialer(Options{})
	_, err := d.Dial(context.Background(), inventory.Host{Name: "x", Transport: "telnet"})
	if err == nil || !strings.Contains(err.Error(), "telnet") {
		t.Errorf("unknown transport: %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Error("unexpected error kind")
	}
}

func TestUnixOptionsUseSudoForNonRootLogins(t *testing.T) {
	o := unixOptions(inventory.Host{Name: "web1", User: "deploy", ReadyCommand: "systemctl is-system-running --wait"})
	if !o.Sudo {
		t.Error("a non-root login would run apt-get without sudo and fail on permissions")
	}
	if o.ReadyCommand != "systemctl is-system-running --wait" {
		t.Errorf("ready_command not passed to the backend: %q", o.ReadyCommand)
	}
}

// The whole path a Kerberos host takes: inventory keys (user@REALM, a
// relative krb5.conf) to the client's config.
func TestWinRMKerberosFromInventory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "krb5.conf"), []byte("[libdefaults]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "inventory.yaml")
	content := `hosts:
  - name: win3
    transport: winrm
    winrm_https: true
    winrm_auth: kerberos
    user: patchsvc@lab.example.com
    winrm_krb5_conf: krb5.conf
    winrm_kerberos_spn: HTTP/win3.lab.example.com
    password_env: PW
`
	if err := os.WriteFile(inv, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	hosts, err := inventory.Load(inv, inventory.LoadOptions{Home: dir, DefaultUser: "x",
		Getenv: func(k string) string { return map[string]string{"PW": "pw"}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := NewDialer(Options{}).winrmConfig(hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "patchsvc" || cfg.Realm != "LAB.EXAMPLE.COM" || cfg.KrbConfig != filepath.Join(dir, "krb5.conf") ||
		cfg.SPN != "HTTP/win3.lab.example.com" || cfg.Password != "pw" || cfg.KrbCCache != "" {
		t.Errorf("kerberos host mapped to user %q realm %q krb5.conf %q spn %q ccache %q", cfg.User, cfg.Realm, cfg.KrbConfig, cfg.SPN, cfg.KrbCCache)
	}
}
