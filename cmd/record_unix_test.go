//go:build unix

package cmd

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/state"
)

// A patch killed with SIGKILL mid-install leaves a journal that reads back
// (its last checkpoint says the host was installing round 1, with what it
// selected), shows as interrupted in `runs`, and holds no lock any more.
func TestKilledRunLeavesAReadableJournalAndNoLocks(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{PerDistro: map[fleet.Distro]int{fleet.Debian12: 2}, InstallTime: time.Minute})
	first := fl.Host(fl.Hosts()[0].Name)
	dir := filepath.Join(t.TempDir(), "state")
	c := patchrunProcess(t, "patch", "-i", inv, "--state-dir", dir, "-o", "json", "--forks", "1", "--no-ssh-config")
	var errOut syncBuffer
	c.Stderr = &errOut
	waited := startUntilInstall(t, c, first, &errOut)
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-waited

	r, err := journal.Latest(dir, nil)
	if err != nil {
		t.Fatalf("the killed run's journal: %v\nstderr:\n%s", err, errOut.String())
	}
	if r.State != journal.StateInterrupted || r.End != nil || !strings.Contains(errOut.String(), "run "+r.ID) {
		t.Errorf("killed run: state %s, end %+v", r.State, r.End)
	}
	cp, ok := r.Checkpoint(first.Name())
	if !ok || cp.Phase != report.PhaseInstalling || cp.Round != 1 || len(cp.Selected) == 0 {
		t.Errorf("%s's last checkpoint = %+v, %v; want installing round 1 with its selected updates", first.Name(), cp, ok)
	}
	if _, ended := r.Ended(first.Name()); ended {
		t.Errorf("%s has a result though it was killed mid-install", first.Name())
	}
	if res := runCLI(t, nil, "runs", "--state-dir", dir); !strings.Contains(res.stdout, "interrupted") {
		t.Errorf("runs after SIGKILL:\n%s", res.stdout)
	}
	absInv, _ := filepath.Abs(inv)
	g, err := takeGuard(dir, absInv, guardHolder{RunID: state.NewRunID(time.Now())})
	if err != nil {
		t.Errorf("the killed run's guard outlived it: %v", err)
	}
	g.Unlock()
}
