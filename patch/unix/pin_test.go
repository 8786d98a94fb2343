package unix

import (
	"context"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/patch"
)

// A subset install names every update at the version its scan offered, so
// a newer version published since (a saved plan applied days later) is
// never installed instead; landing on the asked-for version counts as
// installed even though the newer one is now pending.
func TestSubsetInstallPinsTheScannedVersion(t *testing.T) {
	ctx := context.Background()
	const aptScan = "LANG=C LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade"
	const rpmQuery = "LANG=C LC_ALL=C rpm -q --qf '%{NAME}.%{ARCH} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n' labsec"
	const zypperList = "LANG=C LC_ALL=C ZYPP_LOCK_TIMEOUT=120 zypper -n --xmlout list-updates"
	zypperAfter := `<stream><update-status version="0.6"><update-list>` +
		`<update kind="package" name="labsec" edition="1.2-1" arch="x86_64" edition-old="%s"><source alias="lab"/></update>` +
		`</update-list></update-status></stream>`
	tests := []struct {
		name, osr, managers string
		update              patch.Update
		install             string
		after               map[string]string // rescan line → its output once the install ran
		wantErr             string            // the update's error, "" = installed
	}{
		{"apt name=version", osDebian, "/usr/bin/apt-get",
			patch.Update{Name: "labsec", Arch: "amd64", Current: "1.0", Available: "1.1"},
			"LANG=C LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-remove -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install --only-upgrade labsec=1.1 </dev/null",
			map[string]string{aptScan: "Inst labsec [1.1] (1.2 Lab:lab [amd64])\n"}, ""},
		{"apt still at the old version", osDebian, "/usr/bin/apt-get",
			patch.Update{Name: "labsec", Arch: "amd64", Current: "1.0", Available: "1.1"},
			"LANG=C LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-remove -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install --only-upgrade labsec=1.1 </dev/null",
			map[string]string{aptScan: "Inst labsec [1.0] (1.2 Lab:lab [amd64])\n"}, "still pending after install (available 1.2)"},
		{"dnf name-epoch:version-release.arch", osRocky, "/usr/bin/dnf",
			patch.Update{Name: "labsec", Arch: "x86_64", Current: "1.0-1", Available: "1:1.1-1"},
			"LANG=C LC_ALL=C dnf -y upgrade labsec-1:1.1-1.x86_64",
			map[string]string{
				"LANG=C LC_ALL=C dnf -q -y check-update": "labsec.x86_64  1:1.2-1  lab\n",
				rpmQuery:                                 "labsec.x86_64 1:1.1-1\n",
			}, ""},
		{"yum name-version-release.arch", osCentOS7, "/usr/bin/yum",
			patch.Update{Name: "labsec", Arch: "x86_64", Current: "1.0-1", Available: "1.1-1"},
			"LANG=C LC_ALL=C yum -y update labsec-1.1-1.x86_64",
			map[string]string{
				"LANG=C LC_ALL=C yum -q -y check-update": "labsec.x86_64  1.2-1  lab\n",
				rpmQuery:                                 "labsec.x86_64 0:1.1-1\n",
			}, ""},
		{"zypper install name=version", osSLES, "/usr/bin/zypper",
			patch.Update{Name: "labsec", Arch: "x86_64", Current: "1.0-1", Available: "1.1-1"},
			"LANG=C LC_ALL=C ZYPP_LOCK_TIMEOUT=120 zypper -n install --auto-agree-with-licenses labsec=1.1-1",
			map[string]string{zypperList: strings.Replace(zypperAfter, "%s", "1.1-1", 1)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			b := detectWith(t, f, tt.osr, tt.managers, Options{})
			f.on(tt.install, ok(""))
			for line, out := range tt.after {
				code := 0
				if strings.Contains(line, "check-update") {
					code = checkUpdatePending
				}
				f.on(line, exit(code, out, ""))
			}
			res, err := b.Install(ctx, f, []patch.Update{tt.update}, false)
			if f.count(tt.install) != 1 {
				t.Fatalf("pinned install line not sent; sent %q", f.sent)
			}
			if err != nil {
				t.Fatal(err)
			}
			u := res.Updates[0]
			if tt.wantErr == "" && (!u.Installed || u.Error != "") {
				t.Fatalf("want installed, got %+v", u)
			}
			if tt.wantErr != "" && (u.Installed || u.Error != tt.wantErr) {
				t.Fatalf("want error %q, got %+v", tt.wantErr, u)
			}
		})
	}
}

// A version that could smuggle shell syntax onto the command line is
// refused, not quoted.
func TestSubsetInstallRefusesAnUnsafeVersion(t *testing.T) {
	f := newFake(t)
	b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
	res, err := b.Install(context.Background(), f, []patch.Update{{Name: "labsec", Current: "1.0", Available: "1.1;reboot"}}, false)
	if err != nil || res.Updates[0].Installed || !strings.Contains(res.Updates[0].Error, "refused") {
		t.Fatalf("%v %+v", err, res.Updates)
	}
	for _, l := range f.sent {
		if strings.Contains(l, "reboot") {
			t.Fatalf("sent %q", l)
		}
	}
}
