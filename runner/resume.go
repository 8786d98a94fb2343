package runner

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// ResumeState is what an earlier, interrupted run of the same plan left
// behind (read back from its journal). Run continues it: hosts that ended
// are not contacted again but count in the summary and the failure budget;
// every other host continues from its last checkpoint; reboot batches are
// numbered on from the earlier run's.
type ResumeState struct {
	// Hosts holds, by name, what the earlier run knew of each host. A host
	// of the plan that is missing here had not started: it runs normally.
	Hosts map[string]ResumedHost
	// Batches is the number of reboot batches the earlier run started; the
	// resumed run's first batch is number Batches+1, and a batch ramp
	// (1,10%,25%) goes on where it stopped.
	Batches int
}

// ResumedHost is one host's state in an earlier run.
type ResumedHost struct {
	// Checkpoint is the host's last checkpoint; the zero value means none.
	Checkpoint Checkpoint
	// Ended is the host's final result, if it ended; it is kept as it is
	// (its full result lives in the earlier run's journal).
	Ended *report.HostResult
	// Skip, when not empty, ends the host skipped with this reason without
	// contacting it (a host no longer in the inventory).
	Skip string
}

// Ended counts the hosts that ended in the earlier run and stay as they
// ended: the resumed run has len(Plan.Hosts) minus this many hosts to do.
func (rs *ResumeState) Ended() int {
	if rs == nil {
		return 0
	}
	n := 0
	for _, h := range rs.Hosts {
		if h.Ended != nil && h.Skip == "" {
			n++
		}
	}
	return n
}

// EndedForGood reports whether a host that ended in an earlier run stays
// as it ended when that run is resumed. A host that ended only because the
// run was interrupted (skipped before it started, or stopped half way) has
// work left: the resumed run continues it from its last checkpoint.
func EndedForGood(res report.HostResult) bool {
	if res.ErrorKind == "interrupted" {
		return false
	}
	return !(res.Status == report.StatusSkipped && strings.HasPrefix(res.Error, "interrupted"))
}

// resumeRebootGrace: a host whose reboot command may have been issued just
// before the earlier run died (its old boot id still runs) gets this long,
// counted from the boot id read before that command, to go down on its own
// before it is rebooted again. Backends schedule reboots seconds ahead
// (shutdown /t 5, systemd-run --on-active=5), so a minute covers them:
// rebooting sooner could reboot the host twice.
const resumeRebootGrace = time.Minute

// applyResume sets up the hosts of a resumed run: ended hosts keep their
// results, removed ones end skipped, the rest remember where they stopped.
func (r *run) applyResume() {
	rs := r.cfg.Resume
	if rs == nil {
		return
	}
	for _, h := range r.hosts {
		st, ok := rs.Hosts[h.host.Name]
		switch {
		case !ok:
		case st.Skip != "":
			h.skip(st.Skip)
		case st.Ended != nil:
			h.res = *st.Ended
			h.summary = report.Summarize([]report.HostResult{h.res})
			if r.deps.Journal != nil {
				h.res = compact(h.res) // its full result is in the journal already
			}
			h.ended = true
		case st.Checkpoint.Phase != "" && st.Checkpoint.Phase != report.PhasePending:
			cp := st.Checkpoint
			h.resumeFrom = &cp
			h.restore(cp)
		}
	}
}

// restore carries a checkpoint's history into the host's result: installed
// updates stay installed (and count as installed for the update-loop
// check), rounds and reboots go on counting.
func (h *hostRun) restore(cp Checkpoint) {
	h.res.Rounds = cp.Round
	h.res.RebootBatch = cp.Batch
	h.reboots = cp.Reboots
	h.res.Rebooted = cp.Reboots > 0
	h.res.BootIDBefore = cp.BootIDBefore
	h.selected = cp.Selected
	for _, u := range cp.Installed {
		u.Installed = true
		h.addUpdate(u)
		h.installed[updateKey(u)] = true
	}
	h.markSelected(cp.Selected)
}

// startHost is a pool worker's job for one host: the per-host phases, or,
// for a host an earlier run left half way, their continuation.
func (r *run) startHost(ctx context.Context, h *hostRun) {
	if h.resumeFrom == nil {
		r.hostPhases(ctx, h)
		return
	}
	cp := *h.resumeFrom
	h.logf(nil, "resuming from %s (round %d, batch %d, %d reboots)", cp.Phase, cp.Round, cp.Batch, cp.Reboots)
	switch {
	case cp.BootIDBefore != "" && rebootPhase(cp.Phase):
		h.res.StartedAt = r.deps.Now()
		h.resumeReboot(ctx, cp)
	case cp.Phase == report.PhaseAwaitBatch || cp.Phase == report.PhaseRebooting:
		// Waiting for its batch, or picked for one but the reboot command
		// not yet sent: it still needs that reboot.
		h.res.StartedAt = r.deps.Now()
		if h.connect(ctx) && h.takeLease(ctx) && h.checkpoint(ctx, report.PhaseFacts) && h.gatherFacts(ctx) {
			h.awaitBatch()
		}
	case cp.Reboots > 0:
		// Between rounds, after a verified reboot: rescan and go on as
		// after that reboot (the update-loop check included).
		h.res.StartedAt = r.deps.Now()
		if h.connect(ctx) && h.takeLease(ctx) && h.checkpoint(ctx, report.PhaseFacts) && h.gatherFacts(ctx) &&
			h.verify(ctx) && h.afterVerifiedReboot(ctx) {
			h.awaitBatch()
		}
	default:
		h.resumeInstall(ctx, cp)
	}
}

