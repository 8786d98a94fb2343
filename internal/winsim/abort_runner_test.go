package winsim_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// An abort while the reboots patchrun scheduled are still in their delay
// (systemd-run --on-active on Linux, shutdown /t on Windows) cancels them:
// no host reboots with nobody watching, and the report says so.
func TestAbortCancelsScheduledRebootsOnSimulatedHosts(t *testing.T) {
	ctx, cancelAll := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelAll()

	// TimeScale 20: the Linux reboot's 5 s delay lasts 100 s.
	fl, err := fleet.Start(ctx, fleet.Config{Count: 1, Seed: 9, TimeScale: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fl.Close() })
	win, err := winsim.Start(ctx, winsim.Config{Name: "win1", RebootDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { win.Close() })
	dir := t.TempDir()
	invPath, err := fl.WriteInventory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := winsim.AppendInventory(invPath, []*winsim.Host{win}); err != nil {
		t.Fatal(err)
	}
	hosts, err := inventory.Load(invPath, inventory.LoadOptions{Home: dir, DefaultUser: "root"})
	if err != nil {
		t.Fatal(err)
	}
	linux := fl.Hosts()[0]
	linuxBoot := fl.Host(linux.Name).BootID()

	dialer := fastDialer(t)
	plan := runner.Plan{
		Command: report.CmdPatch, Hosts: hosts, Forks: 2,
		ConnectTimeout: 2 * time.Second, StepTimeout: 15 * time.Second,
		Selection: patch.Selection{SkipOptional: true},
		Reboot:    runner.RebootAlways, Batches: runner.Batches{{N: 2}},
		MaxFailures: runner.Budget{Unlimited: true}, RebootTimeout: time.Hour,
		Timing: runner.Timing{PollInterval: 20 * time.Millisecond, PollMax: 100 * time.Millisecond, ProbeTimeout: time.Second},
	}
	// Abort (the second Ctrl-C) once both hosts wait for their reboot.
	runCtx, abort := context.WithCancel(ctx)
	defer abort()
	var mu sync.Mutex
	waiting := map[string]bool{}
	obs := runner.ObserverFunc(func(e runner.Event) {
		if e.Kind == runner.EventPhase && e.Phase == report.PhaseWaitingDown {
			mu.Lock()
			defer mu.Unlock()
			if waiting[e.Host] = true; len(waiting) == 2 {
				abort()
			}
		}
	})
	rep, err := runner.Run(runCtx, plan, runner.Deps{Dialer: dialer, Detect: dialer.Detect, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	if len(waiting) != 2 {
		t.Fatalf("the hosts never waited for their reboot: %+v", rep.Hosts)
	}
	for _, h := range rep.Hosts {
		if h.Status != report.StatusFailed || h.RebootCancel != report.RebootCancelled || h.Rebooted ||
			!strings.HasSuffix(h.Error, ": the scheduled reboot was cancelled") {
			t.Errorf("%s: status %s reboot_cancel %q rebooted %v error %q", h.Name, h.Status, h.RebootCancel, h.Rebooted, h.Error)
		}
	}
	sim := fl.Host(linux.Name)
	if sim.BootID() != linuxBoot || sim.Reboots() != 0 || !strings.Contains(strings.Join(sim.CommandsSeen(), "\n"), "systemctl stop patchrun-reboot-") {
		t.Errorf("linux host: boot id %s (was %s), %d reboots, commands %q", sim.BootID(), linuxBoot, sim.Reboots(), sim.CommandsSeen())
	}
	if win.Boots() != 0 {
		t.Errorf("windows host rebooted %d times", win.Boots())
	}
	// Nothing is left scheduled: a second cancel finds no shutdown.
	c, err := dialer.Dial(ctx, hosts[len(hosts)-1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	be := windows.New(windows.Options{})
	if err := be.CancelReboot(ctx, c); err == nil {
		t.Error("windows host still had a shutdown to abort")
	}
}
