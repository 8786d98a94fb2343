package fleet

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestFaultRejectAuth(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Faults: Faults{RejectAuth: true}})
	h := f.SimHosts()[0]
	if _, err := dial(t, f, h.Name()); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("dial with auth rejected: %v", err)
	}
	h.SetFaults(Faults{})
	c, err := dial(t, f, h.Name())
	if err != nil {
		t.Fatalf("dial after clearing the fault: %v", err)
	}
	c.Close()
}

func TestWrongUserOrKeyIsRejected(t *testing.T) {
	f := startFleet(t, Config{Count: 1})
	cfg := f.ClientConfig()
	cfg.User = "mallory"
	if _, err := ssh.Dial("tcp", f.SimHosts()[0].Addr(), cfg); err == nil {
		t.Fatal("wrong user accepted")
	}
	other := startFleet(t, Config{Count: 1, Seed: 7})
	cfg = other.ClientConfig()
	cfg.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	if _, err := ssh.Dial("tcp", f.SimHosts()[0].Addr(), cfg); err == nil {
		t.Fatal("another fleet's key accepted")
	}
}

// The changed host key is caught by a strict known_hosts check of the file
// WriteInventory wrote.
func TestFaultChangedHostKey(t *testing.T) {
	f := startFleet(t, Config{Count: 1})
	h := f.SimHosts()[0]
	dir := t.TempDir()
	if _, err := f.WriteInventory(dir); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(filepath.Join(dir, KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.ClientConfig()
	cfg.HostKeyCallback = cb
	c, err := ssh.Dial("tcp", h.Addr(), cfg)
	if err != nil {
		t.Fatalf("known_hosts check before the fault: %v", err)
	}
	c.Close()
	h.UpdateFaults(func(fl *Faults) { fl.ChangedHostKey = true })
	_, err = ssh.Dial("tcp", h.Addr(), cfg)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Fatalf("want a knownhosts key mismatch, got %v", err)
	}
}

// The connection dies mid-install; the transaction still completes on the
// host, which a reconnecting client can see.
func TestFaultDropDuringInstall(t *testing.T) {
	for _, d := range Distros() {
		t.Run(string(d), func(t *testing.T) {
			f := startFleet(t, Config{Hosts: []HostSpec{{Name: "h", Distro: d, Faults: Faults{DropDuringInstall: 1}}}})
			h := f.Host("h")
			c, err := dial(t, f, "h")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			install := map[string]string{"apt": "apt-get -y dist-upgrade", "dnf": "dnf -y upgrade", "zypper": "zypper -n update",
				"apk": "apk upgrade", "pacman": "pacman -Syu --noconfirm"}[h.prof.manager]
			out, _, code, err := runSSH(c, install)
			var missing *ssh.ExitMissingError
			if err == nil || (!errors.As(err, &missing) && !strings.Contains(err.Error(), "EOF")) {
				t.Fatalf("want the session to die without an exit status, got exit %d err %v", code, err)
			}
			if out == "" {
				t.Error("no partial output before the drop")
			}
			if len(h.Pending()) != 0 {
				t.Error("the transaction did not complete on the host")
			}
			if h.Faults().DropDuringInstall != 0 {
				t.Error("the fault did not count down")
			}
			c2, err := dial(t, f, "h")
			if err != nil {
				t.Fatalf("reconnect: %v", err)
			}
			defer c2.Close()
			if _, _, code, err := runSSH(c2, install); err != nil || code != 0 {
				t.Errorf("second install: exit %d err %v", code, err)
			}
		})
	}
}

func TestFaultNeverReturn(t *testing.T) {
	log := &eventLog{}
	f := startFleet(t, Config{Count: 1, DownTime: 5 * time.Millisecond, Faults: Faults{NeverReturn: true}, Logf: log.logf})
	h := f.SimHosts()[0]
	if _, _, code := runLocal(t, h, "reboot"); code != 0 {
		t.Fatal("reboot failed")
	}
	waitFor(t, "power-off", 5*time.Second, func() bool { return !h.Up() })
	// The power cycle ends either with the host staying down or with it
	// back up: wait for its end instead of for some time.
	waitFor(t, "the power cycle to end", 5*time.Second, func() bool { return log.has("stays down") || h.Up() })
	if h.Up() || h.Reboots() != 0 {
		t.Fatal("the host came back")
	}
	if nc, err := net.DialTimeout("tcp", h.Addr(), time.Second); err == nil {
		nc.Close()
		t.Fatal("connection accepted by a host that never returns")
	}
}

func TestFaultLatency(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Faults: Faults{Latency: 80 * time.Millisecond}})
	c, err := dial(t, f, f.SimHosts()[0].Name())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, _, code, err := runSSH(c, "true"); err != nil || code != 0 {
		t.Fatal(code, err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("command took %v on a slow host", d)
	}
}

