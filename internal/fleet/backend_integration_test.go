package fleet_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/unix"
	"github.com/patchrun/patchrun/transport"
)

// The real Linux backends, over the real SSH transport, against every
// simulated distro: Detect → Facts → Refresh → Scan → Install →
// RebootRequired → Reboot → a new boot id → Ready → nothing pending.
func TestRealBackendFullCycle(t *testing.T) {
	tests := []struct {
		distro  fleet.Distro
		manager string
		os      string
		// noSecurity: the OS keeps no security metadata on the host (apk,
		// pacman): advisory files flag those updates, not the scan.
		noSecurity bool
		// kernel is the kernel update's advisory data as the host's own
		// tool reports it ("" for apt: Debian/Ubuntu hosts carry none).
		kernel, advisory, severity, cve string
	}{
		{distro: fleet.Debian12, manager: "apt", os: "debian 12"},
		{distro: fleet.Ubuntu2404, manager: "apt", os: "ubuntu 24.04"},
		{fleet.Rocky9, "dnf", "rocky 9.6", false, "kernel", "RLSA-2025:17797", "important", "CVE-2025-38352"},
		{fleet.OpenSUSE155, "zypper", "opensuse-leap 15.5", false, "kernel-default", "openSUSE-SLE-15.5-2024-4082", "important", "CVE-2024-36971"},
		{distro: fleet.Alpine320, manager: "apk", os: "alpine 3.20.3", noSecurity: true},
		{distro: fleet.ArchLinux, manager: "pacman", os: "arch", noSecurity: true},
	}
	for _, tc := range tests {
		t.Run(string(tc.distro), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			sim, dial, dialE := dialer(t, ctx, fleet.Config{
				Hosts:     []fleet.HostSpec{{Name: "h1", Distro: tc.distro}},
				TimeScale: 0.001, DownTime: 20 * time.Millisecond, Seed: 3,
			})
			tr := dial()
			defer func() { tr.Close() }()

			b, err := unix.Detect(ctx, tr, unix.Options{})
			if err != nil {
				t.Fatalf("detect: %v", err)
			}
			if b.Name() != tc.manager {
				t.Fatalf("backend %q, want %q", b.Name(), tc.manager)
			}
			facts, err := b.Facts(ctx, tr)
			if err != nil {
				t.Fatalf("facts: %v", err)
			}
			if facts.BootID != sim.BootID() || facts.Kernel != sim.Kernel() || facts.OS != tc.os || facts.RebootRequired {
				t.Errorf("facts %+v; sim boot %s kernel %s", facts, sim.BootID(), sim.Kernel())
			}
			// A host that has been up for days, last patched before it
			// booted, with a global IPv4 and IPv6 address.
			if facts.Arch != "x86_64" || facts.OSName == "" || facts.Uptime < 48*time.Hour ||
				!facts.LastUpdated.Before(facts.LastBoot) || len(facts.Addresses) != 2 ||
				!strings.HasPrefix(facts.Addresses[0], "10.20.0.") || !strings.HasPrefix(facts.Addresses[1], "fd00:20::") {
				t.Errorf("facts %+v: want x86_64, an OS name, days of uptime, last updated before boot, two global addresses", facts)
			}
			installStart := time.Now().Add(-time.Second)
			if err := b.Refresh(ctx, tr); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			ups, err := b.Scan(ctx, tr)
			if err != nil {
				t.Fatalf("scan: %v", err)
			}
			pending := sim.Pending()
			if len(ups) != len(pending) {
				t.Errorf("scan found %d updates, host has %d pending: %+v", len(ups), len(pending), ups)
			}
			security := 0
			for _, u := range ups {
				if u.Security {
					security++
				}
			}
			if (security == 0) != tc.noSecurity {
				t.Errorf("scan found %d security updates", security)
			}
			for _, u := range ups {
				if tc.kernel != "" && u.Name == tc.kernel &&
					(u.Advisory != tc.advisory || u.Severity != tc.severity || !slices.Contains(u.CVEs, tc.cve) || u.Issued == nil) {
					t.Errorf("kernel update's advisory data: %+v", u)
				}
			}
			res, err := b.Install(ctx, tr, ups, true)
			if err != nil {
				t.Fatalf("install: %v\n%s", err, res.Output)
			}
			for _, u := range res.Updates {
				if !u.Installed || u.Error != "" {
					t.Errorf("update %s not installed: %+v", u.Name, u)
				}
			}
			if !res.RebootRequired {
				t.Error("install of a kernel did not report a reboot requirement")
			}
			if p := sim.Pending(); len(p) != 0 {
				t.Errorf("still pending on the host: %+v", p)
			}
			need, reasons, err := b.RebootRequired(ctx, tr)
			if err != nil || !need || len(reasons) == 0 {
				t.Fatalf("RebootRequired = %v %v %v", need, reasons, err)
			}
			before, err := b.BootID(ctx, tr)
			if err != nil || before != sim.BootID() {
				t.Fatalf("BootID = %q %v, sim %q", before, err, sim.BootID())
			}
			if err := b.Reboot(ctx, tr); err != nil && !errors.Is(err, transport.ErrConnLost) {
				t.Fatalf("reboot: %v", err)
			}
			tr.Close()
			// Wait as the runner does: redial until the boot id changes.
			var after string
			for after == "" || after == before {
				if ctx.Err() != nil {
					t.Fatalf("no new boot id (reboots %d)", sim.Reboots())
				}
				c, err := dialE()
				if err != nil { // down: refused or reset; try again shortly
					wait := time.NewTimer(5 * time.Millisecond)
					select {
					case <-ctx.Done():
					case <-wait.C:
					}
					continue
				}
				tr = c
				if id, err := b.BootID(ctx, tr); err == nil {
					after = id
				}
				if after == before {
					tr.Close()
				}
			}
			if sim.Reboots() != 1 {
				t.Errorf("host rebooted %d times", sim.Reboots())
			}
			if err := b.Ready(ctx, tr); err != nil {
				t.Errorf("ready: %v", err)
			}
			if need, reasons, err := b.RebootRequired(ctx, tr); err != nil || need {
				t.Errorf("after reboot RebootRequired = %v %v %v", need, reasons, err)
			}
			// The install shows in the host's own records; the boot is new.
			if f2, err := b.Facts(ctx, tr); err != nil || f2.LastUpdated.Before(installStart.Truncate(time.Second)) || f2.Uptime > time.Minute {
				t.Errorf("facts after install and reboot: %+v %v; want last updated since %v, uptime under a minute", f2, err, installStart)
			}
			if ups, err := b.Scan(ctx, tr); err != nil || len(ups) != 0 {
				t.Errorf("rescan after reboot: %d updates, %v", len(ups), err)
			}
			facts, err = b.Facts(ctx, tr)
			if err != nil || facts.Kernel != sim.Kernel() || facts.BootID != after {
				t.Errorf("facts after reboot %+v %v", facts, err)
			}
		})
	}
}

