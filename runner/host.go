package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// hostRun is one host's journey through a run.
//
// Concurrency: owned by one goroutine at a time — the pool worker that took
// the host, then, if it awaits a reboot, the batch goroutine that reboots it.
// The hand-over is ordered by the pool's WaitGroup. phase is atomic only so
// the transport decorator may read it from a backend's helper goroutine.
type hostRun struct {
	r     *run
	host  inventory.Host
	res   report.HostResult
	t     transport.Transport // the host's one open connection, or nil
	be    patch.Backend
	facts patch.Facts
	phase atomic.Value // report.Phase
	ended bool

	pending   []patch.Update  // what the last scan found
	selected  []patch.Update  // what the selection picked from the first scan
	installed map[string]bool // updateKey of every update installed in any round
	byKey     map[string]int  // updateKey → index in res.Updates
	reboots   int             // verified reboots
	changing  bool            // its pre hooks ran: the run is changing it (hooks.go)
	// job names the detached install job whose result is unread after a
	// lost link (reattach.go); empty otherwise.
	job string
	// woken: a Wake-on-LAN packet was sent to this host in this run.
	woken bool

	bootBefore string // boot id read before the latest reboot command
	// bootRead: the pending-reboot signals and the rescan read with the
	// new boot's id (patch.BootStater), for verify; nil when both are
	// still to be read.
	bootRead *patch.BootState
	summary  report.Summary // this host's counts, taken before a journaled result is compacted
	// rebootAt is when bootBefore was read; resumeFrom is the last
	// checkpoint of an earlier run this host continues from, if any.
	rebootAt time.Time
	// rebootIssued is when this run last issued the host's reboot command
	// (monotonic clock); zero when it did not (a resumed wait).
	rebootIssued time.Time
	resumeFrom   *Checkpoint

	lease *hostLease // the host's lease while this run holds it (runner/lease.go)
	// bootRenewed: the boot id read that found the new boot renewed the
	// lease too (renewAfterBoot).
	bootRenewed bool
	// renewWithReboot: the lease renewal before the reboot goes with the
	// reboot command (renewBeforeReboot).
	renewWithReboot bool
	// dialledAt is when t was opened ahead of the host's batch (predial);
	// zero otherwise.
	dialledAt time.Time
	// batchDone, set by the host's reboot batch, tells the batch the host
	// is done (its result final); called once, by end (or when the batch's
	// goroutine for the host returns).
	batchDone func()
	// batchBack, set by the host's reboot batch, tells it the host is back
	// from its reboot (or done): the next batch's connections may open.
	batchBack func()

	// packages are the host's installed packages, read once for the
	// Enricher (enrich.go); enriched says the first scan was enriched.
	packages []patch.Package
	enriched bool

	capture stepCapture // the remote commands of the step in progress
	// failedStep is the output of the last step if it failed; the host's
	// failure adds it to the result (a later step clears it).
	failedStep *report.StepOutput
}

func newHostRun(r *run, h inventory.Host) *hostRun {
	hr := &hostRun{
		r:    r,
		host: h,
		res: report.HostResult{
			Name:      h.Name,
			Address:   h.Address,
			Transport: h.Transport,
		},
		installed: map[string]bool{},
		byKey:     map[string]int{},
	}
	hr.phase.Store(report.PhasePending)
	return hr
}

func (h *hostRun) currentPhase() report.Phase { return h.phase.Load().(report.Phase) }

// enter moves the host to phase p and says so.
func (h *hostRun) enter(p report.Phase) {
	if h.currentPhase() == p {
		return
	}
	h.phase.Store(p)
	h.r.ev.emit(Event{Kind: EventPhase, Host: h.host.Name, Phase: p, Batch: h.res.RebootBatch})
	h.journalCheckpoint()
}

// logf emits a -v detail line for this host.
func (h *hostRun) logf(err error, format string, args ...any) {
	h.logOutput(err, "", format, args...)
}

// logOutput is logf with a bounded tail of remote output attached.
func (h *hostRun) logOutput(err error, output, format string, args ...any) {
	h.r.ev.emit(Event{Kind: EventLog, Host: h.host.Name, Phase: h.currentPhase(),
		Detail: fmt.Sprintf(format, args...), Err: err, Output: output})
}

// errStepTimeout marks a step that ran past its own deadline (not the run's).
var errStepTimeout = errors.New("timed out")

