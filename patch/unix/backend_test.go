package unix

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

func detectWith(t *testing.T, f *fakeTransport, osr, managers string, opts Options) patch.Backend {
	t.Helper()
	f.on(CmdProbe, ok(probeOutput(osr, managers, "0")))
	b, err := Detect(context.Background(), f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noReboot answers the reboot-signal probe with "nothing pending".
func noReboot(f *fakeTransport) {
	f.on(CmdRebootSignals, ok(sections(SectionKernel, "6.1.0-18-amd64", SectionModules, "")))
}

func installedNames(r patch.InstallResult) (installed, failed []string) {
	for _, u := range r.Updates {
		if u.Installed {
			installed = append(installed, u.Name)
		} else if u.Error != "" {
			failed = append(failed, u.Name+": "+u.Error)
		}
	}
	return
}

func TestAptScanAndSecurityInstall(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
	const scan = "LANG=C LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade"
	// First scan: the lab's 5 pending updates; the rescan after the install
	// still lists labtool and labdep (not selected) only.
	after := strings.Join([]string{
		"Inst labdep (1.0 Lab:lab [all])",
		"Inst labtool [1.0] (1.1 Lab:lab [all])",
	}, "\n")
	f.on(scan, ok(capturedFile(t, "apt/dist-upgrade-s.txt")), ok(after))
	ups, err := b.Scan(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	sel := patch.Selection{SecurityOnly: true}
	picked := sel.Filter(ups)
	const install = "LANG=C LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-remove -o DPkg::Lock::Timeout=120 " +
		"-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold " +
		"install --only-upgrade labboth=2:1.1-1 labsec=1.1 linux-image-lab=6.1.99-1 </dev/null"
	f.on(install, ok("Setting up labsec (1.1) ...\n"))
	noReboot(f)
	res, err := b.Install(ctx, f, picked, sel.FullUpgrade())
	if err != nil {
		t.Fatal(err)
	}
	if f.count(install) != 1 {
		t.Fatalf("install line not sent exactly once; sent %q", f.sent)
	}
	// The caller reads the pending-reboot signals right after an install;
	// reading them inside it too doubled the work on every round.
	if n := f.count(CmdRebootSignals); n != 0 {
		t.Errorf("Install read the reboot signals %d times; the caller reads them", n)
	}
	inst, failed := installedNames(res)
	if !reflect.DeepEqual(inst, []string{"labboth", "labsec", "linux-image-lab"}) || failed != nil {
		t.Fatalf("installed %v failed %v", inst, failed)
	}
	if !res.RebootRequired {
		t.Fatal("installing linux-image-lab predicts a reboot")
	}
}

// Without full, Install names exactly the given updates even when the caller
// gives only some of what Scan found: it never widens to a host-wide upgrade.
func TestInstallSubsetNamesExactlyTheGivenUpdates(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
	const scan = "LANG=C LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade"
	ups := parseAptSimulation(capturedFile(t, "apt/dist-upgrade-s.txt"))
	var one []patch.Update
	for _, u := range ups {
		if u.Name == "labsec" {
			one = append(one, u)
		}
	}
	install := CmdAptInstall([]string{"labsec=1.1"})
	f.on(install, ok("Setting up labsec (1.1) ...\n"))
	f.on(scan, ok(""))
	noReboot(f)
	if _, err := b.Install(ctx, f, one, false); err != nil {
		t.Fatal(err)
	}
	if f.count(install) != 1 || f.count(CmdAptUpgradeAll) != 0 {
		t.Fatalf("want only %q, sent %q", install, f.sent)
	}
}

func TestAptInstallFailures(t *testing.T) {
	ctx := context.Background()
	const scan = "LANG=C LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade"
	const full = "LANG=C LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-remove -o DPkg::Lock::Timeout=120 " +
		"-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade </dev/null"
	ups := parseAptSimulation(capturedFile(t, "apt/dist-upgrade-s.txt"))

	t.Run("exit 100 is a failure with the E: line", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		unknown := captured(t, "apt/install-unknown") // real apt: exit 100, E: Unable to locate package
		f.on(full, unknown)
		f.on(scan, ok(capturedFile(t, "apt/dist-upgrade-s.txt")))
		noReboot(f)
		res, err := b.Install(ctx, f, ups, true)
		if !errors.Is(err, patch.ErrCommandFailed) || !strings.Contains(err.Error(), "exit status 100") ||
			!strings.Contains(err.Error(), "E: Unable to locate package") {
			t.Fatalf("want ErrCommandFailed with exit code and E: line, got %v", err)
		}
		// The text is one line; the output's tail is a field, shown once
		// by the report rather than repeated inside every error message.
		var ce *patch.CommandError
		if strings.Contains(err.Error(), "\n") || !errors.As(err, &ce) ||
			ce.ExitCode != 100 || !strings.Contains(ce.Output, "Building dependency tree") {
			t.Fatalf("want a one-line *patch.CommandError with the output tail in Output, got %q (%#v)", err, ce)
		}
		if inst, failed := installedNames(res); inst != nil || len(failed) != len(ups) {
			t.Fatalf("installed %v failed %v", inst, failed)
		}
	})
	t.Run("an upgrade that would remove packages is refused, not applied", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		f.on(full, captured(t, "apt/install-no-remove")) // real apt with --no-remove
		f.on(scan, ok(capturedFile(t, "apt/dist-upgrade-s.txt")))
		noReboot(f)
		_, err := b.Install(ctx, f, ups, true)
		if !errors.Is(err, patch.ErrCommandFailed) || !strings.Contains(err.Error(), "remove is disabled") {
			t.Fatalf("want ErrCommandFailed saying removals are disabled, got %v", err)
		}
	})
	t.Run("exit 0 with E: lines is trusted, rescan decides", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		f.on(full, exit(0, "", "E: something odd but harmless\n"))
		f.on(scan, ok(capturedFile(t, "apt/dist-upgrade-s-none.txt")))
		noReboot(f)
		res, err := b.Install(ctx, f, ups, true)
		if err != nil {
			t.Fatal(err)
		}
		if inst, _ := installedNames(res); len(inst) != len(ups) {
			t.Fatalf("installed %v", inst)
		}
	})
	t.Run("unsafe names are refused, not sent", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		evil := []patch.Update{{Name: "x;reboot", Current: "1"}}
		res, err := b.Install(ctx, f, evil, false)
		if err != nil && !errors.Is(err, patch.ErrCommandFailed) {
			t.Fatal(err)
		}
		for _, s := range f.sent {
			if strings.Contains(s, "reboot") {
				t.Fatalf("unsafe name reached the shell: %q", s)
			}
		}
		if res.Updates[0].Installed || res.Updates[0].Error == "" {
			t.Fatalf("unsafe name must be an error: %+v", res.Updates[0])
		}
	})
	t.Run("a new package alone cannot be named with --only-upgrade", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		sel := patch.Selection{Include: []string{"labdep"}}
		res, err := b.Install(ctx, f, sel.Filter(ups), sel.FullUpgrade())
		if err != nil || len(res.Updates) != 1 || res.Updates[0].Installed || res.Updates[0].Error == "" {
			t.Fatalf("%v %+v", err, res.Updates)
		}
		if len(f.sent) != 1 { // only Detect's probe
			t.Fatalf("no install command expected, sent %q", f.sent)
		}
	})
	t.Run("lost connection mid-install", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		f.on(full, fail(transport.ErrConnLost))
		res, err := b.Install(ctx, f, ups, true)
		if !errors.Is(err, transport.ErrConnLost) {
			t.Fatalf("want ErrConnLost, got %v", err)
		}
		if res.Updates[0].Installed || !strings.Contains(res.Updates[0].Error, "outcome unknown") {
			t.Fatalf("%+v", res.Updates[0])
		}
	})
}

