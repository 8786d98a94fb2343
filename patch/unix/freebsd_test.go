package unix

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
)

// testdata/freebsd is written from the documented formats (pkg-upgrade(8),
// pkg-audit(8), sysctl kern.boottime's struct timeval printout): no FreeBSD
// runs on the build machine (testdata/CAPTURE.md).
func TestParsePkgUpgradeDryRun(t *testing.T) {
	got := parsePkgUpgradeDryRun(capturedFile(t, "freebsd/pkg-upgrade-n.stdout"))
	want := []patch.Update{
		{Name: "curl", Current: "8.9.1", Available: "8.10.1"},
		{Name: "python311", Current: "3.11.9", Available: "3.11.10", Repo: "FreeBSD"},
		{Name: "sudo", Current: "1.9.15p5", Available: "1.9.16"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if v := parsePkgAudit(capturedFile(t, "freebsd/pkg-audit-q.stdout")); !v["curl"] || !v["sudo"] || v["python311"] || len(v) != 2 {
		t.Fatalf("audit %v", v)
	}
}

func TestFreeBSDBootID(t *testing.T) {
	id, boot := parseBootID(firstLine(capturedFile(t, "freebsd/sysctl-kern-boottime.stdout")))
	if id != "kern.boottime 1733390000.123456" || !boot.Equal(time.Unix(1733390000, 123456000)) {
		t.Fatalf("%q %v", id, boot)
	}
	if id, _ := parseBootID("{ sec = 1733390000, usec = 42 } Thu Dec  5 09:13:20 2024"); id != "kern.boottime 1733390000.000042" {
		t.Fatalf("usec not zero-padded: %q", id)
	}
	if id, boot := parseBootID("0b5f3c3e-1111-2222-3333-444455556666"); id != "0b5f3c3e-1111-2222-3333-444455556666" || !boot.IsZero() {
		t.Fatalf("linux boot id changed: %q %v", id, boot)
	}
}

func freebsdProbe() string {
	return sections(SectionOSRelease, osFreeBSD, SectionKernel, "14.1-RELEASE-p5",
		SectionBootID, "{ sec = 1733390000, usec = 123456 } Thu Dec  5 09:13:20 2024",
		SectionManagers, "/usr/sbin/pkg\n/usr/sbin/freebsd-update", SectionUID, "0", SectionArch, "amd64",
		SectionPkgLast, "1733300000")
}

func TestFreeBSDBackend(t *testing.T) {
	ctx := context.Background()
	f := newFake(t).on(CmdProbe, ok(freebsdProbe()))
	b, err := Detect(ctx, f, Options{})
	if err != nil || b.Name() != "pkg" {
		t.Fatalf("%v %v", b, err)
	}
	if h := &b.(*freebsdBackend).host; h.opts.JobDir != FreeBSDJobDir {
		t.Errorf("job dir %s, want %s (FreeBSD has no /run)", h.opts.JobDir, FreeBSDJobDir)
	}

	// Facts: boot time from kern.boottime, last update from pkg's db.
	f.on(CmdFreeBSDKernels, ok(sections(SectionKernelFile, "14.1-RELEASE-p5", SectionKernel, "14.1-RELEASE-p5")))
	facts, err := b.Facts(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if facts.OS != "freebsd 14.1" || facts.BootID != "kern.boottime 1733390000.123456" || !facts.LastBoot.Equal(time.Unix(1733390000, 0)) ||
		facts.Uptime < 24*time.Hour || !facts.LastUpdated.Equal(time.Unix(1733300000, 0)) || facts.RebootRequired {
		t.Errorf("facts %+v", facts)
	}

	// Scan: packages (audit flags curl and sudo) and the fetched base patches.
	f.on(CmdPkgScan, exit(1, capturedFile(t, "freebsd/pkg-upgrade-n.stdout"), ""), exit(0, "", ""))
	f.on(CmdPkgAudit, exit(1, capturedFile(t, "freebsd/pkg-audit-q.stdout"), ""))
	f.on(CmdFreeBSDUpdatesReady, exit(0, "", ""), exit(2, "No updates are available to install.\n", ""))
	ups, err := b.Scan(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range ups {
		if u.Security {
			names = append(names, u.Name)
		}
	}
	if len(ups) != 4 || strings.Join(names, ",") != "curl,sudo,FreeBSD-base" {
		t.Fatalf("scan %+v", ups)
	}

	// Installing curl and the base patches: one job, pkg then freebsd-update.
	picked := patch.Selection{Include: []string{"curl", "FreeBSD-base"}}.Filter(ups)
	line := CmdPkgUpgrade([]string{"curl"}) + " && " + CmdFreeBSDUpdateInstall
	f.on(line, ok("[1/1] Upgrading curl from 8.9.1 to 8.10.1...\nInstalling updates... done.\n"))
	res, err := b.Install(ctx, f, picked, false)
	if err != nil {
		t.Fatal(err)
	}
	if inst, failed := installedNames(res); len(inst) != 2 || failed != nil || f.count(line) != 1 {
		t.Fatalf("installed %v failed %v sent %q", inst, failed, f.sent)
	}

	// The new kernel is installed, the old one runs.
	f.on(CmdFreeBSDKernels, ok(sections(SectionKernelFile, "14.1-RELEASE-p6", SectionKernel, "14.1-RELEASE-p5")))
	need, reasons, err := b.RebootRequired(ctx, f)
	if err != nil || !need || !strings.Contains(strings.Join(reasons, ""), "installed kernel 14.1-RELEASE-p6 differs from the running 14.1-RELEASE-p5") {
		t.Fatalf("reboot %v %q %v", need, reasons, err)
	}
}
