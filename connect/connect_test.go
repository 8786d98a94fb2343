package connect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/transport/ssh"
)

func TestParseJump(t *testing.T) {
	target := ssh.Config{Address: "10.0.0.5", Port: 2222, User: "root", KeyFiles: []string{"/k"}}
	tests := []struct {
		spec     string
		wantUser string
		wantAddr string
		wantPort int
		wantErr  bool
	}{
		{"bastion", "root", "bastion", 22, false},
		{"ops@bastion", "ops", "bastion", 22, false},
		{"ops@bastion:2200", "ops", "bastion", 2200, false},
		{"[fd00::1]:2200", "root", "fd00::1", 2200, false},
		{"ops@bastion:0", "", "", 0, true},
		{"ops@bastion:ssh", "", "", 0, true},
		{"ops@", "", "", 0, true},
	}
	for _, tt := range tests {
		got, err := parseJump(tt.spec, target)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseJump(%q) error = %v, want error %v", tt.spec, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got.User != tt.wantUser || got.Address != tt.wantAddr || got.Port != tt.wantPort {
			t.Errorf("parseJump(%q) = %s@%s:%d, want %s@%s:%d", tt.spec, got.User, got.Address, got.Port, tt.wantUser, tt.wantAddr, tt.wantPort)
		}
		if got.Jump != nil || len(got.KeyFiles) != 1 {
			t.Errorf("parseJump(%q): jump host should inherit keys and have no jump of its own: %+v", tt.spec, got)
		}
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
		WinRMHTTPS: true, WinRMAuth: "ntlm", WinRMCACert: ca, WinRMServerName: "win1.corp",
	}
	cfg, err := d.winrmConfig(h)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "10.0.0.9" || cfg.Port != 5986 || !cfg.HTTPS || cfg.Auth != "ntlm" || cfg.User != "Administrator" ||
		cfg.Password != "s3cret" || cfg.ServerName != "win1.corp" || string(cfg.CACertPEM) == "" || cfg.ConnectTimeout != 7e9 {
		t.Errorf("winrm config not mapped: %+v", cfg)
	}

	h.WinRMCACert = filepath.Join(dir, "missing.pem")
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
