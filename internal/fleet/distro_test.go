package fleet

import (
	"strings"
	"testing"
)

// Each distro's package manager lists the pending updates in its real
// format, installs them, and afterwards lists nothing; installed versions
// move and the reboot signal appears.
func TestDistroScanInstall(t *testing.T) {
	tests := []struct {
		distro     Distro
		scan       string
		scanCode   int
		scanHas    []string
		install    string
		installOK  []int
		rescanCode int
		rebootCmd  string // exits rebootCode after the install
		rebootCode int
		pkg        string // a package whose version must move
		security   string // a security-only listing
		securityIn string
	}{
		{Debian12, "LANG=C apt-get -s -o Debug::NoLocking=1 dist-upgrade", 0,
			[]string{"Inst libssl3 [3.0.19-1~deb12u2] (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])",
				"Inst linux-image-6.1.0-40-amd64 (6.1.153-1 Debian-Security:12/oldstable-security [amd64])"},
			"DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade </dev/null",
			[]int{0}, 0, "test -e /run/reboot-required", 0, "openssl", "", ""},
		{Ubuntu2404, "apt-get -s dist-upgrade", 0,
			[]string{"Inst openssl [3.0.13-0ubuntu3.5] (3.0.13-0ubuntu3.6 Ubuntu:24.04/noble-security [amd64])"},
			"apt-get -y dist-upgrade", []int{0}, 0, "cat /run/reboot-required.pkgs", 0, "openssl", "", ""},
		{Rocky9, "LANG=C dnf -q -y check-update", 100,
			[]string{"\nkernel.x86_64 ", "openssl.x86_64                             1:3.2.2-6.el9_6.2"},
			"dnf -y upgrade", []int{0}, 0, "dnf -q needs-restarting -r", 1, "openssl",
			"dnf -q updateinfo list --updates --security", "RLSA-2025:17797 Important/Sec. kernel-5.14.0-570.58.1.el9_6.x86_64"},
		{OpenSUSE155, "zypper -n --xmlout list-updates", 0,
			[]string{`<update kind="package" name="libopenssl3" edition="3.0.8-150500.5.45.1" arch="x86_64" edition-old="3.0.8-150500.5.40.1">`},
			"ZYPP_LOCK_TIMEOUT=120 zypper -n update --auto-agree-with-licenses", []int{102}, 0,
			"zypper -n needs-rebooting", 102, "libopenssl3",
			"zypper -n --xmlout list-patches --category security", `category="security" severity="important" pkgmanager="false" restart="true"`},
	}
	for _, tc := range tests {
		t.Run(string(tc.distro), func(t *testing.T) {
			f := startFleet(t, Config{Hosts: []HostSpec{{Name: "h1", Distro: tc.distro}}})
			h := f.Host("h1")
			c, err := dial(t, f, "h1")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			before := h.Installed(tc.pkg)
			if len(h.Pending()) == 0 {
				t.Fatal("a fresh host must have pending updates")
			}
			out, errOut, code, err := runSSH(c, tc.scan)
			if err != nil || code != tc.scanCode {
				t.Fatalf("scan: exit %d err %v stderr %q", code, err, errOut)
			}
			for _, want := range tc.scanHas {
				if !strings.Contains(out, want) {
					t.Errorf("scan output lacks %q:\n%s", want, out)
				}
			}
			if tc.security != "" {
				sec, _, _, _ := runSSH(c, tc.security)
				if !strings.Contains(sec, tc.securityIn) {
					t.Errorf("security listing lacks %q:\n%s", tc.securityIn, sec)
				}
			}
			if _, _, code, _ := runSSH(c, tc.rebootCmd); code == tc.rebootCode {
				t.Errorf("reboot check %q already says %d before installing", tc.rebootCmd, code)
			}
			_, errOut, code, err = runSSH(c, tc.install)
			if err != nil || !containsInt(tc.installOK, code) {
				t.Fatalf("install: exit %d err %v stderr %q", code, err, errOut)
			}
			if after := h.Installed(tc.pkg); after == before {
				t.Errorf("%s still at %s after install", tc.pkg, after)
			}
			if p := h.Pending(); len(p) != 0 {
				t.Errorf("pending after install: %+v", p)
			}
			if _, _, code, _ := runSSH(c, tc.scan); code != tc.rescanCode {
				t.Errorf("rescan exit %d, want %d", code, tc.rescanCode)
			}
			if out, _, code, _ := runSSH(c, tc.rebootCmd); code != tc.rebootCode {
				t.Errorf("reboot check %q: exit %d, want %d (%q)", tc.rebootCmd, code, tc.rebootCode, out)
			}
			if !h.RebootRequired() {
				t.Error("RebootRequired() = false after a kernel update")
			}
		})
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestAptDetails(t *testing.T) {
	f := startFleet(t, Config{Hosts: []HostSpec{{Name: "d", Distro: Debian12}}})
	h := f.Host("d")
	tests := []struct {
		name, line string
		code       int
		out, err   string
	}{
		{"unknown package", "apt-get -y install no-such-package", 100, "Reading package lists...\n", "E: Unable to locate package no-such-package\n"},
		{"no -y aborts", "apt-get dist-upgrade </dev/null", 1, "Do you want to continue? [Y/n] Abort.\n", ""},
		{"upgrade keeps the kernel back", "apt-get -s upgrade", 0, "The following packages have been kept back:\n  linux-image-amd64\n", ""},
		{"only-upgrade of a new package", "apt-get -s install --only-upgrade linux-image-6.1.0-40-amd64", 0, "Skipping linux-image-6.1.0-40-amd64, it is not installed and only upgrades are requested.\n", ""},
		{"install one pulls its dependency", "apt-get -s install --only-upgrade linux-image-amd64", 0, "Inst linux-image-6.1.0-40-amd64 (6.1.153-1", ""},
		{"non-root is refused", "USER=bob apt-get -y dist-upgrade", 100, "", "are you root?"},
		{"dpkg-query", "dpkg-query -W -f='${Package} ${Version}\\n' openssl", 0, "openssl 3.0.19-1~deb12u2\n", ""},
		{"apt list", "apt list --upgradable", 0, "openssl/oldstable-security 3.0.22-1~deb12u2 amd64 [upgradable from: 3.0.19-1~deb12u2]\n", "WARNING: apt does not have a stable CLI interface"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runLocal(t, h, tc.line)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("%q: exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", tc.line, code, tc.code, out, tc.out, errOut, tc.err)
			}
		})
	}
	if len(h.Pending()) == 0 {
		t.Error("simulations must not install anything")
	}
}

