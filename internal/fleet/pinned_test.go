package fleet

import (
	"strings"
	"testing"
)

// After AddUpdate publishes a newer version, the one it replaced stays in
// the repositories: a command naming it with its version installs exactly
// it, a bare name the newest, and a version nobody published is refused.
func TestPinnedInstallTakesTheNamedVersion(t *testing.T) {
	tests := []struct {
		distro                    Distro
		pkg, planned, newer       string
		pinned, bare, missingLine string
		missingCode               int
		missingErr                string
	}{
		{Debian12, "openssl", "3.0.22-1~deb12u2", "3.0.23-1~deb12u1",
			"apt-get -y install --only-upgrade openssl=3.0.22-1~deb12u2", "apt-get -y install --only-upgrade openssl",
			"apt-get -y install --only-upgrade openssl=9.9", 100, "E: Version '9.9' for 'openssl' was not found"},
		{Rocky9, "openssl", "1:3.2.2-6.el9_6.2", "1:3.2.2-7.el9_6",
			"dnf -y upgrade openssl-1:3.2.2-6.el9_6.2.x86_64", "dnf -y upgrade openssl",
			"dnf -y upgrade openssl-9.9-1.x86_64", 1, "Error: No packages marked for upgrade."},
		{OpenSUSE155, "openssl-3", "3.0.8-150500.5.45.1", "3.0.8-150500.5.50.1",
			"zypper -n install openssl-3=3.0.8-150500.5.45.1", "zypper -n update openssl-3",
			"zypper -n install openssl-3=9.9", 104, "No provider of 'openssl-3=9.9' found."},
	}
	for _, tc := range tests {
		t.Run(string(tc.distro), func(t *testing.T) {
			f := startFleet(t, Config{Hosts: []HostSpec{{Name: "a", Distro: tc.distro}, {Name: "b", Distro: tc.distro}}})
			for _, name := range []string{"a", "b"} {
				h := f.Host(name)
				h.mu.Lock()
				u := h.updates[tc.pkg]
				h.mu.Unlock()
				if u.Version != tc.planned {
					t.Fatalf("%s offers %s %s, test expects %s", tc.distro, tc.pkg, u.Version, tc.planned)
				}
				u.Version = tc.newer
				h.AddUpdate(u)
			}
			a, b := f.Host("a"), f.Host("b")
			_, errOut, code := runLocal(t, a, tc.missingLine)
			if code != tc.missingCode || !strings.Contains(errOut, tc.missingErr) {
				t.Errorf("%q: exit %d stderr %q, want %d %q", tc.missingLine, code, errOut, tc.missingCode, tc.missingErr)
			}
			if out, errOut, code := runLocal(t, a, tc.pinned); code != 0 || a.Installed(tc.pkg) != tc.planned {
				t.Fatalf("%q: exit %d, %s now %q, want %q\n%s%s", tc.pinned, code, tc.pkg, a.Installed(tc.pkg), tc.planned, out, errOut)
			}
			pending := false
			for _, p := range a.Pending() {
				pending = pending || (p.Name == tc.pkg && p.Current == tc.planned && p.Available == tc.newer)
			}
			if !pending {
				t.Errorf("after the pinned install %s %s should be pending: %+v", tc.pkg, tc.newer, a.Pending())
			}
			if _, _, code := runLocal(t, b, tc.bare); code != 0 || b.Installed(tc.pkg) != tc.newer {
				t.Errorf("%q: exit %d, %s now %q, want the newest %q", tc.bare, code, tc.pkg, b.Installed(tc.pkg), tc.newer)
			}
		})
	}
}
