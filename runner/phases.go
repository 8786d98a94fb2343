package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/wake"
)

// hostPhases is one pool worker's job for one host: every phase up to the
// point where the host either ends or waits for its reboot batch.
func (r *run) hostPhases(ctx context.Context, h *hostRun) {
	h.res.StartedAt = r.deps.Now()
	if h.notInPlan() || !h.connect(ctx) {
		return
	}
	if r.cfg.Command == report.CmdExec && h.execWrapsLease() {
		if h.checkpoint(ctx, report.PhaseExec) {
			h.execLeased(ctx)
		}
		return
	}
	if !h.takeLease(ctx) {
		return
	}
	if r.cfg.Command == report.CmdExec {
		if h.checkpoint(ctx, report.PhaseExec) {
			h.exec(ctx)
		}
		return
	}
	if !h.checkpoint(ctx, report.PhaseFacts) || !h.gatherFacts(ctx) {
		return
	}
	if r.cfg.Command == report.CmdFacts {
		h.ok()
		return
	}
	if r.cfg.Command == report.CmdReboot {
		h.decideRebootOnly()
		return
	}
	if !h.checkpoint(ctx, report.PhaseScanning) || !h.scan(ctx, r.cfg.Refresh) {
		return
	}
	if r.cfg.Command == report.CmdScan {
		h.ok()
		return
	}
	if !h.checkPlan() {
		return
	}
	h.selected = h.choose(h.pending)
	h.markSelected(h.selected)
	h.logf(nil, "%d updates pending, %d selected", len(h.res.Updates), len(h.selected))
	if r.cfg.DryRun {
		h.dryRun()
		return
	}
	// A host that is to change starts here: not after the window closed,
	// and only once its pre hooks passed.
	if (len(h.selected) > 0 || h.needsReboot()) && !(h.installAllowed() && h.preHooks(ctx)) {
		return
	}
	if len(h.selected) > 0 {
		if !h.checkpoint(ctx, report.PhaseInstalling) || !h.install(ctx, h.selected) {
			return
		}
	}
	if h.needsReboot() {
		h.awaitBatch()
		return
	}
	h.finishPatched(ctx)
}

// awaitBatch parks the host until its reboot batch. It holds no connection
// meanwhile (its batch redials): open connections stay bounded by the
// workers plus the batch in progress, however large the fleet.
func (h *hostRun) awaitBatch() {
	h.enter(report.PhaseAwaitBatch)
	h.closeTransport()
}

// checkpoint is the boundary between two phases: after a Ctrl-C the host
// stops here instead of starting next.
func (h *hostRun) checkpoint(ctx context.Context, next report.Phase) bool {
	if ctx.Err() != nil {
		h.fail(ctx, string(next), ctx.Err())
		return false
	}
	if h.r.stopping(ctx) {
		h.skip("interrupted before " + string(next))
		return false
	}
	return h.renewLeaseIfDue(ctx)
}

// connect opens the host's one transport. Auth and host-key failures are not
// "unreachable": the host answered, and retrying cannot help.
func (h *hostRun) connect(ctx context.Context) bool {
	h.enter(report.PhaseConnecting)
	timeout := h.connectTimeout()
	var t transport.Transport
	err := h.step(ctx, "connect", timeout, func(c context.Context) error {
		var err error
		t, err = h.dial(c, timeout)
		return err
	})
	switch {
	case err == nil:
		h.t = t
		return true
	case ctx.Err() != nil || transport.Permanent(err):
		h.fail(ctx, "connect", err)
	default:
		woke, werr := h.wake(ctx)
		if woke {
			return true
		}
		msg := "connect: " + err.Error()
		if werr != nil {
			msg += "; " + werr.Error()
		}
		h.res.Phase = report.PhaseConnecting
		h.end(report.StatusUnreachable, msg, "unreachable", err)
	}
	return false
}

// wake sends an unreachable host its Wake-on-LAN magic packet (Plan.Wake,
// a host with a MAC address, once per run) and redials it until its
// reboot timeout. It reports whether the host is now connected; the error
// says why not, nil when no packet was sent.
func (h *hostRun) wake(ctx context.Context) (bool, error) {
	if !h.r.cfg.Wake || h.host.MAC == nil || h.woken {
		return false, nil
	}
	h.woken = true
	send := h.r.deps.Wake
	if send == nil {
		send = func(ctx context.Context, host inventory.Host) error { return wake.Send(ctx, host.MAC, host.WakeAddr()) }
	}
	if err := send(ctx, h.host); err != nil {
		h.logf(err, "wake: magic packet for %s not sent", h.host.MAC)
		return false, fmt.Errorf("wake-on-LAN: %w", err)
	}
	wait := h.rebootTimeout()
	h.logf(nil, "wake: magic packet for %s sent to %s; waiting up to %s for the host", h.host.MAC, h.host.WakeAddr(), wait)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := h.redialUntil(wctx); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("woken with a magic packet to %s, no answer within %s", h.host.WakeAddr(), wait)
	}
	h.logf(nil, "wake: the host answers")
	return true, nil
}

