package winsim_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// TestWindowsHealthCheckAndHooksRunAsPowerShell patches two Windows hosts
// with a pre hook and a health check: over WinRM both run as PowerShell
// (the simulator answers only the PowerShell scripts it is given). One
// host's service never comes up: it fails with error_kind health.
func TestWindowsHealthCheckAndHooksRunAsPowerShell(t *testing.T) {
	if testing.Short() {
		t.Skip("patches two simulated Windows hosts")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const (
		drain  = "Suspend-ClusterNode -Drain"
		health = "if ((Get-Service app).Status -ne 'Running') { exit 1 }"
	)
	var wins []*winsim.Host
	for _, s := range []struct {
		name string
		exit int
	}{{"win-up", 0}, {"win-down", 1}} {
		h, err := winsim.Start(ctx, winsim.Config{Name: s.name, DownTime: 80 * time.Millisecond, PowerShell: map[string]winsim.PSAnswer{
			drain:  {Stdout: "drained\r\n"},
			health: {Exit: s.exit, Stderr: "app: " + map[int]string{0: "Running", 1: "Stopped"}[s.exit] + "\r\n"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		wins = append(wins, h)
	}
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
		Command: report.CmdPatch, Hosts: hosts,
		ConnectTimeout: 2 * time.Second, StepTimeout: 15 * time.Second,
		Reboot: runner.RebootIfRequired, Batches: runner.Batches{{N: 2}}, MaxFailures: runner.Budget{Unlimited: true},
		RebootTimeout: 5 * time.Second,
		Timing:        runner.Timing{PollInterval: 20 * time.Millisecond, PollMax: 100 * time.Millisecond, ProbeTimeout: time.Second},
		Steps:         runner.Steps{PreCmd: drain, HealthCmd: health, HealthTimeout: 2 * time.Second, HealthInterval: 200 * time.Millisecond},
	}
	rep, err := runner.Run(ctx, plan, runner.Deps{Dialer: dialer, Detect: dialer.Detect})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Hosts {
		var steps []string
		for _, o := range r.Output {
			steps = append(steps, o.Step)
		}
		if !slices.Contains(steps, "pre_cmd") {
			t.Errorf("%s: no pre_cmd output among %q", r.Name, steps)
		}
		switch r.Name {
		case "win-up":
			if r.Status != report.StatusOK || !r.Rebooted {
				t.Errorf("win-up: %s %q, want ok after its reboot", r.Status, r.Error)
			}
		case "win-down":
			if r.Status != report.StatusFailed || r.ErrorKind != "health" || !r.Rebooted {
				t.Errorf("win-down: %s/%s %q, want failed by its health check after its reboot", r.Status, r.ErrorKind, r.Error)
			}
			if last := r.Output[len(r.Output)-1]; last.Step != "health_cmd" || !strings.Contains(last.Output, "app: Stopped") {
				t.Errorf("win-down: last output %+v, want the health check's", last)
			}
		}
	}
}