func TestDNFScanInstall(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	b := detectWith(t, f, osRocky, "/usr/bin/dnf\n/usr/bin/yum", Options{})
	const checkUpdate = "LANG=C LC_ALL=C dnf -q -y check-update"
	f.on(checkUpdate, captured(t, "dnf/check-update"), captured(t, "dnf/check-update-after"))
	f.on("LANG=C LC_ALL=C rpm -q --qf '%{NAME}.%{ARCH} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n' kernel-lab labepoch labsec labtool",
		captured(t, "rpm/query"))
	f.on(CmdRPMAdvisories("dnf", ""), ok(rpmAdvisoryOutput(t, "dnf/updateinfo-list-v", "dnf/updateinfo-cves")))
	ups, err := b.Scan(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(u patch.Update) patch.Update {
		u.Security, u.Advisory, u.Categories = true, "LAB-2024-0001", []string{"security"}
		u.Severity, u.VendorSeverity, u.CVEs, u.Issued = "important", "Important", []string{"CVE-2024-0001"}, day("2024-05-01 00:00:00")
		return u
	}
	want := []patch.Update{
		sec(patch.Update{Name: "kernel-lab", Arch: "x86_64", Current: "6.1.90-1", Available: "6.1.99-1", Repo: "lab"}),
		{Name: "labepoch", Arch: "noarch", Current: "2:1.0-1", Available: "2:1.1-1", Repo: "lab"},
		sec(patch.Update{Name: "labsec", Arch: "x86_64", Current: "1.0-1", Available: "1.1-1", Repo: "lab"}),
		{Name: "labtool", Arch: "noarch", Current: "1.0-1", Available: "1.1-1", Repo: "lab",
			Advisory: "LAB-2024-0002", Categories: []string{"bugfix"}, Issued: day("2024-05-02 00:00:00")},
	}
	if !reflect.DeepEqual(ups, want) {
		t.Fatalf("scan:\n got %+v\nwant %+v", ups, want)
	}
	sel := patch.Selection{Include: []string{"labtool"}}
	f.on("LANG=C LC_ALL=C dnf -y upgrade labtool-1.1-1.noarch", captured(t, "dnf/upgrade-labtool"))
	f.on("LANG=C LC_ALL=C rpm -q --qf '%{NAME}.%{ARCH} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n' kernel-lab labepoch labsec", captured(t, "rpm/query"))
	noReboot(f)
	f.on("LANG=C LC_ALL=C dnf -q needs-restarting -r", captured(t, "dnf/needs-restarting-clean"))
	res, err := b.Install(ctx, f, sel.Filter(ups), sel.FullUpgrade())
	if err != nil {
		t.Fatal(err)
	}
	if inst, failed := installedNames(res); !reflect.DeepEqual(inst, []string{"labtool"}) || failed != nil || res.RebootRequired {
		t.Fatalf("installed %v failed %v reboot %v", inst, failed, res.RebootRequired)
	}
}

func TestRPMExitCodes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		managers string
		osr      string
		line     string
		answer   step
		wantN    int
		wantErr  bool
	}{
		{"dnf 0 = nothing pending", "/usr/bin/dnf", osRocky, "LANG=C LC_ALL=C dnf -q -y check-update", captured(t, "dnf/check-update-none"), 0, false},
		{"dnf 1 = error (real broken repo)", "/usr/bin/dnf", osRocky, "LANG=C LC_ALL=C dnf -q -y check-update", captured(t, "dnf/check-update-broken"), 0, true},
		{"yum 0", "/usr/bin/yum", osCentOS7, "LANG=C LC_ALL=C yum -q -y check-update", ok(""), 0, false},
		{"dnf5 1", "/usr/bin/dnf5", osFedora, "LANG=C LC_ALL=C dnf5 -q -y check-update", exit(1, "", "Failed to download metadata"), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			b := detectWith(t, f, tt.osr, tt.managers, Options{})
			f.on(tt.line, tt.answer)
			ups, err := b.Scan(ctx, f)
			if tt.wantErr != (err != nil) || len(ups) != tt.wantN {
				t.Fatalf("got %d updates, err %v", len(ups), err)
			}
			if tt.wantErr && (!errors.Is(err, patch.ErrCommandFailed) || !strings.Contains(err.Error(), "exit status 1")) {
				t.Fatalf("want ErrCommandFailed with exit code: %v", err)
			}
		})
	}
}

