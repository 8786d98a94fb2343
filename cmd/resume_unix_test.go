//go:build unix

package cmd

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

// A run stopped with one SIGTERM ends its hosts skipped ("interrupted"):
// resume continues them, the one whose install finished included, and
// installs and reboots every host exactly once.
func TestResumeContinuesARunStoppedBySIGTERM(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{PerDistro: map[fleet.Distro]int{fleet.Debian12: 3}, InstallTime: 100 * time.Millisecond})
	first := fl.Host(fl.Hosts()[0].Name)
	stateDir := t.TempDir()
	c := patchrunProcess(t, "patch", "-i", inv, "-o", "json", "--forks", "1", "--state-dir", stateDir)
	var out bytes.Buffer
	var errOut syncBuffer
	c.Stdout, c.Stderr = &out, &errOut
	waited := startUntilInstall(t, c, first, &errOut)
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitOf(t, <-waited); code != ExitInterrupted {
		t.Fatalf("patch exit %d, want %d:\n%s", code, ExitInterrupted, errOut.String())
	}
	if first.Reboots() != 0 || len(first.Pending()) != 0 {
		t.Fatalf("%s: %d reboots, %d pending after the stop: want its install done, no reboot", first.Name(), first.Reboots(), len(first.Pending()))
	}

	r := runCLI(t, nil, "resume", "--state-dir", stateDir, "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("resume exit %d:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	for _, info := range fl.Hosts() {
		sim := fl.Host(info.Name)
		h := hostByName(t, rep, info.Name)
		installs := 0
		for _, cmd := range sim.CommandsSeen() {
			if strings.Contains(cmd, "patchrun-job start") && strings.Contains(cmd, "patchrun-install-") {
				installs++
			}
		}
		if h.Status != report.StatusOK || !h.Rebooted || sim.Reboots() != 1 || installs != 1 || len(sim.Pending()) != 0 {
			t.Errorf("%s: status %s rebooted %v; host rebooted %d times, %d install jobs, %d pending: %s",
				info.Name, h.Status, h.Rebooted, sim.Reboots(), installs, len(sim.Pending()), h.Error)
		}
	}
}
