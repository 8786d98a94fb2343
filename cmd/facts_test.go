package cmd

import (
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

// facts reads every host's facts and changes nothing: no metadata
// refresh, no scan, no install; on apt hosts two commands (the probe and
// the reboot-signal check).
func TestFactsReadsHostsAndChangesNothing(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 4})
	r := runCLI(t, nil, "facts", "-i", inv, "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	if rep.Command != report.CmdFacts || len(rep.Hosts) != 4 {
		t.Fatalf("report: command %q with %d hosts", rep.Command, len(rep.Hosts))
	}
	families := map[string]bool{}
	for _, h := range rep.Hosts {
		f := h.Facts
		if h.Status != report.StatusOK || f == nil || len(h.Updates) != 0 {
			t.Fatalf("%s: status %s, facts %+v, %d updates: %s", h.Name, h.Status, f, len(h.Updates), h.Error)
		}
		families[f.Family] = true
		if f.OSName == "" || f.OSVersion == "" || f.Kernel != fl.Host(h.Name).Kernel() || f.Arch != "x86_64" ||
			f.PackageManager == "" || len(f.Addresses) != 2 {
			t.Errorf("%s: facts %+v", h.Name, f)
		}
		// Up for days, last updated before that boot, all in UTC.
		if f.UptimeSeconds < 2*86400 || f.LastBoot.Location() != time.UTC || !f.LastUpdated.Before(f.LastBoot) ||
			f.LastBoot.Add(time.Duration(f.UptimeSeconds)*time.Second).Sub(f.GatheredAt).Abs() > 5*time.Second {
			t.Errorf("%s: last boot %v + uptime %ds should be about gathered_at %v; last updated %v",
				h.Name, f.LastBoot, f.UptimeSeconds, f.GatheredAt, f.LastUpdated)
		}
		cmds := fl.Host(h.Name).CommandsSeen()
		for _, c := range cmds {
			if strings.Contains(c, "update") || strings.Contains(c, "dist-upgrade") || strings.Contains(c, "check-update") ||
				strings.Contains(c, "list-updates") || strings.Contains(c, "makecache") {
				t.Errorf("%s: facts ran %q", h.Name, c)
			}
		}
		if f.Family == "debian" && len(cmds) != 2 {
			t.Errorf("%s: %d commands, want the probe and the reboot check: %q", h.Name, len(cmds), cmds)
		}
	}
	if len(families) < 2 {
		t.Errorf("families %v: the demo fleet should mix distros", families)
	}
}

// The text table shows the facts a person looks for, fits the terminal
// , and escapes what the host sent.
func TestFactsTable(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	rep := report.New(report.CmdFacts, false, now)
	rep.Finish([]report.HostResult{
		{Name: "web1", Status: report.StatusOK, Facts: &report.Facts{OSName: "Debian GNU/Linux", OSVersion: "12",
			Kernel: "6.1.0-28-amd64", Arch: "x86_64", UptimeSeconds: 3*86400 + 4*3600 + 5, RebootRequired: true,
			RebootReasons: []string{"/run/reboot-required (linux-image-6.1.0-29-amd64)"},
			LastUpdated:   now.Add(-12 * 24 * time.Hour), Addresses: []string{"10.20.0.5/24", "fd00:20::5/64"}}},
		{Name: "win1", Status: report.StatusOK, Facts: &report.Facts{OSName: "Microsoft Windows Server 2022 Datacenter",
			OSVersion: "10.0.20348", Kernel: "10.0.20348", Arch: "AMD64\x1b[2J", UptimeSeconds: 300}},
		{Name: "gone", Status: report.StatusUnreachable, Error: "connect: connection refused"},
	}, now)
	var b strings.Builder
	if err := writeText(&b, rep, layout{wide: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"ARCH", "UPTIME", "web1", "Debian GNU/Linux 12", "x86_64", "3d4h", "5m",
		"2026-11-24 (12d)", "required", "10.20.0.5/24 fd00:20::5/64",
		"web1 needs a reboot: /run/reboot-required (linux-image-6.1.0-29-amd64)", "3 hosts: 2 ok, 0 failed, 1 unreachable, 0 skipped; 1 need a reboot"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("an escape sequence from a host reached the terminal:\n%q", out)
	}
	// A wide terminal without -o wide: the first address and a count.
	b.Reset()
	if err := writeText(&b, rep, layout{width: 160}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "10.20.0.5/24 +1") || !strings.Contains(b.String(), "2026-11-24  ") {
		t.Errorf("160 columns:\n%s", b.String())
	}
	// An 80-column terminal: the table is cut to fit, hosts and status kept.
	b.Reset()
	if err := writeText(&b, rep, layout{width: 80}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	for _, l := range lines[:4] {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("table line of %d columns at width 80: %q", n, l)
		}
	}
	if !strings.Contains(lines[1], "web1") || !strings.Contains(lines[3], "unreachable") {
		t.Errorf("narrow table lost hosts or status:\n%s", b.String())
	}
}
