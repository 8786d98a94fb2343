package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// rebootCycle is a batch goroutine's whole job for one host: reboot, wait for
// a new boot, verify, and for patch any further install rounds, until the
// host ends.
func (h *hostRun) rebootCycle(ctx context.Context, batch int) {
	h.res.RebootBatch = batch
	// The lease is renewed before the reboot (the host may have waited long
	// for its batch) and after it: if another run took it meanwhile, the
	// host fails "locked".
	for h.renewBeforeReboot(ctx) && h.rebootOnce(ctx) && h.renewAfterBoot(ctx) && h.verify(ctx) && h.afterVerifiedReboot(ctx) {
	}
}

// renewBeforeReboot renews the lease before the reboot. A host without a
// connection (it waited for its batch), or with one opened for its batch
// moments ago (predial), whose reboot command can check its boot
// (rebootIfBoot) and carry the renewal (lease.RenewFirst) is only dialled
// here, if at all: its reboot command renews the lease and runs only if
// the lease is still ours, and the fresh connection is as alive as a
// renewal would have proved it.
func (h *hostRun) renewBeforeReboot(ctx context.Context) bool {
	h.renewWithReboot = false
	fresh := h.t != nil && !h.dialledAt.IsZero() && time.Since(h.dialledAt) < freshConnection
	h.dialledAt = time.Time{}
	if _, rebooter := h.be.(patch.BootIDRebooter); (h.t != nil && !fresh) || !rebooter || h.lastBootID() == "" || h.lease == nil || !h.lease.l.Wraps() {
		return h.renewLease(ctx)
	}
	if h.t == nil {
		t, err := h.dial(ctx, h.connectTimeout())
		if err != nil {
			h.fail(ctx, "renew lock", fmt.Errorf("reconnect: %w", err))
			return false
		}
		h.t = t
	}
	h.renewWithReboot = true
	return true
}

// freshConnection: a connection opened ahead of its host's batch (predial)
// this recently counts as alive for the reboot command, as one just
// dialled does; an older one is renewed over first, which proves it (or
// redials).
const freshConnection = 5 * time.Second

// lastBootID is the boot id last seen on the host: the last reboot's new
// one, else the facts'.
func (h *hostRun) lastBootID() string {
	if h.res.BootIDAfter != "" {
		return h.res.BootIDAfter
	}
	return h.facts.BootID
}

// renewAfterBoot renews the lease once the host is back, unless the boot
// id read that found the new boot renewed it already (lease.RenewFirst):
// before anything else runs on the host, a lease another run took while it
// was down fails it "locked".
func (h *hostRun) renewAfterBoot(ctx context.Context) bool {
	if h.bootRenewed {
		h.bootRenewed = false
		return true
	}
	return h.renewLease(ctx)
}

// afterVerifiedReboot decides what a host does after a verified reboot: it
// ends, or (patch) installs another round and returns true when that round
// needs another reboot.
func (h *hostRun) afterVerifiedReboot(ctx context.Context) bool {
	if h.r.cfg.Command != report.CmdPatch {
		if h.res.RebootRequired {
			h.failWith("still-reboot-required", stillRequires(h.reboots))
			return false
		}
		if h.settle(ctx) {
			h.ok()
		}
		return false
	}
	return h.nextRound(ctx)
}

func stillRequires(reboots int) string {
	if reboots == 1 {
		return "still requires a reboot after 1 reboot"
	}
	return fmt.Sprintf("still requires a reboot after %d reboots", reboots)
}