// resumeInstall continues a host the earlier run left before its reboot:
// still scanning, or with an install round in flight.
//
// An install whose detached job the journal names (the link to it was lost
// before the controller died) is re-attached to: the same job is followed
// to its end, never a second transaction beside it (installDetached). Any
// other install either died with its connection or ran to its end unseen;
// the host is started over: the rescan shows what is still pending and
// only that is installed, so nothing is installed twice blindly.
func (h *hostRun) resumeInstall(ctx context.Context, cp Checkpoint) {
	if cp.Job == "" || cp.Phase != report.PhaseInstalling {
		h.r.hostPhases(ctx, h)
		return
	}
	h.res.StartedAt = h.r.deps.Now()
	if !h.connect(ctx) || !h.takeLease(ctx) || !h.checkpoint(ctx, report.PhaseFacts) || !h.gatherFacts(ctx) {
		return
	}
	var toInstall []patch.Update
	for _, u := range cp.Selected {
		if !h.installed[updateKey(u)] {
			toInstall = append(toInstall, u)
		}
	}
	h.job = cp.Job
	if !h.checkpoint(ctx, report.PhaseInstalling) || !h.install(ctx, toInstall) {
		return
	}
	if h.needsReboot() {
		h.awaitBatch()
		return
	}
	h.finishPatched(ctx)
}

func rebootPhase(p report.Phase) bool {
	switch p {
	case report.PhaseRebooting, report.PhaseWaitingDown, report.PhaseWaitingUp, report.PhaseVerifying:
		return true
	}
	return false
}

// resumeReboot continues a host whose reboot command may have been sent by
// the earlier run (cp.BootIDBefore was read just before it). The boot id
// decides: a new one means it rebooted (or is rebooting), so it is waited
// for and verified like any reboot; the old one, still there after a grace
// period for a reboot scheduled a few seconds ahead, means it never
// rebooted, so it reboots in a batch like any other host. Either way it is
// rebooted once. A connection that dies while the boot id is read means
// the host is going down: it is waited for.
func (h *hostRun) resumeReboot(ctx context.Context, cp Checkpoint) {
	before := cp.BootIDBefore
	h.bootBefore, h.rebootAt = before, cp.RebootAt
	if !h.reachRebooting(ctx) {
		return
	}
	id, err := h.resumeBootID(ctx)
	// A host whose backend could not be detected because it went down
	// meanwhile cannot be polled for its boot id: reach it again first.
	for h.be == nil && err != nil && ctx.Err() == nil && transport.Kind(err) != "" {
		h.closeTransport()
		if !h.reachRebooting(ctx) {
			return
		}
		id, err = h.resumeBootID(ctx)
	}
	graceEnd := cp.RebootAt.Add(resumeRebootGrace)
	for err == nil && id == before && h.r.deps.Now().Before(graceEnd) {
		h.closeTransport()
		if !sleepCtx(ctx, h.r.rng.jitter(h.r.cfg.Timing.PollMax)) {
			break
		}
		var t transport.Transport
		if t, err = h.dial(ctx, h.r.cfg.Timing.ProbeTimeout); err == nil {
			h.t = t
			id, err = h.resumeBootID(ctx)
		}
	}
	switch {
	case ctx.Err() != nil:
		h.fail(ctx, "read boot id", ctx.Err())
		return
	case err != nil && transport.Kind(err) == "" && !errors.Is(err, errStepTimeout):
		h.fail(ctx, "read boot id", err) // not the host going down
		return
	case err == nil && id == before:
		h.logf(nil, "boot id %s unchanged: the earlier run's reboot never happened; rebooting in a batch", id)
		if h.takeLease(ctx) && h.gatherFacts(ctx) {
			h.awaitBatch()
		}
		return
	}
	h.closeTransport()
	h.logf(err, "the earlier run's reboot happened or is under way (boot id was %s): waiting for it and verifying", before)
	if h.waitBack(ctx, before, false) && h.takeLease(ctx) && h.gatherFacts(ctx) && h.verify(ctx) && h.afterVerifiedReboot(ctx) {
		h.awaitBatch()
	}
}

// resumeBootID picks the host's backend, if not yet done, and reads its
// boot id, bounded like a probe of a rebooting host.
func (h *hostRun) resumeBootID(ctx context.Context) (string, error) {
	step := min(h.r.cfg.StepTimeout, probeCommandFactor*h.r.cfg.Timing.ProbeTimeout)
	if h.be == nil {
		if err := h.detect(ctx, step); err != nil {
			return "", err
		}
	}
	return h.bootID(ctx, h.t, step)
}

// reachRebooting connects to a host that may be down in the middle of a
// reboot, redialling at the poll interval for up to the reboot timeout.
func (h *hostRun) reachRebooting(ctx context.Context) bool {
	h.enter(report.PhaseConnecting)
	timeout := h.rebootTimeout()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		t, err := h.dial(wctx, h.connectTimeout())
		if err == nil {
			h.t = t
			return true
		}
		if ctx.Err() != nil || errors.Is(err, transport.ErrHostKey) {
			h.fail(ctx, "connect", err)
			return false
		}
		if wctx.Err() == nil || last == nil {
			last = err
		}
		h.logf(err, "connect: no answer yet (it may be rebooting)")
		if !sleepCtx(wctx, h.r.rng.jitter(h.r.cfg.Timing.PollInterval)) {
			break
		}
	}
	if ctx.Err() != nil {
		h.fail(ctx, "connect", ctx.Err())
		return false
	}
	h.res.Phase = report.PhaseConnecting
	h.end(report.StatusUnreachable, "connect: no answer within "+timeout.String()+": "+last.Error(), "unreachable", last)
	return false
}
