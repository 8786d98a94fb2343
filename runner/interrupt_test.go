package runner

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/report"
)

// after runs fn once ready is closed, in a goroutine joined at cleanup.
func after(t *testing.T, ready <-chan struct{}, fn func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ready
		fn()
	}()
	t.Cleanup(wg.Wait)
}

func kernelHost(name string) *fakeHost {
	return &fakeHost{name: name, pending: []patch.Update{upd("kernel", true, true)}}
}

func TestFirstCtrlCLetsInFlightInstallFinish(t *testing.T) {
	a := kernelHost("a")
	a.installStart, a.installGate = make(chan struct{}), make(chan struct{})
	f := newFleet(t, a, kernelHost("b"), kernelHost("c"))
	plan := fastPlan(report.CmdPatch, f)
	plan.Forks = 1
	stop := make(chan struct{})
	// Ctrl-C while a's package manager runs, then let it finish.
	after(t, a.installStart, func() { close(stop); close(a.installGate) })

	rep, rec := runPlan(t, context.Background(), plan, f, stop)
	checkEvents(t, rep, rec)
	m := byName(rep)
	if h := m["a"]; !h.Updates[0].Installed || h.Status != report.StatusSkipped ||
		h.Error != "interrupted: reboot not started; updates were installed, reboot still required" || f.host("a").reboots != 0 {
		t.Errorf("a: status %s error %q updates %+v reboots %d", h.Status, h.Error, h.Updates, f.host("a").reboots)
	}
	for _, name := range []string{"b", "c"} {
		if h := m[name]; h.Status != report.StatusSkipped || h.Error != "interrupted before start" || f.host(name).dials != 0 {
			t.Errorf("%s: status %s error %q dials %d", name, h.Status, h.Error, f.host(name).dials)
		}
	}
	if !rep.Interrupted || len(rec.kinds(EventInterrupt)) != 1 {
		t.Errorf("interrupted %v interrupt events %d", rep.Interrupted, len(rec.kinds(EventInterrupt)))
	}
}

func TestFirstCtrlCNeverStartsAnInstall(t *testing.T) {
	a := kernelHost("a")
	gate, started := make(chan struct{}), make(chan struct{})
	a.scanGate, a.scanStart = gate, started
	f := newFleet(t, a)
	stop := make(chan struct{})
	after(t, started, func() { close(stop); close(gate) })

	rep, rec := runPlan(t, context.Background(), fastPlan(report.CmdPatch, f), f, stop)
	checkEvents(t, rep, rec)
	h := rep.Hosts[0]
	if f.host("a").installs != 0 || h.Status != report.StatusSkipped || h.Error != "interrupted before installing" || len(h.Updates) != 1 {
		t.Errorf("status %s error %q installs %d", h.Status, h.Error, f.host("a").installs)
	}
	if !rep.Interrupted {
		t.Error("report does not say interrupted")
	}
}

func TestFirstCtrlCLetsRebootWaitFinishButStartsNoBatch(t *testing.T) {
	a := kernelHost("a")
	a.downDials = 3
	a.rebootIssued = make(chan struct{})
	f := newFleet(t, a, kernelHost("b"))
	stop := make(chan struct{})
	after(t, a.rebootIssued, func() { close(stop) })

	rep, rec := runPlan(t, context.Background(), fastPlan(report.CmdPatch, f), f, stop)
	checkEvents(t, rep, rec)
	m := byName(rep)
	if h := m["a"]; h.Status != report.StatusOK || !h.Rebooted {
		t.Errorf("a: reboot in flight did not finish: status %s error %q", h.Status, h.Error)
	}
	if h := m["b"]; h.Status != report.StatusSkipped || h.Rebooted || !h.Updates[0].Installed ||
		h.Error != "interrupted: reboot not started; updates were installed, reboot still required" {
		t.Errorf("b: status %s error %q", h.Status, h.Error)
	}
	if !rep.Interrupted || len(rec.kinds(EventBatch)) != 1 {
		t.Errorf("interrupted %v, %d batches", rep.Interrupted, len(rec.kinds(EventBatch)))
	}
}