// rebootOnce records the boot id, issues the reboot and waits until the host
// is back with a new boot id and ready. It returns false when the host ended.
func (h *hostRun) rebootOnce(ctx context.Context) bool {
	h.bootBefore = "" // until read below: a checkpoint with the last reboot's id would mislead a resume
	h.enter(report.PhaseRebooting)
	h.rebootIssued = time.Time{}
	before, err, issued := h.rebootIfBoot(ctx)
	if h.ended { // the reboot command found the lease lost: nothing scheduled
		return false
	}
	if !issued {
		before, err = h.bootIDBeforeReboot(ctx)
		if err != nil {
			h.fail(ctx, "read boot id before reboot", err)
			return false
		}
		h.setBootBefore(before)
		h.journalCheckpoint() // durable before the reboot command: a resume compares boot ids
		h.rebootIssued = time.Now()
		err = h.step(ctx, "reboot", min(h.r.cfg.StepTimeout, h.rebootTimeout()), func(c context.Context) error {
			return h.be.Reboot(c, h.t)
		})
	}
	// A lost connection or a reboot command that hung mean the reboot may be
	// under way; the boot id decides. Anything else means it never started.
	if err != nil && ctx.Err() != nil {
		// Aborted while the reboot command ran: it may have been issued.
		h.abortScheduledReboot(ctx, before)
		return false
	}
	if err != nil && !(errors.Is(err, transport.ErrConnLost) || errors.Is(err, errStepTimeout)) {
		h.fail(ctx, "reboot", err)
		return false
	}
	// The reboot command answered: its connection lives until the old boot
	// ends, and waitBack watches it die.
	watch := err == nil
	if !watch {
		h.closeTransport()
	}
	return h.waitBack(ctx, before, watch)
}

func (h *hostRun) setBootBefore(before string) {
	if h.res.BootIDBefore == "" {
		h.res.BootIDBefore = before
	}
	h.bootBefore, h.rebootAt = before, h.r.deps.Now()
}

// rebootIfBoot spares the boot id read before a reboot when the backend
// can check the boot in the reboot command itself (patch.BootIDRebooter):
// the id last seen (facts, or the last reboot's new boot) is made durable
// and the reboot issued on condition that the host still runs that boot.
// Only where the lease was just renewed over the host's connection, or the
// connection was just dialled and the command renews the lease
// (renewBeforeReboot): either proved the connection alive, so a connection
// lost now means the reboot is under way, as after a boot id read. issued
// false means it did not try, or the boot had changed and nothing was
// scheduled (the lease renewed all the same): the caller reads the id and
// reboots the usual way. A lease found lost fails the host "locked" with
// nothing scheduled (issued true, err the refusal).
func (h *hostRun) rebootIfBoot(ctx context.Context) (before string, err error, issued bool) {
	br, ok := h.be.(patch.BootIDRebooter)
	known := h.lastBootID()
	if !ok || known == "" || h.t == nil || h.lease == nil {
		return "", nil, false
	}
	t, rf := h.t, (*lease.RenewFirst)(nil)
	if h.renewWithReboot {
		h.renewWithReboot = false
		t, rf = h.renewingFirst(h.t)
	}
	first := h.res.BootIDBefore
	h.setBootBefore(known)
	h.journalCheckpoint() // durable before the reboot command: a resume compares boot ids
	h.rebootIssued = time.Now()
	err = h.step(ctx, "reboot", min(h.r.cfg.StepTimeout, h.rebootTimeout()), func(c context.Context) error {
		return br.RebootIfBoot(c, t, known)
	})
	if rf != nil && rf.Renewal != nil && !h.renewed(*rf.Renewal) {
		return known, err, true
	}
	if err != nil && ctx.Err() == nil && errors.Is(err, patch.ErrBootChanged) {
		h.logf(err, "the host runs another boot than last seen; reading its boot id")
		h.bootBefore, h.res.BootIDBefore = "", first
		return "", nil, false
	}
	return known, err, true
}

// bootIDBeforeReboot reads the boot id over the host's open transport; the
// connection may have died while the host waited for its batch, so it
// redials if needed.
func (h *hostRun) bootIDBeforeReboot(ctx context.Context) (string, error) {
	var id string
	err := h.withRedial(ctx, func(t transport.Transport) error {
		var err error
		id, err = h.bootID(ctx, t, h.r.cfg.StepTimeout)
		return err
	})
	return id, err
}