// gatherFacts picks the backend and reads the host's facts.
func (h *hostRun) gatherFacts(ctx context.Context) bool {
	h.enter(report.PhaseFacts)
	cfg := &h.r.cfg
	if err := h.detect(ctx, cfg.StepTimeout); err != nil {
		h.fail(ctx, "detect", err)
		return false
	}
	h.res.PackageManager = h.be.Name()
	err := h.step(ctx, "facts", cfg.StepTimeout, func(c context.Context) error {
		f, err := h.be.Facts(c, h.t)
		h.facts = f
		return err
	})
	if err != nil {
		h.fail(ctx, "facts", err)
		return false
	}
	h.res.OS = h.facts.OS
	if h.facts.PackageManager != "" {
		h.res.PackageManager = h.facts.PackageManager
	}
	h.res.RebootRequired = h.facts.RebootRequired
	h.res.RebootReasons = h.facts.RebootReasons
	h.res.Facts = report.NewFacts(h.facts, h.r.deps.Now())
	return true
}

// detect picks the host's backend over its open transport.
func (h *hostRun) detect(ctx context.Context, timeout time.Duration) error {
	return h.step(ctx, "detect", timeout, func(c context.Context) error {
		be, err := h.r.deps.Detect(c, h.host, h.t)
		if err == nil && be == nil {
			err = fmt.Errorf("%w: no backend for this host", patch.ErrUnsupported)
		}
		h.be = be
		if err == nil {
			nameJobs(be, h.r.cfg.RunID)
		}
		return err
	})
}

// scan is the scanning phase: pending updates, after a metadata refresh if
// asked.
func (h *hostRun) scan(ctx context.Context, refresh bool) bool {
	h.enter(report.PhaseScanning)
	return h.listUpdates(ctx, refresh)
}

// listUpdates refreshes (if asked) and scans, recording what is pending now
// in h.pending and adding it to the result.
func (h *hostRun) listUpdates(ctx context.Context, refresh bool) bool {
	cfg := &h.r.cfg
	if refresh {
		err := h.step(ctx, "refresh", cfg.StepTimeout, func(c context.Context) error {
			return h.refreshDetached(c)
		})
		if err != nil {
			h.fail(ctx, "refresh", err)
			return false
		}
	}
	var found []patch.Update
	err := h.step(ctx, "scan", cfg.StepTimeout, func(c context.Context) error {
		var err error
		found, err = h.be.Scan(c, h.t)
		return err
	})
	if err != nil {
		h.fail(ctx, "scan", err)
		return false
	}
	return h.foundUpdates(ctx, found)
}

// foundUpdates takes in a scan's result: enriched, it is what the host
// still needs.
func (h *hostRun) foundUpdates(ctx context.Context, found []patch.Update) bool {
	found, err := h.enrich(ctx, found)
	if err != nil {
		h.fail(ctx, "packages", err)
		return false
	}
	h.pending = found
	h.mergeFound(found)
	return true
}

// dryRun reports what patch would do and ends the host.
func (h *hostRun) dryRun() {
	for _, u := range h.selected {
		h.res.WouldInstall = append(h.res.WouldInstall, u.Name)
	}
	switch h.r.cfg.Reboot {
	case RebootAlways:
		h.res.WouldReboot = true
	case RebootIfRequired:
		h.res.WouldReboot = h.facts.RebootRequired
		for _, u := range h.selected {
			h.res.WouldReboot = h.res.WouldReboot || u.RebootRequired
		}
	}
	if len(h.selected) > 0 || h.res.WouldReboot {
		h.res.WouldRun = h.wouldRun()
	}
	h.ok()
}

// decideRebootOnly is the `reboot` command's pool step.
func (h *hostRun) decideRebootOnly() {
	if h.r.cfg.OnlyIfRequired && !h.facts.RebootRequired {
		h.ok()
		return
	}
	if h.r.cfg.DryRun {
		h.res.WouldReboot = true
		h.ok()
		return
	}
	h.awaitBatch()
}
