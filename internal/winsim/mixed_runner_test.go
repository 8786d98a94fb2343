package winsim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/connect"
	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// TestMixedFleetPatch patches simulated Linux (SSH) and Windows (WinRM)
// hosts in one runner.Run, from one inventory written by fleet and
// extended by AppendInventory: batches of 2, reboot always, a failure
// budget of 1. Windows hosts show a second round (an update offered only
// after the first reboot), an update loop, and a host that never comes
// back; the budget then halts the last batch.
func TestMixedFleetPatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 9 simulated hosts")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	fl, err := fleet.Start(ctx, fleet.Config{Count: 4, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fl.Close() })

	loop := winsim.DefaultUpdates()
	loop[2].Loop = true // the MSRT comes back after every reboot
	specs := []struct {
		name string
		cfg  winsim.Config
	}{
		{"win-ok", winsim.Config{}},
		{"win-loop", winsim.Config{Updates: loop}},
		{"win-never", winsim.Config{Faults: winsim.Faults{NeverReturn: true}}},
		{"win-spare", winsim.Config{}},
		{"win-late", winsim.Config{}},
	}
	var wins []*winsim.Host
	byName := map[string]*winsim.Host{}
	for _, s := range specs {
		s.cfg.Name = s.name
		s.cfg.DownTime = 80 * time.Millisecond
		h, err := winsim.Start(ctx, s.cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		wins = append(wins, h)
		byName[s.name] = h
	}

	dir := t.TempDir()
	invPath, err := fl.WriteInventory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := winsim.AppendInventory(invPath, wins); err != nil {
		t.Fatal(err)
	}
	hosts, err := inventory.Load(invPath, inventory.LoadOptions{Home: dir, DefaultUser: "root"})
	if err != nil {
		t.Fatalf("load the mixed inventory: %v", err)
	}
	if len(hosts) != 9 {
		t.Fatalf("inventory has %d hosts, want 4 Linux + 5 Windows", len(hosts))
	}

	// The product's own dispatch (Windows Update for WinRM hosts, the Unix
	// probe otherwise), with the simulated installer polled fast.
	dialer := fastDialer(t)
	plan := runner.Plan{
		Command: report.CmdPatch, Hosts: hosts, Forks: 9,
		ConnectTimeout: 2 * time.Second, StepTimeout: 15 * time.Second,
		Selection:     patch.Selection{SkipOptional: true},
		Reboot:        runner.RebootAlways,
		Batches:       runner.Batches{{N: 2}},
		MaxFailures:   runner.Budget{N: 1},
		RebootTimeout: 3 * time.Second, // generous for loaded CI; the never-returning host waits it out
		Timing:        runner.Timing{PollInterval: 20 * time.Millisecond, PollMax: 100 * time.Millisecond, ProbeTimeout: time.Second},
	}
	rep, err := runner.Run(ctx, plan, runner.Deps{Dialer: dialer, Detect: dialer.Detect})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	res := map[string]report.HostResult{}
	for _, r := range rep.Hosts {
		res[r.Name] = r
	}
	describe := func(r report.HostResult) string {
		return fmt.Sprintf("%s: status %s kind %q phase %q rounds %d rebooted %t batch %d error %q",
			r.Name, r.Status, r.ErrorKind, r.Phase, r.Rounds, r.Rebooted, r.RebootBatch, r.Error)
	}

	for _, li := range fl.Hosts() {
		r := res[li.Name]
		if r.Status != report.StatusOK || !r.Rebooted || r.BootIDBefore == r.BootIDAfter {
			t.Errorf("linux %s", describe(r))
		}
	}

	ok := res["win-ok"]
	if ok.Status != report.StatusOK || ok.Rounds != 2 || ok.PackageManager != windows.Name || ok.BootIDBefore == ok.BootIDAfter {
		t.Errorf("windows ok host: %s", describe(ok))
	}
	ssu := false
	for _, u := range ok.Updates {
		if u.KB == "KB5034862" && u.Installed {
			ssu = true
		}
		if u.Optional && u.Installed {
			t.Errorf("optional update %s installed despite SkipOptional", u.KB)
		}
	}
	if !ssu || byName["win-ok"].Installs()[winsim.DefaultUpdates()[4].ID] != 1 {
		t.Errorf("the update offered after the first reboot was not installed in round 2: %+v", ok.Updates)
	}
	if byName["win-ok"].Boots() != 2 {
		t.Errorf("win-ok rebooted %d times, want 2 (one per round)", byName["win-ok"].Boots())
	}

	if r := res["win-loop"]; r.Status != report.StatusFailed || r.ErrorKind != "update-loop" || !strings.Contains(r.Error, "Malicious Software Removal Tool") {
		t.Errorf("update loop: %s", describe(r))
	}
	if r := res["win-never"]; r.ErrorKind != "reboot-timeout" {
		t.Errorf("host that never returns: %s", describe(r))
	}
	if r := res["win-spare"]; r.Status != report.StatusOK {
		t.Errorf("host in the same batch as the failure: %s", describe(r))
	}
	if !rep.Halted {
		t.Errorf("two failures past a budget of 1: the run should be halted")
	}
	if r := res["win-late"]; r.Rebooted || r.Status == report.StatusOK || byName["win-late"].Boots() != 0 {
		t.Errorf("the batch after the budget ran out must not reboot: %s (boots %d)", describe(r), byName["win-late"].Boots())
	}
}

// fastDialer is the product's dialer with the simulated installer polled
// fast, closed at cleanup.
func fastDialer(t *testing.T) *connect.Dialer {
	d := connect.NewDialer(connect.Options{ConnectTimeout: 2 * time.Second, Windows: windows.Options{
		PollInterval: 10 * time.Millisecond, StaleAfter: 5 * time.Second,
		RetryMax: 50 * time.Millisecond, ReadyPause: 10 * time.Millisecond,
	}})
	t.Cleanup(func() { d.Close() })
	return d
}