// withRedial runs fn over the host's transport; if there is none, or fn
// fails because the connection was lost, it dials again (once) and retries.
// For read-only steps only: the retry must be harmless.
func (h *hostRun) withRedial(ctx context.Context, fn func(transport.Transport) error) error {
	if h.t != nil {
		err := fn(h.t)
		if err == nil || ctx.Err() != nil || !errors.Is(err, transport.ErrConnLost) {
			return err
		}
		h.logf(err, "connection lost; redialling")
		h.closeTransport()
	}
	t, err := h.dial(ctx, h.connectTimeout())
	if err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}
	h.t = t
	return fn(t)
}

// errEmptyBootID: a reboot cannot be confirmed against an empty identity.
var errEmptyBootID = errors.New("backend returned an empty boot id")

func (h *hostRun) bootID(ctx context.Context, t transport.Transport, timeout time.Duration) (string, error) {
	var id string
	err := h.step(ctx, "boot id", timeout, func(c context.Context) error {
		var err error
		id, err = h.be.BootID(c, t)
		if err == nil && id == "" {
			err = errEmptyBootID
		}
		return err
	})
	return id, err
}

// bootState reads the boot id over t and, when the backend can do so in the
// same command (patch.BootStater), the pending-reboot signals and, for
// patch on a boot other than before if scan, the rescan verify needs.
func (h *hostRun) bootState(ctx context.Context, t transport.Transport, before string, scan bool, timeout time.Duration) (patch.BootState, error) {
	bs, ok := h.be.(patch.BootStater)
	if !ok {
		id, err := h.bootID(ctx, t, timeout)
		return patch.BootState{ID: id}, err
	}
	q := patch.BootQuery{Scan: scan && h.r.cfg.Command == report.CmdPatch, Before: before}
	var st patch.BootState
	err := h.step(ctx, "boot id", timeout, func(c context.Context) error {
		var err error
		st, err = bs.BootState(c, t, q)
		if err == nil && st.ID == "" {
			err = errEmptyBootID
		}
		return err
	})
	return st, err
}

// connectTimeout bounds one dial to this host: its own connect timeout
// wins over the run's.
func (h *hostRun) connectTimeout() time.Duration {
	return h.host.DialTimeout(h.r.cfg.ConnectTimeout)
}

func (h *hostRun) rebootTimeout() time.Duration {
	if h.host.RebootTimeout > 0 {
		return h.host.RebootTimeout
	}
	return h.r.cfg.RebootTimeout
}

// probeCommandFactor: a boot id read while polling gets this many probe
// timeouts (the first PowerShell after a Windows boot is slow to start).
const probeCommandFactor = 6

// Polling limits while a host reboots. Documented in docs/reboot.md.
const (
	// watchReadTimeout bounds one boot id read over the connection that
	// issued the reboot: no answer within it counts as the old boot's end.
	watchReadTimeout = 2 * time.Second
	// longAbsence: once a host has not answered for this long, attempts
	// back off (the interval doubles up to PollMax): a slow boot is no
	// longer hurried.
	longAbsence = time.Minute
	// maxDialsInFlight caps the overlapping connection attempts to one
	// host. Each gets the full ProbeTimeout (a handshake over a slow link
	// needs it); with one started every 250–500 ms, 16 leave room for 4 s.
	maxDialsInFlight = 16
)

