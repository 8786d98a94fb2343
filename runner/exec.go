package runner

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// leaseAnswerRoom is output room for the lease's two answers in a wrapped
// command, on top of the command's own cap.
const leaseAnswerRoom = 16 << 10

// exec runs the ad-hoc command and keeps a bounded copy of its output.
func (h *hostRun) exec(ctx context.Context) {
	h.enter(report.PhaseExec)
	res, err := h.runExec(ctx, h.r.cfg.ExecCommand, h.r.cfg.execMaxOutput)
	if err != nil {
		h.fail(ctx, "exec", err)
		return
	}
	h.finishExec(res)
}

// execWrapsLease reports whether this host's exec takes and releases its
// lease in the command's own round trip (a Unix host, no --wait-lock):
// one round trip where three would be, which on a large fleet is most of
// what exec costs the hosts.
func (h *hostRun) execWrapsLease() bool {
	return h.r.cfg.takesLeases() && h.host.Transport != inventory.TransportWinRM
}

// execLeased is exec with the lease taken before the command and released
// after it, in one command line (lease.WrapUnix). A host another run holds
// ends skipped "locked" without running the command; with --wait-lock it
// is waited for the usual way, then the command runs.
func (h *hostRun) execLeased(ctx context.Context) {
	l, err := h.newLease()
	if err != nil {
		h.failWith("locked", "lock: "+err.Error())
		return
	}
	h.enter(report.PhaseExec)
	// Held from here as far as the renewal ticker is concerned: a command
	// longer than a third of the TTL keeps the lease alive. (Had the
	// acquire been refused, the command would not run, and a renewal
	// would only answer "lost".)
	h.lease = &hostLease{l: l, renewed: h.r.deps.Now()}
	res, err := h.runExec(ctx, l.WrapUnix(h.r.cfg.ExecCommand), h.r.cfg.execMaxOutput+leaseAnswerRoom)
	if err != nil {
		h.fail(ctx, "exec", err) // ends the host, releasing the lease if it was taken
		return
	}
	w, err := l.SplitWrapped(res)
	if err != nil {
		h.lease = nil
		h.failWith("locked", err.Error())
		return
	}
	switch w.Before.Status {
	case lease.Acquired:
	case lease.TookOver:
		h.lockEvent("took over the expired lease of " + describeHolder(w.Before.Holder))
	default:
		h.lease = nil
		if h.r.cfg.Lock.Wait > 0 {
			if h.takeLease(ctx) {
				h.exec(ctx)
			}
			return
		}
		h.end(report.StatusSkipped, "locked by "+describeHolder(w.Before.Holder), "locked", nil)
		return
	}
	switch {
	case w.After == nil:
		h.lease.releasedMaybe = true
	case w.After.Status == lease.Released:
		h.lease = nil // released in the same round trip
	}
	// Otherwise the host's end releases it the usual way, and says what
	// it finds (a lease another run took meanwhile, or none).
	h.finishExec(w.Result)
}

// runExec runs line as the exec step, its output kept up to max bytes.
func (h *hostRun) runExec(ctx context.Context, line string, max int) (transport.Result, error) {
	var res transport.Result
	err := h.step(ctx, "exec", h.r.cfg.StepTimeout, func(c context.Context) error {
		var err error
		res, err = h.t.Run(c, transport.Command{Line: line, MaxOutput: max})
		return err
	})
	return res, err
}

// finishExec records the command's result and ends the host.
func (h *hostRun) finishExec(res transport.Result) {
	max := h.r.cfg.execMaxOutput
	// Enforce the cap here too: a transport that ignores MaxOutput must not
	// make a large fleet's output unbounded.
	out, cutOut := capBytes(res.Stdout, max)
	errOut, cutErr := capBytes(res.Stderr, max)
	h.res.Exec = &report.ExecResult{
		ExitCode:  res.ExitCode,
		Stdout:    string(out),
		Stderr:    string(errOut),
		Truncated: res.Truncated || cutOut || cutErr,
	}
	if res.ExitCode != 0 {
		h.failWith("exit-code", fmt.Sprintf("exit code %d", res.ExitCode))
		return
	}
	h.ok()
}

func capBytes(b []byte, max int) ([]byte, bool) {
	if len(b) > max {
		return b[:max], true
	}
	return b, false
}
