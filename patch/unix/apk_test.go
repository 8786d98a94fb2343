package unix

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/patch"
)

// testdata/apk is written from apk-tools' documented list format (no apk
// runs on the build machine; see testdata/CAPTURE.md).
func TestParseApkList(t *testing.T) {
	got := parseApkList(capturedFile(t, "apk/list-upgradable.stdout") + "WARNING: opening /etc/apk/cache: No such file or directory\n")
	want := []patch.Update{
		{Name: "busybox", Current: "1.36.1-r29", Available: "1.36.1-r30", Arch: "x86_64", Repo: "origin busybox"},
		{Name: "busybox-binsh", Current: "1.36.1-r29", Available: "1.36.1-r30", Arch: "x86_64", Repo: "origin busybox"},
		{Name: "libcrypto3", Current: "3.3.2-r0", Available: "3.3.2-r1", Arch: "x86_64", Repo: "origin openssl"},
		{Name: "libssl3", Current: "3.3.2-r0", Available: "3.3.2-r1", Arch: "x86_64", Repo: "origin openssl"},
		{Name: "linux-lts", Current: "6.6.54-r0", Available: "6.6.58-r0", Arch: "x86_64", Repo: "origin linux-lts", RebootRequired: true},
		{Name: "py3-idna", Current: "3.6-r0", Available: "3.7-r0", Arch: "noarch", Repo: "origin py3-idna"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestSplitApkNameVersion(t *testing.T) {
	for _, tc := range []struct{ in, name, ver string }{
		{"py3-idna-3.7-r0", "py3-idna", "3.7-r0"},
		{"so:libc.musl-x86_64.so.1-1.2.5-r0", "so:libc.musl-x86_64.so.1", "1.2.5-r0"},
		{"musl-1.2.5_git20240512-r0", "musl", "1.2.5_git20240512-r0"},
		{"nodash", "", ""},
		{"name-r1", "", ""},
		{"name-abc-r1", "", ""},
	} {
		n, v, ok := splitApkNameVersion(tc.in)
		if n != tc.name || v != tc.ver || ok != (tc.name != "") {
			t.Errorf("%q: %q %q %v, want %q %q", tc.in, n, v, ok, tc.name, tc.ver)
		}
	}
}

func TestApkScanInstallReboot(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	b := detectWith(t, f, osAlpine, "/sbin/apk", Options{})
	if b.Name() != "apk" {
		t.Fatalf("backend %q", b.Name())
	}
	f.on(CmdApkRefresh, ok("fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz\nOK: 24170 distinct packages available\n"))
	if err := b.Refresh(ctx, f); err != nil {
		t.Fatal(err)
	}
	after := "linux-lts-6.6.58-r0 x86_64 {linux-lts} (GPL-2.0-only) [upgradable from: linux-lts-6.6.54-r0]\n"
	f.on(CmdApkScan, ok(capturedFile(t, "apk/list-upgradable.stdout")), ok(after))
	ups, err := b.Scan(ctx, f)
	if err != nil || len(ups) != 6 {
		t.Fatalf("scan: %d updates, %v", len(ups), err)
	}
	picked := patch.Selection{Include: []string{"libssl3", "libcrypto3"}}.Filter(ups)
	install := "LANG=C LC_ALL=C apk upgrade --no-progress --wait 120 libcrypto3 libssl3"
	f.on(install, ok("(1/2) Upgrading libcrypto3 (3.3.2-r0 -> 3.3.2-r1)\n(2/2) Upgrading libssl3 (3.3.2-r0 -> 3.3.2-r1)\nOK: 9 MiB in 15 packages\n"))
	res, err := b.Install(ctx, f, picked, false)
	if err != nil {
		t.Fatal(err)
	}
	if inst, failed := installedNames(res); !reflect.DeepEqual(inst, []string{"libcrypto3", "libssl3"}) || failed != nil {
		t.Fatalf("installed %v failed %v", inst, failed)
	}
	if f.count(install) != 1 {
		t.Fatalf("install line not sent once: %q", f.sent)
	}

	// After the kernel upgrade apk has replaced /lib/modules/6.6.54-0-lts.
	f.on(CmdRebootSignals, ok(sections(SectionKernel, "6.6.54-0-lts", SectionModules, "6.6.58-0-lts")))
	need, reasons, err := b.RebootRequired(ctx, f)
	if err != nil || !need || len(reasons) != 1 || !strings.Contains(reasons[0], "6.6.58-0-lts") {
		t.Fatalf("reboot required %v %q %v", need, reasons, err)
	}
}