// waitBack polls until the host answers with a boot id other than before and
// passes the readiness probe, all within the reboot timeout. On success the
// host's transport is the new connection. watch says the host's transport
// is the connection that issued the reboot, still open: its death is the
// first sign that the old boot ended.
//
// A changed host key fails the host at once (never retried, never
// accepted). Rejected credentials are retried until the deadline: right
// after a boot sshd may answer before sssd/LDAP or an automounted home is
// up, and WinRM before the domain logon works; if they are still rejected
// at the deadline the host fails with ErrorKind "auth".
func (h *hostRun) waitBack(ctx context.Context, before string, watch bool) bool {
	timeout := h.rebootTimeout()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tm := h.r.cfg.Timing
	h.enter(report.PhaseWaitingDown)
	last := "no answer"
	var authErr error // set while the host answers but rejects our credentials
	newBoot := false
	// scanInRead: the boot id read carries the rescan, until one such read
	// fails: a scan slower than the read's bound, or an answer too large,
	// must not pass for a host that is not back. verify then rescans alone.
	scanInRead := true
	if watch {
		h.watchOldBoot(wctx, before)
	}
	h.closeTransport()
	delay := tm.PollInterval
	var downSince, logged time.Time
	down := func(err error) {
		authErr = nil
		delay = tm.PollInterval
		if wctx.Err() == nil {
			last = "last error: " + err.Error()
		}
		// Attempts fail several times a second while a host is down: log
		// one per PollMax, so the event stream does not fill with them.
		if now := time.Now(); now.Sub(logged) >= tm.PollMax {
			logged = now
			h.logf(err, "probe: no connection")
		}
		if !newBoot {
			h.enter(report.PhaseWaitingUp) // it went down; now wait for it to come up
		}
	}
	// The first attempt goes at once; a pause comes only after the host
	// answered (still the old boot, not ready, credentials refused).
	for first := true; first || sleepCtx(wctx, h.r.rng.jitter(delay)); first = false {
		t, err := h.reach(wctx, &downSince, down)
		answered := time.Now()
		if err != nil {
			if wctx.Err() != nil {
				break
			}
			if errors.Is(err, transport.ErrHostKey) && ctx.Err() == nil {
				h.fail(ctx, "reconnect after reboot", err)
				return false
			}
			last = "last error: " + err.Error()
			delay = nextPollDelay(delay, err, tm)
			if errors.Is(err, transport.ErrAuth) {
				authErr = err
				h.logf(err, "probe: credentials rejected; services may still be starting")
			}
			continue
		}
		authErr = nil
		// A host half way through booting may accept a connection and then
		// stall: one probe must not eat the whole reboot timeout. The read
		// renews the lease where it can, in the same round trip.
		bt, rf := h.renewingFirst(t)
		st, err := h.bootState(wctx, bt, before, scanInRead, min(h.r.cfg.StepTimeout, probeCommandFactor*tm.ProbeTimeout))
		id := st.ID
		h.bootRenewed = rf != nil && rf.Renewal != nil
		if h.bootRenewed && rf.Renewal.Status != lease.Renewed {
			h.t = t
			h.noteBootAfterLostLease(wctx, before)
		}
		if h.bootRenewed && !h.renewed(*rf.Renewal) {
			return false
		}
		if err != nil {
			_ = t.Close()
			if scanInRead && !cutOff(wctx, err) {
				scanInRead = false
				h.logf(err, "the boot id read with the rescan failed; reading the boot id alone from now on")
			}
			last = "last error: reading boot id: " + err.Error()
			if cutOff(wctx, err) {
				last = "the boot id read had not finished"
			}
			continue
		}
		if id == before {
			_ = t.Close()
			last = "boot id never changed (still " + id + ")"
			delay = nextPollDelay(delay, nil, tm)
			h.enter(report.PhaseWaitingDown)
			continue
		}
		if !newBoot && !h.rebootIssued.IsZero() {
			h.r.backAfter.Store(int64(answered.Sub(h.rebootIssued)))
		}
		newBoot = true
		h.enter(report.PhaseWaitingUp)
		err = h.step(wctx, "readiness probe", h.r.cfg.StepTimeout, func(c context.Context) error {
			return h.be.Ready(c, t)
		})
		if err != nil {
			_ = t.Close()
			last = "last error: readiness probe: " + err.Error()
			if cutOff(wctx, err) {
				last = "the readiness probe had not finished"
			}
			continue
		}
		h.t = t
		h.bootRead = nil
		if st.Signals || st.Scanned {
			h.bootRead = &st
		}
		h.res.BootIDAfter = id
		h.res.Rebooted = true
		h.reboots++
		h.backForBatch()
		return true
	}
	if ctx.Err() != nil {
		if !newBoot {
			h.abortScheduledReboot(ctx, before)
			return false
		}
		h.fail(ctx, "wait for reboot", ctx.Err())
		return false
	}
	if authErr != nil {
		h.res.Phase = h.currentPhase()
		h.end(report.StatusFailed, fmt.Sprintf("host came back but rejected our credentials within %s: %s", timeout, last), "auth", authErr)
		return false
	}
	what := "host did not come back"
	if newBoot {
		what = "host came back but was not ready"
	}
	h.failWith("reboot-timeout", fmt.Sprintf("%s within %s: %s", what, timeout, last))
	return false
}

