package unix

import (
	"context"
	"slices"
	"testing"
	"time"
)

// The whole probe as it ran on the Debian 12 build machine
// (testdata/facts/CAPTURE.md).
func TestFactsFromRealDebianProbe(t *testing.T) {
	out := capturedFile(t, "facts/probe-debian12.txt")
	f := newFake(t).on(CmdProbe, ok(out))
	b, err := Detect(context.Background(), f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.on(CmdRebootSignals, ok(sections(SectionKernel, "6.1.0-18-amd64", SectionModules, "6.1.0-18-amd64")))
	before := time.Now()
	got, err := b.Facts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if got.OSName != "Debian GNU/Linux" || got.OSVersion != "12" || got.Arch != "x86_64" || got.PackageManager != "apt" {
		t.Errorf("os %q %q arch %q manager %q", got.OSName, got.OSVersion, got.Arch, got.PackageManager)
	}
	if got.Uptime != 29042*time.Second {
		t.Errorf("uptime %v, want 8h4m2s (/proc/uptime 29042.26)", got.Uptime)
	}
	// The boot was uptime before the probe's answer arrived.
	if boot := before.Add(-got.Uptime); got.LastBoot.Before(boot.Add(-2*time.Second)) || got.LastBoot.After(time.Now().Add(-got.Uptime)) {
		t.Errorf("last boot %v, want about %v", got.LastBoot, boot)
	}
	if want := time.Date(2026, 12, 5, 23, 38, 38, 0, time.UTC); !got.LastUpdated.Equal(want) {
		t.Errorf("last updated %v, want %v (dpkg.log's newest install line, +0000)", got.LastUpdated, want)
	}
	if want := []string{"192.0.2.2/24", "fd00::2/64"}; !slices.Equal(got.Addresses, want) {
		t.Errorf("addresses %q, want %q (no loopback, no link-local)", got.Addresses, want)
	}
}

func TestDpkgLogTimesAreHostLocal(t *testing.T) {
	lines := nonEmptyLines(capturedFile(t, "facts/dpkg-upgrade-lines.txt"))
	last := lines[len(lines)-1]
	for _, tc := range []struct{ tz, want string }{
		{"+0000", "2026-12-05T17:04:09Z"},
		{"+0100", "2026-12-05T16:04:09Z"},
		{"-0530", "2026-12-05T22:34:09Z"},
		{"garbage", "2026-12-05T17:04:09Z"},
	} {
		f := parseHostFacts(map[string]string{SectionDpkgLast: last, SectionTZ: tc.tz})
		if got := f.lastUpdated.Format(time.RFC3339); got != tc.want {
			t.Errorf("tz %s: %s, want %s", tc.tz, got, tc.want)
		}
	}
}

func TestRPMInstallTime(t *testing.T) {
	f := parseHostFacts(map[string]string{SectionRPMLast: "1733220932"})
	if got := f.lastUpdated.Format(time.RFC3339); got != "2024-12-03T10:15:32Z" {
		t.Errorf("rpm last install %s", got)
	}
	for _, bad := range []string{"", "0", "(none)", "-5"} {
		if f := parseHostFacts(map[string]string{SectionRPMLast: bad}); !f.lastUpdated.IsZero() {
			t.Errorf("%q gave %v, want unknown", bad, f.lastUpdated)
		}
	}
}

func TestAddressesFallbackToHostnameI(t *testing.T) {
	got := parseAddresses(capturedFile(t, "facts/hostname-I.txt") + " 127.0.0.1 fe80::1 not-an-ip")
	if want := []string{"192.0.2.2", "fd00::2"}; !slices.Equal(got, want) {
		t.Errorf("hostname -I: %q, want %q", got, want)
	}
}

func TestUptimeRejectsNonsense(t *testing.T) {
	for _, s := range []string{"", "abc", "-1 2", "1e300 1"} {
		if d := parseUptime(s); d != 0 {
			t.Errorf("%q gave %v", s, d)
		}
	}
	if d := parseUptime("90061.99 1"); d != 25*time.Hour+time.Minute+time.Second {
		t.Errorf("uptime %v", d)
	}
}