func TestStopBeforeRunStartsNothing(t *testing.T) {
	f := newFleet(t, kernelHost("a"), kernelHost("b"))
	stop := make(chan struct{})
	close(stop)
	rep, rec := runPlan(t, context.Background(), fastPlan(report.CmdPatch, f), f, stop)
	checkEvents(t, rep, rec)
	for _, h := range rep.Hosts {
		if h.Status != report.StatusSkipped || f.host(h.Name).dials != 0 {
			t.Errorf("%s: status %s dials %d", h.Name, h.Status, f.host(h.Name).dials)
		}
	}
	if !rep.Interrupted {
		t.Error("report does not say interrupted")
	}
}

func TestSecondCtrlCAbortsPromptly(t *testing.T) {
	tests := []struct {
		name  string
		setup func(a *fakeHost) <-chan struct{} // returns when to cancel
		err   string                            // prefix
	}{
		{"during install", func(a *fakeHost) <-chan struct{} {
			a.installHang, a.installStart = true, make(chan struct{})
			return a.installStart
		}, "interrupted during installing: host may be half-patched: run fakepm --verify"},
		{"during reboot wait", func(a *fakeHost) <-chan struct{} {
			a.neverBack, a.rebootIssued = true, make(chan struct{})
			return a.rebootIssued
		}, "interrupted during waiting-"}, // down or up, depending on when the poll was
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := kernelHost("a")
				when := tt.setup(a)
				f := newFleet(t, a, kernelHost("b"))
				plan := realTimePlan(report.CmdPatch, f)
				plan.Forks = 1 // install may take 2 hours, a reboot 15 minutes: only ctx can end them
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				stop := make(chan struct{})
				after(t, when, func() { close(stop); cancel() })

				start := time.Now()
				rep, rec := runPlan(t, ctx, plan, f, stop)
				if took := time.Since(start); took != 0 {
					t.Errorf("Run took %s after cancel", took)
				}
				checkEvents(t, rep, rec)
				h := byName(rep)["a"]
				if h.Status != report.StatusFailed || !strings.HasPrefix(h.Error, tt.err) || h.ErrorKind != "interrupted" {
					t.Errorf("a: status %s kind %q error %q", h.Status, h.ErrorKind, h.Error)
				}
				if b := byName(rep)["b"]; b.Status != report.StatusSkipped {
					t.Errorf("b: status %s error %q", b.Status, b.Error)
				}
				if !rep.Interrupted {
					t.Error("report does not say interrupted")
				}
			})
		})
	}
}

func TestFirstCtrlCStartsNoFurtherRound(t *testing.T) {
	a := kernelHost("a")
	a.waves = [][]patch.Update{{upd("servicing-stack", true, true)}}
	a.rebootIssued = make(chan struct{})
	f := newFleet(t, a)
	stop := make(chan struct{})
	after(t, a.rebootIssued, func() { close(stop) })

	rep, rec := runPlan(t, context.Background(), fastPlan(report.CmdPatch, f), f, stop)
	checkEvents(t, rep, rec)
	h := rep.Hosts[0]
	if h.Status != report.StatusSkipped || !h.Rebooted || h.Rounds != 1 || f.host("a").installs != 1 ||
		h.Error != "interrupted: install round 2 not started; 1 selected updates still pending" {
		t.Errorf("status %s error %q rebooted %v rounds %d installs %d", h.Status, h.Error, h.Rebooted, h.Rounds, f.host("a").installs)
	}
}

// The half-patched warning carries the host's own backend's recovery hint:
// a Windows host is never told to run dpkg.
func TestInterruptedInstallHintComesFromTheBackend(t *testing.T) {
	a := kernelHost("win")
	a.hint = windows.New(windows.Options{}).RecoveryHint()
	a.installHang, a.installStart = true, make(chan struct{})
	f := newFleet(t, a)
	plan := fastPlan(report.CmdPatch, f)
	plan.StepTimeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	after(t, a.installStart, func() { close(stop); cancel() })

	rep, _ := runPlan(t, ctx, plan, f, stop)
	h := rep.Hosts[0]
	if !strings.HasPrefix(h.Error, "interrupted during installing: host may be half-patched: ") ||
		!strings.Contains(h.Error, "Get-WindowsUpdateLog") || strings.Contains(h.Error, "dpkg") {
		t.Fatalf("error %q: want the Windows backend's hint and no dpkg", h.Error)
	}
}