func TestYumAndDNF5Commands(t *testing.T) {
	ctx := context.Background()
	t.Run("yum", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osCentOS7, "/usr/bin/yum", Options{})
		// yum's check-update format equals dnf-3's: reuse the dnf capture.
		f.on("LANG=C LC_ALL=C yum -q -y check-update", captured(t, "dnf/check-update"))
		f.on("LANG=C LC_ALL=C rpm -q --qf '%{NAME}.%{ARCH} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n' kernel-lab labepoch labsec labtool", captured(t, "rpm/query"))
		f.on(CmdRPMAdvisories("yum", ""), ok(sections(SectionAdvisories, "LAB-2024-0001 Important/Sec. labsec-1.1-1.x86_64\n", SectionCVEs, "")))
		ups, err := b.Scan(ctx, f)
		if err != nil || len(ups) != 4 || !ups[2].Security || ups[0].Security {
			t.Fatalf("%v %+v", err, ups)
		}
		f.on("LANG=C LC_ALL=C yum -y update", ok("Complete!\n"))
		f.on("LANG=C LC_ALL=C yum -q -y check-update", ok(""))
		noReboot(f)
		f.on("LANG=C LC_ALL=C needs-restarting -r", exit(127, "", "sh: needs-restarting: command not found"))
		res, err := b.Install(ctx, f, ups, true)
		if err != nil || res.RebootRequired {
			t.Fatalf("%v reboot=%v", err, res.RebootRequired)
		}
		if inst, _ := installedNames(res); len(inst) != 4 {
			t.Fatalf("installed %v", inst)
		}
	})
	t.Run("dnf5 reboot check", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osFedora, "/usr/bin/dnf5\n/usr/bin/dnf", Options{})
		noReboot(f)
		f.on("LANG=C LC_ALL=C dnf5 -q needs-restarting", exit(1, "", ""))
		need, reasons, err := b.RebootRequired(ctx, f)
		if err != nil || !need || !reflect.DeepEqual(reasons, []string{"needs-restarting"}) {
			t.Fatalf("%v %v %v", need, reasons, err)
		}
	})
}

