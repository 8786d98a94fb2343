package runner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/report"
)

// An abort (the run's ctx cancelled: a second Ctrl-C) while a host's
// scheduled reboot has not happened yet must cancel that reboot, and the
// report must say whether the cancel worked.
func TestAbortCancelsScheduledReboot(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(a *fakeHost)
		outcome string
		err     string
		booted  bool // the host rebooted after all
	}{
		{"cancel succeeds", func(a *fakeHost) {}, report.RebootCancelled,
			"interrupted during waiting-down: the scheduled reboot was cancelled", false},
		{"cancel fails", func(a *fakeHost) { a.cancelErr = errors.New("systemctl stop: exit status 1") }, report.RebootMayStillHappen,
			"interrupted during waiting-down: the scheduled reboot may still happen: cancel failed: systemctl stop: exit status 1", true},
		{"host unreachable", func(a *fakeHost) { a.sameBootDials = 0; a.downDials = 1 << 20 }, report.RebootMayStillHappen,
			"interrupted during waiting-", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The host keeps answering with its old boot id, as during a
			// reboot's delay, until it is cancelled.
			a := kernelHost("a")
			a.sameBootDials, a.rebootIssued = 1<<20, make(chan struct{})
			tt.setup(a)
			f := newFleet(t, a)
			plan := fastPlan(report.CmdPatch, f)
			plan.RebootTimeout = time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := make(chan struct{})
			after(t, a.rebootIssued, func() { close(stop); cancel() })

			rep, rec := runPlan(t, ctx, plan, f, stop)
			checkEvents(t, rep, rec)
			h := byName(rep)["a"]
			if h.Status != report.StatusFailed || h.ErrorKind != "interrupted" || h.RebootCancel != tt.outcome ||
				!strings.HasPrefix(h.Error, tt.err) || h.Rebooted {
				t.Errorf("status %s kind %q reboot_cancel %q rebooted %v error %q; want reboot_cancel %q error %q…",
					h.Status, h.ErrorKind, h.RebootCancel, h.Rebooted, h.Error, tt.outcome, tt.err)
			}
			var pending bool
			f.snapshot(func() { pending = a.afterReboot != 0 })
			if pending != tt.booted {
				t.Errorf("reboot still pending on the host: %v, want %v", pending, tt.booted)
			}
			if !rep.Interrupted {
				t.Error("report does not say interrupted")
			}
		})
	}
}

// A host that rebooted before the cancel reached it is reported as
// rebooted, not as cancelled.
func TestAbortAfterTheRebootHappened(t *testing.T) {
	// The run is aborted while the reboot command still runs; by the time
	// patchrun reconnects, the host is back with a new boot id.
	a := kernelHost("a")
	a.rebootIssued, a.rebootHang = make(chan struct{}), true
	f := newFleet(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	after(t, a.rebootIssued, cancel)
	rep, rec := runPlan(t, ctx, fastPlan(report.CmdPatch, f), f, nil)
	checkEvents(t, rep, rec)
	h := byName(rep)["a"]
	if h.RebootCancel != report.RebootAlreadyHappened || !h.Rebooted || h.BootIDAfter != bootID("a", 1) ||
		h.Error != "interrupted during rebooting: the host had already rebooted (new boot id a-boot-1)" {
		t.Errorf("reboot_cancel %q rebooted %v boot id after %q error %q", h.RebootCancel, h.Rebooted, h.BootIDAfter, h.Error)
	}
	if a.cancels != 0 {
		t.Errorf("%d cancels sent to a host that had rebooted", a.cancels)
	}
}
