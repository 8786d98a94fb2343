package winsim_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// TestWindowsHostLease runs the PowerShell lease through WinRM: a free
// host is leased, rebooted and released; a host another run holds is
// skipped, its lease untouched.
func TestWindowsHostLease(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wins []*winsim.Host
	for _, name := range []string{"win-free", "win-held"} {
		h, err := winsim.Start(ctx, winsim.Config{Name: name, DownTime: 80 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		wins = append(wins, h)
	}
	other := lease.Holder{RunID: "20261205T010000Z-beef", Controller: "ci-runner-3", User: "deploy", PID: 4242}
	wins[1].Lock().Hold(other)

	dir := t.TempDir()
	inv := dir + "/inventory.yaml"
	if err := os.WriteFile(inv, []byte("hosts: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := winsim.AppendInventory(inv, wins); err != nil {
		t.Fatal(err)
	}
	hosts, err := inventory.Load(inv, inventory.LoadOptions{Home: dir, DefaultUser: "root"})
	if err != nil {
		t.Fatal(err)
	}
	dialer := fastDialer(t)
	plan := runner.Plan{
		Command: report.CmdReboot, Hosts: hosts, RunID: "20261205T020000Z-abcd",
		ConnectTimeout: 2 * time.Second, StepTimeout: 15 * time.Second,
		Reboot: runner.RebootAlways, Batches: runner.Batches{{N: 2}}, MaxFailures: runner.Budget{Unlimited: true},
		RebootTimeout: 5 * time.Second,
		Timing:        runner.Timing{PollInterval: 20 * time.Millisecond, PollMax: 100 * time.Millisecond, ProbeTimeout: time.Second},
	}
	rep, err := runner.Run(ctx, plan, runner.Deps{Dialer: dialer, Detect: dialer.Detect})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Hosts {
		switch r.Name {
		case "win-free":
			if r.Status != report.StatusOK || !r.Rebooted {
				t.Errorf("win-free: %s %q, want rebooted", r.Status, r.Error)
			}
		case "win-held":
			if r.Status != report.StatusSkipped || r.ErrorKind != "locked" || !strings.Contains(r.Error, "run 20261205T010000Z-beef (controller ci-runner-3") || r.Rebooted {
				t.Errorf("win-held: %s/%s %q, want skipped/locked naming the holder", r.Status, r.ErrorKind, r.Error)
			}
		}
	}
	if ops := wins[0].Lock().Ops(); len(ops) < 2 || ops[0] != "acquire:acquired" || ops[len(ops)-1] != "release:released" {
		t.Errorf("win-free lease operations %v, want acquire … release", ops)
	}
	if h, ok := wins[1].Lock().Holder(); !ok || h.RunID != other.RunID {
		t.Errorf("win-held's lease changed: %+v", h)
	}
}