func TestZypper(t *testing.T) {
	ctx := context.Background()
	const list = "LANG=C LC_ALL=C ZYPP_LOCK_TIMEOUT=120 zypper -n --xmlout list-updates"
	const patches = "LANG=C LC_ALL=C ZYPP_LOCK_TIMEOUT=120 zypper -n --xmlout list-patches"
	const info = "LANG=C LC_ALL=C ZYPP_LOCK_TIMEOUT=120 zypper -n info -t patch LAB-2024-0001 LAB-2024-0002"
	const upd = "LANG=C LC_ALL=C ZYPP_LOCK_TIMEOUT=120 zypper -n install --auto-agree-with-licenses labsec=1.1-1 kernel-lab=6.1.99-1"
	const needs = "LANG=C LC_ALL=C zypper -n needs-rebooting"
	sel := patch.Selection{SecurityOnly: true}
	scan := func(t *testing.T) (patch.Backend, *fakeTransport, []patch.Update) {
		f := newFake(t)
		b := detectWith(t, f, osSLES, "/usr/bin/zypper", Options{})
		f.on(list, captured(t, "zypper/list-updates"))
		f.on(patches, captured(t, "zypper/list-patches"))
		f.on(info, captured(t, "zypper/patch-info"))
		ups, err := b.Scan(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var sec []string
		for _, u := range ups {
			if u.Security {
				sec = append(sec, u.Name)
			}
		}
		if !reflect.DeepEqual(sec, []string{"kernel-lab", "labsec"}) {
			t.Fatalf("security %v", sec)
		}
		// Order the selection as the test's install line expects.
		picked := sel.Filter(ups)
		picked[0], picked[1] = picked[1], picked[0]
		return b, f, picked
	}
	after := func(f *fakeTransport) {
		f.on(list, captured(t, "zypper/list-updates-none"))
		noReboot(f)
	}
	t.Run("103 reruns, then ok", func(t *testing.T) {
		b, f, picked := scan(t)
		f.on(upd, exit(103, "zypper updated itself", ""), ok("done"))
		after(f)
		f.on(needs, captured(t, "zypper/needs-rebooting"))
		res, err := b.Install(ctx, f, picked, sel.FullUpgrade())
		if err != nil || f.count(upd) != 2 {
			t.Fatalf("err %v, update sent %d times", err, f.count(upd))
		}
		if inst, _ := installedNames(res); len(inst) != 2 || res.RebootRequired {
			t.Fatalf("installed %v reboot %v", inst, res.RebootRequired)
		}
	})
	t.Run("102 means installed and reboot", func(t *testing.T) {
		b, f, picked := scan(t)
		picked[0].RebootRequired, picked[1].RebootRequired = false, false // only the exit code may say so
		f.on(upd, exit(102, "", ""))
		after(f)
		f.on(needs, captured(t, "zypper/needs-rebooting"))
		res, err := b.Install(ctx, f, picked, sel.FullUpgrade())
		if err != nil || !res.RebootRequired {
			t.Fatalf("err %v reboot %v", err, res.RebootRequired)
		}
	})
	t.Run("7 locked is retried, bounded", func(t *testing.T) {
		b, f, picked := scan(t)
		f.on(upd, exit(7, "", "System management is locked by the application with pid 42 (zypper)."))
		f.on(list, captured(t, "zypper/list-updates"))
		noReboot(f)
		f.on(needs, captured(t, "zypper/needs-rebooting"))
		res, err := b.Install(ctx, f, picked, sel.FullUpgrade())
		if !errors.Is(err, patch.ErrCommandFailed) || f.count(upd) != maxZypperLockTry || !strings.Contains(err.Error(), "locked") {
			t.Fatalf("err %v, sent %d times", err, f.count(upd))
		}
		if _, failed := installedNames(res); len(failed) != 2 {
			t.Fatalf("failed %v", failed)
		}
	})
	t.Run("104 (real: no such package) fails", func(t *testing.T) {
		b, f, picked := scan(t)
		f.on(upd, captured(t, "zypper/update-unknown"))
		f.on(list, captured(t, "zypper/list-updates"))
		noReboot(f)
		f.on(needs, captured(t, "zypper/needs-rebooting"))
		_, err := b.Install(ctx, f, picked, sel.FullUpgrade())
		if !errors.Is(err, patch.ErrCommandFailed) || !strings.Contains(err.Error(), "exit status 104") || !strings.Contains(err.Error(), "No provider") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("needs-rebooting 102", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osSLES, "/usr/bin/zypper", Options{})
		noReboot(f)
		f.on(needs, captured(t, "zypper/needs-rebooting-after"))
		need, reasons, err := b.RebootRequired(ctx, f)
		if err != nil || !need || !reflect.DeepEqual(reasons, []string{"zypper needs-rebooting"}) {
			t.Fatalf("%v %v %v", need, reasons, err)
		}
	})
}

func TestRebootRequiredApt(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		out  string
		want bool
	}{
		{"flag file", sections(SectionRebootFile, "present", SectionRebootPkgs, "libc6", SectionKernel, "6.1.0-18-amd64", SectionModules, "6.1.0-18-amd64"), true},
		{"empty /lib/modules is not a signal", sections(SectionKernel, "6.1.0-18-amd64", SectionModules, ""), false},
		{"old kernel's modules gone", sections(SectionKernel, "6.1.0-9-amd64", SectionModules, "6.1.0-18-amd64"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
			f.on(CmdRebootSignals, ok(tt.out))
			need, reasons, err := b.RebootRequired(ctx, f)
			if err != nil || need != tt.want || need != (len(reasons) > 0) {
				t.Fatalf("need %v reasons %q err %v", need, reasons, err)
			}
		})
	}
}

