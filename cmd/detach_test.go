package cmd

import (
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

// The SSH link drops in the middle of every Linux host's install while the
// transaction goes on (detached on the host): patchrun reconnects,
// re-attaches to the same job and reports the real result, ok with every
// update installed, exit 0, having run exactly one transaction per host
// and left no job behind.
func TestPatchSurvivesLinkDroppedMidInstall(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{
		PerDistro:   map[fleet.Distro]int{fleet.Debian12: 1, fleet.Rocky9: 1, fleet.OpenSUSE155: 1},
		InstallTime: 20 * time.Millisecond,
		Faults:      fleet.Faults{DropDuringInstall: 1},
	})
	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--reboot", "never", "--no-progress", "-v")
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	for _, h := range rep.Hosts {
		sim := fl.Host(h.Name)
		if h.Status != report.StatusOK || len(sim.Pending()) != 0 {
			t.Errorf("%s: status %s (%s), %d still pending", h.Name, h.Status, h.Error, len(sim.Pending()))
		}
		for _, u := range h.Updates {
			if !u.Installed || u.OutcomeUnknown {
				t.Errorf("%s: %s installed %v outcome_unknown %v", h.Name, u.Name, u.Installed, u.OutcomeUnknown)
			}
		}
		if f := sim.Faults(); f.DropDuringInstall != 0 {
			t.Errorf("%s: the link was never dropped", h.Name)
		}
		transactions := 0
		for _, c := range sim.CommandsSeen() {
			if !strings.Contains(c, "patchrun-job") && (strings.Contains(c, "apt-get -y") ||
				strings.Contains(c, "dnf -y upgrade") || strings.Contains(c, "zypper -n update")) {
				transactions++
			}
		}
		if transactions != 1 {
			t.Errorf("%s: %d install transactions ran, want 1", h.Name, transactions)
		}
		if j := sim.Jobs(); len(j) != 0 {
			t.Errorf("%s: jobs left on the host: %v", h.Name, j)
		}
	}
	if n := strings.Count(r.stderr, "connection lost; reconnecting to re-attach"); n != len(rep.Hosts) {
		t.Errorf("%d re-attaches logged, want one per host\n%s", n, r.stderr)
	}
}
