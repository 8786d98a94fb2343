package fleet

import (
	"strings"
	"testing"
	"time"
)

// A reboot drops the connections, refuses new ones while down, and comes
// back on the same port with a new boot id, an empty /run, the newest
// kernel running and the installed packages kept.
func TestRebootCycle(t *testing.T) {
	f := startFleet(t, Config{
		Hosts:     []HostSpec{{Name: "web1", Distro: Debian12}},
		TimeScale: 0.001, DownTime: 20 * time.Millisecond,
	})
	h := f.Host("web1")
	c, err := dial(t, f, "web1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bootBefore, _, _, _ := runSSH(c, "cat /proc/sys/kernel/random/boot_id")
	if strings.TrimSpace(bootBefore) != h.BootID() {
		t.Fatalf("boot_id file %q != BootID() %q", bootBefore, h.BootID())
	}
	if _, _, code, err := runSSH(c, "apt-get -y dist-upgrade </dev/null"); err != nil || code != 0 {
		t.Fatalf("install: %d %v", code, err)
	}
	_, errOut, code, err := runSSH(c, "systemd-run --on-active=5 --unit=patchrun-reboot-1 systemctl reboot")
	if err != nil || code != 0 || !strings.Contains(errOut, "Running timer as unit: patchrun-reboot-1.timer") {
		t.Fatalf("systemd-run: exit %d err %v stderr %q", code, err, errOut)
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Wait() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the open connection was not dropped by the reboot")
	}
	// Whether a connection is refused while the host is down is not
	// checked here: it would race with the host coming back after
	// DownTime. TestFaultNeverReturn checks it on a host that stays down.
	waitFor(t, "host to come back", 5*time.Second, func() bool { return h.Reboots() == 1 && h.Up() })
	c2, err := dial(t, f, "web1")
	if err != nil {
		t.Fatalf("redial after reboot: %v", err)
	}
	defer c2.Close()
	bootAfter, _, _, _ := runSSH(c2, "cat /proc/sys/kernel/random/boot_id")
	if bootAfter == bootBefore || len(strings.TrimSpace(bootAfter)) != 36 {
		t.Errorf("boot id %q after reboot, was %q", bootAfter, bootBefore)
	}
	if out, _, code, _ := runSSH(c2, "test -e /run/reboot-required || echo clean"); code != 0 || out != "clean\n" {
		t.Errorf("/run survived the reboot: %q %d", out, code)
	}
	if out, _, _, _ := runSSH(c2, "uname -r"); out != "6.1.0-40-amd64\n" {
		t.Errorf("running kernel after reboot = %q, want the new one", out)
	}
	if h.Installed("openssl") != "3.0.22-1~deb12u2" {
		t.Errorf("disk state lost: openssl %q", h.Installed("openssl"))
	}
	if h.Reboots() != 1 || h.RebootRequired() {
		t.Errorf("Reboots() = %d, RebootRequired() = %v", h.Reboots(), h.RebootRequired())
	}
	if hi := f.Hosts()[0]; hi.Port != f.Port("web1") || hi.BootID != strings.TrimSpace(bootAfter) {
		t.Errorf("HostInfo after reboot = %+v", hi)
	}
}

// Every way the backends (or a user) reboot a host works.
func TestRebootCommands(t *testing.T) {
	lines := []string{
		"reboot",
		"systemctl reboot",
		"sudo -n systemctl reboot",
		"shutdown -r now",
		"shutdown -r +1",
		"systemd-run --on-active=5 --unit=patchrun-reboot-x systemctl reboot",
		"nohup sh -c 'sleep 5; reboot' >/dev/null 2>&1 </dev/null &",
	}
	f := startFleet(t, Config{Count: len(lines), TimeScale: 0.001, DownTime: 5 * time.Millisecond})
	for i, line := range lines {
		h := f.SimHosts()[i]
		t.Run(line, func(t *testing.T) {
			before := h.BootID()
			c, err := dial(t, f, h.Name())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			_ = s.Run(line) // nil, exit-missing or EOF: all mean "maybe started"
			s.Close()
			waitFor(t, "reboot", 5*time.Second, func() bool { return h.Reboots() == 1 && h.Up() })
			if h.BootID() == before {
				t.Error("boot id unchanged")
			}
		})
	}
}

func TestShutdownCancelAndPoweroff(t *testing.T) {
	log := &eventLog{}
	f := startFleet(t, Config{Count: 2, TimeScale: 0.001, DownTime: 5 * time.Millisecond, Logf: log.logf})
	a, b := f.SimHosts()[0], f.SimHosts()[1]
	if _, errOut, code := runLocal(t, a, "shutdown -r +1"); code != 0 || !strings.Contains(errOut, "Reboot scheduled for") {
		t.Fatalf("shutdown -r +1: %d %q", code, errOut)
	}
	if _, _, code := runLocal(t, a, "shutdown -c"); code != 0 {
		t.Fatal("shutdown -c failed")
	}
	if _, _, code := runLocal(t, b, "poweroff"); code != 0 {
		t.Fatal("poweroff failed")
	}
	// The power cycle ends with the host staying down or back up.
	waitFor(t, "poweroff", 5*time.Second, func() bool { return log.has(b.Name()+": stays down") || b.Reboots() > 0 })
	if a.Reboots() != 0 || !a.Up() || a.rebootScheduled() {
		t.Errorf("cancelled reboot still pending or done: reboots %d up %v scheduled %v", a.Reboots(), a.Up(), a.rebootScheduled())
	}
	if b.Up() || b.Reboots() != 0 {
		t.Errorf("powered-off host came back")
	}
}

func TestRebootFromOutside(t *testing.T) {
	f := startFleet(t, Config{Count: 1, DownTime: 5 * time.Millisecond})
	h := f.SimHosts()[0]
	before := h.BootID()
	h.Reboot()
	waitFor(t, "reboot", 5*time.Second, func() bool { return h.Reboots() == 1 && h.Up() })
	if h.BootID() == before {
		t.Error("boot id unchanged")
	}
}