// CancelReboot cancels exactly the reboot Reboot scheduled: the transient
// unit's timer (or the sleeping shell without systemd), under sudo when the
// reboot needed it, and says when there was nothing left to cancel.
func TestCancelReboot(t *testing.T) {
	ctx := context.Background()
	scheduled := func(t *testing.T, f *fakeTransport, b patch.Backend) string {
		t.Helper()
		f.prefix[""] = ok("")
		if err := b.Reboot(ctx, f); err != nil {
			t.Fatal(err)
		}
		delete(f.prefix, "")
		i := strings.Index(f.sent[len(f.sent)-1], RebootUnitPrefix)
		return strings.Fields(f.sent[len(f.sent)-1][i:])[0]
	}
	for _, tt := range []struct {
		name    string
		out     string
		wantErr error
	}{
		{"waiting timer stopped", CancelledOut + "\n", nil},
		{"timer fired", "elapsed\n", patch.ErrRebootNotPending},
		{"no such timer", "dead\n", patch.ErrRebootNotPending},
		{"stop failed", "waiting\n", patch.ErrCommandFailed},
	} {
		t.Run("systemd: "+tt.name, func(t *testing.T) {
			f := newFake(t)
			b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
			unit := scheduled(t, f, b)
			f.on(CmdSystemdCancelReboot(unit), ok(tt.out))
			if err := b.CancelReboot(ctx, f); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(f.sent[len(f.sent)-1], "systemctl stop "+unit+".timer") {
				t.Errorf("cancel line %q does not stop %s.timer", f.sent[len(f.sent)-1], unit)
			}
		})
	}
	t.Run("systemd under sudo", func(t *testing.T) {
		f := newFake(t)
		f.on(CmdProbe, ok(sections(SectionOSRelease, osDebian, SectionManagers, "/usr/bin/apt-get", SectionUID, "1000", SectionSystemdRun, "/usr/bin/systemd-run")))
		b, err := Detect(ctx, f, Options{Sudo: true})
		if err != nil {
			t.Fatal(err)
		}
		unit := scheduled(t, f, b)
		f.on("sudo -n sh -c '"+CmdSystemdCancelReboot(unit)+"'", ok(CancelledOut))
		if err := b.CancelReboot(ctx, f); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("nohup: the sleeping shell is killed", func(t *testing.T) {
		f := newFake(t)
		f.on(CmdProbe, ok(sections(SectionOSRelease, osAlpine, SectionManagers, "/usr/bin/apt-get", SectionUID, "0", SectionSystemdRun, "")))
		b, err := Detect(ctx, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		name := scheduled(t, f, b)
		pkill := `pkill -f "[p]` + strings.TrimPrefix(name, "p") + `"`
		f.on(pkill, ok(""), exit(1, "", ""))
		if err := b.CancelReboot(ctx, f); err != nil {
			t.Fatal(err)
		}
		if err := b.CancelReboot(ctx, f); !errors.Is(err, patch.ErrRebootNotPending) {
			t.Fatalf("nothing left to kill: got %v", err)
		}
	})
	t.Run("nothing scheduled", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		if err := b.CancelReboot(ctx, f); !errors.Is(err, patch.ErrRebootNotPending) || len(f.sent) != 1 {
			t.Fatalf("got %v after sending %q", err, f.sent)
		}
	})
}

func TestRebootAndReady(t *testing.T) {
	ctx := context.Background()
	const unit = "systemd-run --on-active=7s --unit=" + RebootUnitPrefix
	tests := []struct {
		name    string
		answer  step
		wantErr error // nil: "maybe started"
	}{
		{"started", ok(""), nil},
		{"connection lost", fail(transport.ErrConnLost), nil},
		{"eof", fail(io.EOF), nil},
		{"sudo refused", exit(1, "", "sudo: a password is required"), patch.ErrCommandFailed},
		{"unreachable", fail(transport.ErrUnreachable), transport.ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{RebootDelay: 7 * time.Second})
			f.prefix[unit] = tt.answer
			err := b.Reboot(ctx, f)
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("got %v want %v", err, tt.wantErr)
			}
			if last := f.sent[len(f.sent)-1]; !strings.HasPrefix(last, unit) || !strings.HasSuffix(last, " systemctl reboot") {
				t.Fatalf("reboot line %q", last)
			}
		})
	}
	t.Run("no systemd-run: nohup fallback with sudo", func(t *testing.T) {
		f := newFake(t)
		f.on(CmdProbe, ok(sections(SectionOSRelease, osAlpine, SectionManagers, "/usr/bin/apt-get", SectionUID, "1000", SectionSystemdRun, "")))
		b, err := Detect(ctx, f, Options{Sudo: true})
		if err != nil {
			t.Fatal(err)
		}
		f.prefix["sudo -n nohup sh -c 'sleep 0.05; reboot' "+RebootUnitPrefix] = ok("")
		if err := b.Reboot(ctx, f); err != nil {
			t.Fatal(err)
		}
		if last := f.sent[len(f.sent)-1]; !strings.HasSuffix(last, " >/dev/null 2>&1 </dev/null &") {
			t.Fatalf("reboot line %q", last)
		}
	})
	// Without reboot_delay the reboot comes a moment after the command
	// returns, not seconds later: every reboot batch waits that long.
	t.Run("default delay is sub-second", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		const short = "systemd-run --on-active=50ms --unit=" + RebootUnitPrefix
		f.prefix[short] = ok("")
		if err := b.Reboot(ctx, f); err != nil {
			t.Fatal(err)
		}
		if last := f.sent[len(f.sent)-1]; !strings.HasPrefix(last, short) {
			t.Fatalf("reboot line %q", last)
		}
	})
	t.Run("delay rounded to milliseconds", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{RebootDelay: 1500*time.Millisecond + 40*time.Microsecond})
		const ms = "systemd-run --on-active=1500ms --unit=" + RebootUnitPrefix
		f.prefix[ms] = ok("")
		if err := b.Reboot(ctx, f); err != nil {
			t.Fatal(err)
		}
	})
	// The boot id read over the same connection already proved what "true"
	// would: a reboot batch waits for no extra round trip.
	t.Run("default ready costs no round trip", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
		sent := len(f.sent)
		if err := b.Ready(ctx, f); err != nil || len(f.sent) != sent {
			t.Fatalf("Ready: %v after sending %q", err, f.sent[sent:])
		}
	})
	t.Run("ready", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{ReadyCommand: "systemctl is-system-running --wait"})
		f.on("systemctl is-system-running --wait", exit(1, "degraded", ""), ok("running"))
		if err := b.Ready(ctx, f); !errors.Is(err, patch.ErrCommandFailed) {
			t.Fatalf("degraded must not be ready: %v", err)
		}
		if err := b.Ready(ctx, f); err != nil {
			t.Fatal(err)
		}
		g := newFake(t)
		d := detectWith(t, g, osDebian, "/usr/bin/apt-get", Options{})
		g.on("true", ok(""))
		if err := d.Ready(ctx, g); err != nil {
			t.Fatal(err)
		}
		g.on(CmdBootID, ok("0b5f3c3e-aaaa\n"))
		if id, err := d.BootID(ctx, g); err != nil || id != "0b5f3c3e-aaaa" {
			t.Fatalf("boot id %q %v", id, err)
		}
	})
}