func TestDnfAndRpmDetails(t *testing.T) {
	f := startFleet(t, Config{Hosts: []HostSpec{{Name: "r", Distro: Rocky9}}})
	h := f.Host("r")
	out, errOut, code := runLocal(t, h, "dnf -y upgrade no-such-package")
	if code != 1 || !strings.Contains(out, "No match for argument: no-such-package") || errOut != "Error: No packages marked for upgrade.\n" {
		t.Errorf("unknown package: exit %d stdout %q stderr %q", code, out, errOut)
	}
	if _, _, code := runLocal(t, h, "dnf -y upgrade --security"); code != 0 {
		t.Fatalf("security upgrade exit %d", code)
	}
	if h.Installed("tzdata") != "2025a-1.el9" {
		t.Errorf("--security upgraded a bugfix package: tzdata %s", h.Installed("tzdata"))
	}
	out, _, _ = runLocal(t, h, "rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\\n' kernel")
	if out != "kernel 5.14.0-570.17.1.el9_6\nkernel 5.14.0-570.58.1.el9_6\n" {
		t.Errorf("installonly kernel must keep both versions, rpm -q says %q", out)
	}
	if _, _, code := runLocal(t, h, "dnf -q updateinfo list --updates --security"); code != 0 {
		t.Errorf("updateinfo exit %d", code)
	}
	out, _, _ = runLocal(t, h, "dnf -q updateinfo list --updates")
	if strings.Contains(out, "Sec.") || !strings.Contains(out, "RLBA-2025:9876  bugfix      tzdata-2025b-1.el9.noarch") {
		t.Errorf("after the security upgrade only bugfix/enhancement advisories remain:\n%s", out)
	}
}

func TestZypperDetails(t *testing.T) {
	f := startFleet(t, Config{Hosts: []HostSpec{{Name: "s", Distro: OpenSUSE155}}})
	h := f.Host("s")
	out, errOut, code := runLocal(t, h, "zypper -n update no-such-package")
	if code != 104 || !strings.Contains(out, "'no-such-package' not found in package names. Trying capabilities.") || errOut != "No provider of 'no-such-package' found.\n" {
		t.Errorf("unknown package: exit %d stdout %q stderr %q", code, out, errOut)
	}
	if _, _, code := runLocal(t, h, "zypper -n patch-check"); code != 101 {
		t.Errorf("patch-check with security patches: exit %d, want 101", code)
	}
	if _, _, code := runLocal(t, h, "zypper -n patch --category security"); code != 102 {
		t.Errorf("security patch with a kernel: exit %d, want 102", code)
	}
	if h.Installed("timezone") != "2024a-150000.75.28.1" {
		t.Error("a security-only patch run installed a recommended patch")
	}
	if _, _, code := runLocal(t, h, "zypper -n patch-check"); code != 100 {
		t.Errorf("patch-check with only a recommended patch: exit %d, want 100", code)
	}
	out, _, _ = runLocal(t, h, "zypper -n list-updates")
	if !strings.Contains(out, "v | Update repository with updates from SUSE Linux Enterprise 15 | timezone") {
		t.Errorf("text list-updates:\n%s", out)
	}
}

// A second patch round: an update published after the first install shows
// up in the next scan; commands are recorded in order.
func TestAddUpdateAndCommandsSeen(t *testing.T) {
	f := startFleet(t, Config{Hosts: []HostSpec{{Name: "d", Distro: Debian12}}})
	h := f.Host("d")
	runLocal(t, h, "apt-get -y dist-upgrade")
	if len(h.Pending()) != 0 {
		t.Fatal("first round left updates")
	}
	h.AddUpdate(Update{Name: "openssl", Version: "3.0.23-1~deb12u1", Repo: debSec, Security: true})
	out, _, _ := runLocal(t, h, "apt-get -s dist-upgrade")
	if !strings.Contains(out, "Inst openssl [3.0.22-1~deb12u2] (3.0.23-1~deb12u1 Debian-Security:12/oldstable-security [amd64])") {
		t.Errorf("published update not offered:\n%s", out)
	}
	c, err := dial(t, f, "d")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	runSSH(c, "uname -r")
	runSSH(c, "id -u")
	seen := h.CommandsSeen()
	if len(seen) < 2 || seen[len(seen)-2] != "uname -r" || seen[len(seen)-1] != "id -u" {
		t.Errorf("CommandsSeen = %q", seen)
	}
}