// noteBootAfterLostLease records, for the report, whether a host whose
// lease another run took while it rebooted did reboot: the boot id read
// that found the lease lost did not run, and reading it changes nothing.
func (h *hostRun) noteBootAfterLostLease(ctx context.Context, before string) {
	if h.t == nil {
		return
	}
	if id, err := h.bootID(ctx, h.t, min(h.r.cfg.StepTimeout, probeCommandFactor*h.r.cfg.Timing.ProbeTimeout)); err == nil && id != before {
		h.res.BootIDAfter, h.res.Rebooted = id, true
	}
}

// watchOldBoot follows the connection that issued the reboot until the old
// boot ends: it reads the boot id over it (no new handshake), pausing
// PollInterval doubling to PollMax (jittered) between reads, until a read
// fails: the connection died with the host's processes, or nothing answered
// within watchReadTimeout. It then closes the connection.
func (h *hostRun) watchOldBoot(ctx context.Context, before string) {
	defer h.closeTransport()
	tm := h.r.cfg.Timing
	for delay := tm.PollInterval; sleepCtx(ctx, h.r.rng.jitter(delay)); delay = min(2*delay, tm.PollMax) {
		id, err := h.bootID(ctx, h.t, min(h.r.cfg.StepTimeout, tm.ProbeTimeout, watchReadTimeout))
		if err != nil {
			h.logf(err, "the connection that issued the reboot ended: the host is going down")
			return
		}
		if id != before {
			return // not on one connection; the poll will see it
		}
	}
}