func TestTransportErrorsWrapped(t *testing.T) {
	f := newFake(t)
	b := detectWith(t, f, osRocky, "/usr/bin/dnf", Options{})
	f.on("LANG=C LC_ALL=C dnf -q -y check-update", fail(transport.ErrConnLost))
	if _, err := b.Scan(context.Background(), f); !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("want ErrConnLost, got %v", err)
	}
}

// Detect's probe is fresh when the runner asks for Facts right after it:
// that first Facts must not cost a second round trip; a later Facts (after
// a reboot) must probe again, since kernel and boot id change.
func TestFactsReusesDetectProbeOnce(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{})
	noReboot(f)
	if _, err := b.Facts(ctx, f); err != nil {
		t.Fatal(err)
	}
	if n := f.count(CmdProbe); n != 1 {
		t.Errorf("Detect + Facts sent the probe %d times, want 1", n)
	}
	if _, err := b.Facts(ctx, f); err != nil {
		t.Fatal(err)
	}
	if n := f.count(CmdProbe); n != 2 {
		t.Errorf("a second Facts sent the probe %d times in all, want 2 (it must re-probe)", n)
	}
}

// Each package manager names its own recovery tools, never another's.
func TestRecoveryHintNamesTheHostsOwnTools(t *testing.T) {
	for _, tt := range []struct {
		os, managers string
		want, not    []string
	}{
		{osDebian, "/usr/bin/apt-get", []string{"dpkg --audit", "dpkg --configure -a"}, []string{"rpm", "zypper"}},
		{osRocky, "/usr/bin/dnf", []string{"rpm -Va", "dnf history"}, []string{"dpkg", "zypper"}},
		{osCentOS7, "/usr/bin/yum", []string{"rpm -Va", "yum history"}, []string{"dpkg", "zypper"}},
		{osSLES, "/usr/bin/zypper", []string{"zypper verify"}, []string{"dpkg", "dnf"}},
	} {
		b := detectWith(t, newFake(t), tt.os, tt.managers, Options{})
		hint := b.RecoveryHint()
		for _, w := range tt.want {
			if !strings.Contains(hint, w) {
				t.Errorf("%s: hint %q lacks %q", b.Name(), hint, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(hint, n) {
				t.Errorf("%s: hint %q names %q", b.Name(), hint, n)
			}
		}
	}
}

// apt's BootState reads the boot id and the reboot signals in one command;
// an answer cut short is an error, not "no reboot needed"; with a readiness
// command of its own only the id is read (the signals may change before
// the host is ready).
func TestAptBootStateOneCommand(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{}).(patch.BootStater)
	out := "@@patchrun:boot-id@@\nb00t-2\n@@patchrun:reboot-required@@\npresent\n@@patchrun:reboot-required-pkgs@@\nlinux-image-amd64\n" +
		"@@patchrun:reboot-needed@@\n@@patchrun:kernel@@\n6.1.0-9\n@@patchrun:modules@@\n6.1.0-9\n@@patchrun:end@@\n"
	f.on(CmdBootState, ok(out), ok(strings.Split(out, "@@patchrun:kernel")[0]))
	sent := len(f.sent)
	st, err := b.BootState(ctx, f, patch.BootQuery{})
	if err != nil || st.ID != "b00t-2" || !st.Signals || !st.RebootRequired ||
		!reflect.DeepEqual(st.RebootReasons, []string{"/run/reboot-required (linux-image-amd64)"}) {
		t.Fatalf("BootState = %+v, %v", st, err)
	}
	if n := len(f.sent) - sent; n != 1 {
		t.Errorf("%d commands sent, want 1: %q", n, f.sent[sent:])
	}
	if st, err := b.BootState(ctx, f, patch.BootQuery{}); !errors.Is(err, patch.ErrCommandFailed) {
		t.Errorf("truncated answer: %+v, %v; want a failed command", st, err)
	}

	g := newFake(t)
	d := detectWith(t, g, osDebian, "/usr/bin/apt-get", Options{ReadyCommand: "systemctl is-system-running --wait"}).(patch.BootStater)
	g.on(CmdBootID, ok("b00t-3\n"))
	if st, err := d.BootState(ctx, g, patch.BootQuery{}); err != nil || st.ID != "b00t-3" || st.Signals {
		t.Fatalf("with a ready command: %+v, %v; want the id alone", st, err)
	}
}

// Only backends whose every pending-reboot signal is a file read with the
// boot id may skip the separate check: dnf/yum (needs-restarting) and
// zypper (needs-rebooting) must not.
func TestBootStaterOnlyWithFileSignals(t *testing.T) {
	for _, tt := range []struct {
		osr, managers string
		want          bool
	}{
		{osDebian, "/usr/bin/apt-get", true},
		{osAlpine, "/sbin/apk", true},
		{osArch, "/usr/bin/pacman", true},
		{osRocky, "/usr/bin/dnf", false},
		{osOpenSUSE, "/usr/bin/zypper", false},
	} {
		b := detectWith(t, newFake(t), tt.osr, tt.managers, Options{})
		if _, ok := b.(patch.BootStater); ok != tt.want {
			t.Errorf("%s: reads reboot signals with the boot id: %v, want %v", b.Name(), ok, tt.want)
		}
	}
}

// RebootIfBoot checks the boot id and schedules the reboot in one command:
// another boot schedules nothing and says so; a lost connection is "maybe
// started", as for Reboot.
func TestRebootIfBoot(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		answer step
		want   error
	}{
		{"same boot", ok(""), nil},
		{"another boot", exit(exitBootChanged, "", ""), patch.ErrBootChanged},
		{"lost while the reboot starts", fail(transport.ErrConnLost), nil},
		{"systemd-run failed", exit(1, "", "Failed to start transient timer unit"), patch.ErrCommandFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{}).(patch.BootIDRebooter)
			prefix := `test "$(` + CmdBootID + `)" = 0b5f-aa || exit 97; systemd-run --on-active=50ms --unit=` + RebootUnitPrefix
			f.prefix[prefix] = tt.answer
			err := b.RebootIfBoot(ctx, f, "0b5f-aa")
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("RebootIfBoot = %v, want %v", err, tt.want)
			}
			if n := f.count(f.sent[len(f.sent)-1]); !strings.HasPrefix(f.sent[len(f.sent)-1], prefix) || n != 1 {
				t.Errorf("sent %q", f.sent)
			}
		})
	}
	f := newFake(t)
	b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{}).(patch.BootIDRebooter)
	f.prefix[`test "$(`+CmdBootID+`)" = 'x'\''; reboot' || exit 97`] = exit(exitBootChanged, "", "")
	if err := b.RebootIfBoot(ctx, f, "x'; reboot"); !errors.Is(err, patch.ErrBootChanged) {
		t.Fatalf("a boot id with shell syntax must stay quoted: %v", err)
	}
}