// step runs fn bounded by timeout, logs its name and duration, and turns its
// own deadline into errStepTimeout so failures read "timed out after 30m0s".
// If it fails, the output of the command that explains it is kept for the
// host's failure and, unless that command's own event showed it, logged.
func (h *hostRun) step(ctx context.Context, name string, timeout time.Duration, fn func(context.Context) error) error {
	h.capture.begin(false)
	took, err := h.timedStep(ctx, timeout, fn)
	h.failedStep = nil
	output := ""
	if err != nil {
		if out, shown, ok := h.capture.failure(); ok {
			out.Step = name
			h.failedStep = &out
			if !shown {
				output = out.Output
			}
		}
	}
	h.logOutput(err, output, "%s (%s)", name, took)
	return err
}

// installStep is step for an install round: the round's output (the
// backend's excerpt, else the install command's tail) goes into its event
// and into the host's result whether it succeeded or not. backendOutput is
// read after fn returns.
func (h *hostRun) installStep(ctx context.Context, name string, timeout time.Duration, backendOutput *string, fn func(context.Context) error) error {
	h.capture.begin(true)
	took, err := h.timedStep(ctx, timeout, fn)
	h.failedStep = nil // the round's entry below is the failure's explanation
	output := ""
	if out, ok := h.capture.installOutput(err != nil, *backendOutput); ok {
		out.Step = name
		h.keepOutput(out)
		output = out.Output
	}
	h.logOutput(err, output, "%s (%s)", name, took)
	return err
}

// timedStep runs fn under its own timeout and reports how long it took.
func (h *hostRun) timedStep(ctx context.Context, timeout time.Duration, fn func(context.Context) error) (time.Duration, error) {
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := h.r.deps.Now()
	stopKeeping := h.keepLease()
	err := fn(sctx)
	stopKeeping()
	if err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w after %s: %w", errStepTimeout, timeout, err)
	}
	return h.r.deps.Now().Sub(start).Round(time.Millisecond), err
}

// dial opens a transport bounded by timeout and wraps it so every remote
// command is logged.
func (h *hostRun) dial(ctx context.Context, timeout time.Duration) (transport.Transport, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t, err := h.r.deps.Dialer.Dial(dctx, h.host)
	if err != nil {
		if ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) && transport.Kind(err) == "" {
			err = fmt.Errorf("%w: no answer within %s: %w", transport.ErrUnreachable, timeout, err)
		}
		return nil, err
	}
	return &loggedTransport{Transport: t, h: h}, nil
}

// closeTransport drops the host's connection, if any, and the lease's
// hold on it: a host waiting for its batch must not keep a closed client's
// buffers reachable (the lease is given a connection at each use).
func (h *hostRun) closeTransport() {
	if h.t != nil {
		_ = h.t.Close()
		h.t = nil
	}
	if hl := h.lease; hl != nil {
		hl.mu.Lock()
		hl.l.SetTransport(nil)
		hl.mu.Unlock()
	}
}

// end records the host's final status. It is called exactly once per host.
//
// The result is made durable (journal) before the lease is released and
// the connection closed, and the host's end is emitted last, so no event
// of the host follows its host.done. A host in a reboot batch counts as
// done for its batch as soon as its result is recorded: the next
// batch may start while it releases its lease, provided that connection
// takes one of the run's --forks slots for overlapping connections (see
// tail); otherwise it releases first, as any other host does.
func (h *hostRun) end(status report.Status, msg, kind string, cause error) {
	if h.ended {
		return
	}
	h.ended = true
	h.res.Status = status
	h.res.Error = msg
	h.res.ErrorKind = kind
	h.res.FinishedAt = h.r.deps.Now()
	if h.res.StartedAt.IsZero() {
		h.res.StartedAt = h.res.FinishedAt
	}
	ev := Event{Kind: EventHostEnd, Host: h.host.Name, Phase: report.PhaseDone, Status: status, Batch: h.res.RebootBatch}
	if status == report.StatusFailed || status == report.StatusUnreachable {
		if h.failedStep != nil {
			h.keepOutput(*h.failedStep)
			h.failedStep = nil
		}
		if cause == nil {
			cause = errors.New(msg)
		}
		ev.Err = &hostError{msg: msg, cause: cause}
	} else {
		ev.Detail = msg
		if msg == "" {
			ev.Detail = h.okDetail()
		}
	}
	h.journalResult() // durable (or its failure logged) before the host counts as done
	if h.tail() {
		defer h.r.giveExtraDial()
	}
	h.releaseLease(status)
	h.closeTransport()
	h.doneForBatch()
	h.r.ev.emit(ev)
}