// The boot id read that carries the rescan (patch.BootQuery) is within the
// simulated shell's subset: on apt, apk and pacman hosts it returns the
// same updates as Scan alone on a new boot, and no scan on the old one.
func TestBootStateScanOnTheSimulatedFleet(t *testing.T) {
	for _, distro := range []fleet.Distro{fleet.Debian12, fleet.Alpine320, fleet.ArchLinux} {
		t.Run(string(distro), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			sim, dial, _ := dialer(t, ctx, fleet.Config{
				Hosts:     []fleet.HostSpec{{Name: "h1", Distro: distro}},
				TimeScale: 0.001, DownTime: 20 * time.Millisecond, Seed: 3,
			})
			tr := dial()
			defer func() { tr.Close() }()
			b, err := unix.Detect(ctx, tr, unix.Options{})
			if err != nil {
				t.Fatalf("detect: %v", err)
			}
			if err := b.Refresh(ctx, tr); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			alone, err := b.Scan(ctx, tr)
			if err != nil || len(alone) == 0 {
				t.Fatalf("scan: %v, %v; want updates", alone, err)
			}
			bs := b.(patch.BootStater)
			st, err := bs.BootState(ctx, tr, patch.BootQuery{Scan: true, Before: "an-older-boot"})
			if err != nil || st.ID != sim.BootID() || !st.Scanned || st.ScanErr != nil || !slices.EqualFunc(st.Updates, alone, func(a, b patch.Update) bool {
				return a.Name == b.Name && a.Available == b.Available
			}) {
				t.Fatalf("new boot: %+v, %v; want boot %s and the updates of Scan alone %v", st, err, sim.BootID(), alone)
			}
			st, err = bs.BootState(ctx, tr, patch.BootQuery{Scan: true, Before: sim.BootID()})
			if err != nil || st.ID != sim.BootID() || st.Scanned {
				t.Fatalf("old boot: %+v, %v; want no scan", st, err)
			}
		})
	}
}