func TestFaultLockHeld(t *testing.T) {
	hosts := []HostSpec{{Name: "deb", Distro: Debian12}, {Name: "rocky", Distro: Rocky9}, {Name: "leap", Distro: OpenSUSE155}}
	f := startFleet(t, Config{Hosts: hosts, TimeScale: 0.001})
	const held = 150 * time.Millisecond
	for _, h := range f.SimHosts() {
		h.SetFaults(Faults{LockHeld: held})
	}
	deb, rocky, leap := f.Host("deb"), f.Host("rocky"), f.Host("leap")

	_, errOut, code := runLocal(t, deb, "apt-get -q update")
	if code != 100 || !strings.Contains(errOut, "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 2215 (unattended-upgr)") {
		t.Errorf("apt without a lock timeout: exit %d stderr %q", code, errOut)
	}
	_, errOut, code = runLocal(t, deb, "apt-get -y -o DPkg::Lock::Timeout=1 dist-upgrade")
	if code != 100 || !strings.Contains(errOut, "Unable to acquire the dpkg frontend lock") {
		t.Errorf("apt with a too short lock timeout (1 s scaled = 1 ms): exit %d stderr %q", code, errOut)
	}
	_, errOut, code = runLocal(t, leap, "zypper -n update")
	if code != 7 || !strings.Contains(errOut, "System management is locked by the application with pid") {
		t.Errorf("zypper without ZYPP_LOCK_TIMEOUT: exit %d stderr %q", code, errOut)
	}
	// Waiting long enough succeeds: 1000 s scaled by 0.001 is 1 s > held.
	for _, h := range f.SimHosts() { // restart every lock for the waiting half
		h.SetFaults(Faults{LockHeld: held})
	}
	start := time.Now()
	if _, errOut, code := runLocal(t, deb, "apt-get -y -o DPkg::Lock::Timeout=1000 dist-upgrade"); code != 0 || !strings.Contains(errOut, "Waiting for cache lock") {
		t.Errorf("apt waiting for the lock: exit %d stderr %q", code, errOut)
	}
	leap.SetFaults(Faults{LockHeld: held})
	if _, _, code := runLocal(t, leap, "ZYPP_LOCK_TIMEOUT=1000 zypper -n update"); code != 102 {
		t.Errorf("zypper waiting for the lock: exit %d", code)
	}
	rocky.SetFaults(Faults{LockHeld: held})
	if out, _, code := runLocal(t, rocky, "dnf -y upgrade"); code != 0 || !strings.Contains(out, "Waiting for process with pid 1544 to finish.") {
		t.Errorf("dnf waiting for the lock: exit %d", code)
	}
	if time.Since(start) < 3*held {
		t.Error("nobody waited for the lock")
	}
}

func TestFaultHandshakeResets(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Faults: Faults{HandshakeResets: 2}})
	name := f.SimHosts()[0].Name()
	for i := 0; i < 2; i++ {
		if c, err := dial(t, f, name); err == nil {
			c.Close()
			t.Fatalf("connection %d was not reset", i+1)
		}
	}
	c, err := dial(t, f, name)
	if err != nil {
		t.Fatalf("third connection: %v", err)
	}
	c.Close()
}

func TestFaultModifiedConffile(t *testing.T) {
	f := startFleet(t, Config{Hosts: []HostSpec{{Name: "d", Distro: Debian12, Faults: Faults{ModifiedConffile: true}}}})
	h := f.Host("d")
	out, errOut, code := runLocal(t, h, "DEBIAN_FRONTEND=noninteractive apt-get -y dist-upgrade </dev/null")
	if code != 100 || !strings.Contains(errOut, "end of file on stdin at conffile prompt") ||
		!strings.Contains(out, "Configuration file '/etc/rsyslog.conf'") {
		t.Fatalf("upgrade without --force-confold: exit %d\n%s\n%s", code, out, errOut)
	}
	_, errOut, code = runLocal(t, h, "apt-get -y install --only-upgrade rsyslog")
	if code != 100 || !strings.Contains(errOut, "dpkg was interrupted, you must manually run 'dpkg --configure -a'") {
		t.Errorf("apt after an interrupted dpkg: exit %d %q", code, errOut)
	}
	if out, _, _ := runLocal(t, h, "dpkg -l rsyslog"); !strings.Contains(out, "iU  rsyslog") {
		t.Errorf("rsyslog not half-configured:\n%s", out)
	}
	if _, _, code := runLocal(t, h, "dpkg --force-confold --configure -a"); code != 0 {
		t.Fatalf("dpkg --configure -a: exit %d", code)
	}
	if _, _, code := runLocal(t, h, "apt-get -y -o Dpkg::Options::=--force-confold dist-upgrade"); code != 0 {
		t.Errorf("apt after recovery: exit %d", code)
	}
	// With --force-confold from the start there is no prompt at all.
	g := startFleet(t, Config{Hosts: []HostSpec{{Name: "d", Distro: Debian12, Faults: Faults{ModifiedConffile: true}}}})
	out, _, code = runLocal(t, g.Host("d"), "apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade </dev/null")
	if code != 0 || !strings.Contains(out, "Keeping old config file as default.") {
		t.Errorf("confold upgrade: exit %d\n%s", code, out)
	}
}

func TestWriteInventory(t *testing.T) {
	f := startFleet(t, Config{PerDistro: map[Distro]int{Debian12: 2, Rocky9: 1}})
	dir := t.TempDir()
	path, err := f.WriteInventory(dir)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"user: root", "ssh_key: id_ed25519", "known_hosts: known_hosts", "host_key_policy: strict",
		"debian: [debian-001, debian-002]", "rocky: [rocky-001]", "- name: debian-001\n    address: 127.0.0.1\n    port: "} {
		if !strings.Contains(string(inv), want) {
			t.Errorf("inventory lacks %q:\n%s", want, inv)
		}
	}
	kh, _ := os.ReadFile(filepath.Join(dir, KnownHostsFile))
	if n := strings.Count(string(kh), "[127.0.0.1]:"); n != 3 {
		t.Errorf("known_hosts has %d host lines, want 3:\n%s", n, kh)
	}
	key, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatalf("key file does not parse: %v", err)
	}
	cb, _ := knownhosts.New(filepath.Join(dir, KnownHostsFile))
	c, err := ssh.Dial("tcp", f.Host("rocky-001").Addr(), &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: cb})
	if err != nil {
		t.Fatalf("dial with the written key and known_hosts: %v", err)
	}
	c.Close()
}