// reach connects to a host that is, or may be, down. It starts an attempt
// at once and then, while attempts fail because nothing answers, another
// every PollInterval (jittered) without waiting for the earlier ones to time
// out, at most maxDialsInFlight at a time: the host's return is seen within
// one interval, whatever the timeout of one attempt. Each such failure goes
// to down. It returns the first connection, or the first error that says
// the host answered (rejected credentials, a changed host key), or ctx's
// error. Each attempt gets ProbeTimeout. *downSince is when the host was
// first found down (zero: not yet); past longAbsence attempts back off.
//
// When a new attempt is due and there is no room for it (16 in flight, or
// no free slot, below), the oldest one in flight for over two intervals
// gives its place to it: on a link that drops packets an attempt that had
// no answer by then only sees the host's return at its next SYN
// retransmission, a second or more later, where a new SYN sees it at once.
// Near the moment the host is expected back (quickWindow) the interval is
// a fifth of PollInterval and the oldest attempt gives way after one
// PollInterval.
//
// Every attempt in flight holds a socket. The host's first one is its own
// connection; each overlapping one takes one of the run's extraDials (Forks
// of them, shared by the batch), or is not started: however slow the hosts
// are to answer, a batch holds at most --forks plus its hosts' descriptors.
func (h *hostRun) reach(ctx context.Context, downSince *time.Time, down func(error)) (transport.Transport, error) {
	tm := h.r.cfg.Timing
	actx, cancel := context.WithCancel(ctx)
	type outcome struct {
		id    int
		t     transport.Transport
		err   error
		extra bool // the attempt held one of the run's extraDials
	}
	results := make(chan outcome)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	inFlight := map[int]dialAttempt{}
	abandoned := map[int]time.Duration{} // cancelled to make room, after how long
	ids := 0
	own := false // the host's own attempt is in flight
	interval := tm.PollInterval
	quickFrom, quickTo := h.quickWindow()
	start := func(extra bool) {
		ids++
		id := ids
		dctx, dcancel := context.WithCancel(actx)
		inFlight[id] = dialAttempt{started: time.Now(), cancel: dcancel}
		own = true
		wg.Go(func() {
			defer dcancel()
			if extra {
				defer h.r.giveExtraDial()
			}
			t, err := h.dial(dctx, tm.ProbeTimeout)
			select {
			case results <- outcome{id, t, err, extra}:
			case <-actx.Done():
				if t != nil {
					_ = t.Close()
				}
			}
		})
	}
	next := time.NewTimer(0)
	defer next.Stop()
	for {
		select {
		case <-next.C:
			now := time.Now()
			quick := !now.Before(quickFrom) && now.Before(quickTo)
			stale := 2 * interval
			if quick {
				stale = tm.PollInterval
			}
			if extra := own; len(inFlight) < maxDialsInFlight && (!extra || h.r.takeExtraDial()) {
				start(extra)
			} else {
				abandonOldest(inFlight, abandoned, now.Add(-stale))
			}
			if !downSince.IsZero() && time.Since(*downSince) >= longAbsence {
				interval = min(2*interval, tm.PollMax)
			}
			wait := h.r.rng.jitter(interval)
			if quick {
				wait = h.r.rng.jitter(tm.PollInterval / quickPollDivisor)
			} else if now.Before(quickFrom) {
				wait = min(wait, quickFrom.Sub(now))
			}
			next.Reset(wait)
		case o := <-results:
			delete(inFlight, o.id)
			own = own && o.extra
			if since, ok := abandoned[o.id]; ok && o.err != nil && !transport.Permanent(o.err) {
				delete(abandoned, o.id)
				o.err = fmt.Errorf("%w: no answer within %s", transport.ErrUnreachable, since.Round(time.Millisecond))
				next.Reset(0) // its place is free: the attempt that wanted it goes now
			}
			delete(abandoned, o.id)
			if o.err == nil || transport.Permanent(o.err) {
				return o.t, o.err
			}
			if downSince.IsZero() {
				*downSince = time.Now()
			}
			down(o.err)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// quickPollDivisor: near a host's expected return, attempts start every
// PollInterval/quickPollDivisor (jittered).
const quickPollDivisor = 5

// quickWindow is when reach polls quickly: from one PollInterval before
// the host is expected back until four after, where "expected" is its
// reboot command plus the time the last host to come back in this run
// took. Zero times (an empty window) when nothing is known yet.
func (h *hostRun) quickWindow() (from, to time.Time) {
	back := time.Duration(h.r.backAfter.Load())
	if back <= 0 || h.rebootIssued.IsZero() {
		return time.Time{}, time.Time{}
	}
	expected := h.rebootIssued.Add(back)
	tm := h.r.cfg.Timing
	return expected.Add(-tm.PollInterval), expected.Add(4 * tm.PollInterval)
}

// dialAttempt is one connection attempt of reach in flight.
type dialAttempt struct {
	started time.Time
	cancel  context.CancelFunc
}

// abandonOldest cancels the oldest attempt in flight if it started before
// cutoff and is not being abandoned already, noting how long it had run:
// its place goes to a new one once it has returned.
func abandonOldest(inFlight map[int]dialAttempt, abandoned map[int]time.Duration, cutoff time.Time) {
	oldest := 0
	for id, a := range inFlight {
		if _, gone := abandoned[id]; !gone && a.started.Before(cutoff) && (oldest == 0 || a.started.Before(inFlight[oldest].started)) {
			oldest = id
		}
	}
	if oldest != 0 {
		abandoned[oldest] = time.Since(inFlight[oldest].started)
		inFlight[oldest].cancel()
	}
}

// takeExtraDial takes one of the run's slots for an overlapping connection
// attempt, if one is free.
func (r *run) takeExtraDial() bool {
	select {
	case r.extraDials <- struct{}{}:
		return true
	default:
		return false
	}
}

func (r *run) giveExtraDial() { <-r.extraDials }

// abortScheduledReboot ends a host whose reboot was issued but not yet seen
// to happen when the run was aborted: it cancels the reboot if it has not
// begun, so no host goes down with nobody watching, and reports what became
// of it. The run's context is dead, so this works under a fresh one, as
// short as one connect and one command.
func (h *hostRun) abortScheduledReboot(runCtx context.Context, before string) {
	phase := h.currentPhase()
	step := min(h.r.cfg.StepTimeout, probeCommandFactor*h.r.cfg.Timing.ProbeTimeout)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), h.connectTimeout()+2*step)
	defer cancel()
	outcome, what := h.cancelReboot(ctx, before, step)
	h.res.RebootCancel = outcome
	h.res.Phase = phase
	h.end(report.StatusFailed, fmt.Sprintf("interrupted during %s: %s", phase, what), "interrupted", runCtx.Err())
}

// cancelReboot reconnects, checks the host has not rebooted yet and asks
// the backend to cancel the reboot it scheduled.
func (h *hostRun) cancelReboot(ctx context.Context, before string, step time.Duration) (outcome, what string) {
	const mayStill = "the scheduled reboot may still happen: "
	h.closeTransport()
	t, err := h.dial(ctx, h.connectTimeout())
	if err != nil {
		return report.RebootMayStillHappen, mayStill + "reconnect to cancel it: " + err.Error()
	}
	h.t = t
	id, err := h.bootID(ctx, t, step)
	if err != nil {
		return report.RebootMayStillHappen, mayStill + "reading boot id to cancel it: " + err.Error()
	}
	if id != before {
		h.res.BootIDAfter, h.res.Rebooted = id, true
		return report.RebootAlreadyHappened, "the host had already rebooted (new boot id " + id + ")"
	}
	err = h.step(ctx, "cancel scheduled reboot", step, func(c context.Context) error {
		return h.be.CancelReboot(c, t)
	})
	switch {
	case err == nil:
		return report.RebootCancelled, "the scheduled reboot was cancelled"
	case errors.Is(err, patch.ErrRebootNotPending):
		return report.RebootMayStillHappen, mayStill + err.Error() + " (it may already be under way)"
	}
	return report.RebootMayStillHappen, mayStill + "cancel failed: " + err.Error()
}

// nextPollDelay is the wait before the next reboot probe. It backs off
// (doubling up to PollMax) while the host still answers, because each such
// probe is a full handshake and a command; once the host is down a probe is
// one failed connect, so it polls at PollInterval and notices the host's
// return within PollInterval rather than PollMax.
func nextPollDelay(delay time.Duration, dialErr error, tm Timing) time.Duration {
	down := dialErr != nil && !errors.Is(dialErr, transport.ErrAuth) && !errors.Is(dialErr, transport.ErrHostKey)
	if down {
		return tm.PollInterval
	}
	return min(2*delay, tm.PollMax)
}

// cutOff reports whether err only says that the wait's deadline (or the
// run's cancellation) ended a probe: such an error says nothing about why
// the host was not back.
func cutOff(wctx context.Context, err error) bool {
	return wctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled))
}

// verify rechecks the pending-reboot flag and, for patch, rescans (no
// refresh: the index was refreshed this run), unless either was read with
// the new boot's id.
func (h *hostRun) verify(ctx context.Context) bool {
	h.enter(report.PhaseVerifying)
	cfg := &h.r.cfg
	st := h.bootRead // read with the new boot's id, on this connection: no round trip
	h.bootRead = nil
	if st != nil && st.Signals {
		h.res.RebootRequired, h.res.RebootReasons = st.RebootRequired, st.RebootReasons
	} else if err := h.step(ctx, "reboot-required check", cfg.StepTimeout, func(c context.Context) error {
		required, reasons, err := h.be.RebootRequired(c, h.t)
		h.res.RebootRequired, h.res.RebootReasons = required, reasons
		return err
	}); err != nil {
		h.fail(ctx, "check reboot-required after reboot", err)
		return false
	}
	if cfg.Command != report.CmdPatch {
		return true
	}
	if st != nil && st.Scanned {
		if st.ScanErr != nil {
			h.fail(ctx, "scan", st.ScanErr)
			return false
		}
		return h.foundUpdates(ctx, st.Updates)
	}
	return h.listUpdates(ctx, false)
}

// sleepCtx waits d unless ctx ends first; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