// tail lets the host's batch go on without it when what is left of the
// host (releasing its lease, closing its connection) holds a connection
// and one of the run's extraDials slots is free: the host takes the slot
// (the caller gives it back) and counts as done for its batch now. It reports whether
// it took a slot. After tail, only the lease, the connection and the end
// event are touched: the result is final.
func (h *hostRun) tail() bool {
	if h.batchDone == nil || h.t == nil || !h.r.takeExtraDial() {
		return false
	}
	h.doneForBatch()
	return true
}

// backForBatch tells the host's reboot batch, if any, that the host is
// back from its reboot.
func (h *hostRun) backForBatch() {
	if back := h.batchBack; back != nil {
		h.batchBack = nil
		back()
	}
}

// doneForBatch tells the host's reboot batch, if any, that the host is done.
func (h *hostRun) doneForBatch() {
	h.backForBatch()
	if done := h.batchDone; done != nil {
		h.batchDone = nil
		done()
	}
}

// hostError carries the result's Error text while keeping the cause for
// errors.Is (an observer may want transport.ErrAuth).
type hostError struct {
	msg   string
	cause error
}

func (e *hostError) Error() string { return e.msg }
func (e *hostError) Unwrap() error { return e.cause }

func (h *hostRun) ok()                { h.end(report.StatusOK, "", "", nil) }
func (h *hostRun) skip(reason string) { h.end(report.StatusSkipped, reason, "", nil) }

// okDetail is a one-line summary for an ok host's end event.
func (h *hostRun) okDetail() string {
	switch {
	case h.r.cfg.Command == report.CmdExec:
		return "exit code 0"
	case h.r.cfg.Command == report.CmdFacts:
		return "facts read"
	case h.r.cfg.Command == report.CmdReboot && h.res.Rebooted:
		return "rebooted"
	case h.r.cfg.Command == report.CmdReboot && h.res.WouldReboot:
		return "would reboot"
	case h.r.cfg.Command == report.CmdReboot:
		return "no reboot required"
	case h.r.cfg.DryRun:
		d := fmt.Sprintf("%d updates pending, %d would be installed", len(h.res.Updates), len(h.res.WouldInstall))
		if h.res.WouldReboot {
			d += ", would reboot"
		}
		return d
	}
	n := 0
	for _, u := range h.res.Updates {
		if u.Installed {
			n++
		}
	}
	d := fmt.Sprintf("%d updates pending, %d installed", len(h.res.Updates), n)
	if h.res.Rebooted {
		d += ", rebooted"
	} else if h.res.RebootRequired {
		d += ", reboot required"
	}
	return d
}

// fail ends the host failed because err happened while doing what.
func (h *hostRun) fail(ctx context.Context, what string, err error) {
	phase := h.currentPhase()
	h.res.Phase = phase
	if ctx.Err() != nil {
		msg := "interrupted during " + string(phase)
		if phase == report.PhaseInstalling {
			msg += ": host may be half-patched"
			if h.be != nil && h.be.RecoveryHint() != "" {
				msg += ": " + h.be.RecoveryHint()
			}
		}
		h.end(report.StatusFailed, msg, "interrupted", err)
		return
	}
	h.end(report.StatusFailed, fmt.Sprintf("%s: %v", what, err), errorKind(err), err)
}

// failWith ends the host failed with a message and kind of our own.
func (h *hostRun) failWith(kind, msg string) {
	h.res.Phase = h.currentPhase()
	h.end(report.StatusFailed, msg, kind, nil)
}

// errorKind names err for report.HostResult.ErrorKind.
func errorKind(err error) string {
	if errors.Is(err, errStepTimeout) {
		return "timeout"
	}
	if k := transport.Kind(err); k != "" {
		return k
	}
	switch {
	case errors.Is(err, patch.ErrUnsupported):
		return "unsupported"
	case errors.Is(err, patch.ErrCommandFailed):
		return "command-failed"
	}
	return ""
}

// result is the host's final result, shaped for the report.
func (h *hostRun) result() report.HostResult {
	res := h.res
	if res.Updates == nil {
		res.Updates = []report.Update{}
	}
	return res
}

// recoverPanic turns a panic in a backend or transport into this host's
// failure: one broken library call must not kill the process while other
// hosts are in the middle of installing.
func (h *hostRun) recoverPanic() {
	p := recover()
	if p == nil {
		return
	}
	phase := h.currentPhase()
	h.logf(fmt.Errorf("panic: %v", p), "%s", debug.Stack())
	h.res.Phase = phase
	h.end(report.StatusFailed, fmt.Sprintf("internal error during %s: %v", phase, p), "internal", nil)
}
