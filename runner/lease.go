package runner

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// LockPlan configures the lease a run takes on each host before touching it
// (docs/locking.md). Leases are taken only by runs that change hosts
// (patch, reboot, exec; not scan, not --dry-run) and have a RunID: a run
// without one (tests, `demo`) takes none, because a shared placeholder name
// would make two such runs each believe they hold the other's lease.
type LockPlan struct {
	// TTL is how long a lease lives past its last renewal (--lock-ttl);
	// 0 means lease.DefaultTTL.
	TTL time.Duration
	// Wait is how long to wait for a host another run holds (--wait-lock);
	// 0 skips it at once.
	Wait time.Duration
	// Poll is the interval between attempts while waiting; 0 means
	// DefaultLockPoll.
	Poll time.Duration
	// Dir is the lease directory on Unix hosts ("" means lease.UnixDir;
	// Windows hosts always use lease.WindowsDir).
	Dir string
	// Who takes the lease; empty values are this machine's host name, the
	// current user and this process's pid.
	Controller string
	User       string
	PID        int
}

// DefaultLockPoll is how often a locked host is asked again under
// --wait-lock.
const DefaultLockPoll = 10 * time.Second

// validate adds the lock settings' problems to Validate's.
func (l LockPlan) validate(bad func(field string, value any, problem string)) {
	if l.TTL < 0 {
		bad("Lock.TTL", l.TTL, "must not be negative")
	} else if l.TTL > 0 && l.TTL < time.Minute {
		bad("Lock.TTL", l.TTL, "must be at least 1m (a lease renewed less often than the hosts are worked on would be taken over under a live run)")
	}
	if l.Wait < 0 {
		bad("Lock.Wait", l.Wait, "must not be negative")
	}
	if l.Poll < 0 {
		bad("Lock.Poll", l.Poll, "must not be negative")
	}
}

// takesLeases reports whether this run leases its hosts.
func (s *settings) takesLeases() bool {
	return s.RunID != "" && !s.DryRun && s.Command != report.CmdScan && s.Command != report.CmdFacts
}

// hostLease is one host's lease while the run holds it.
//
// Concurrency: mu serialises every operation on l: the host's owner (acquire,
// renew at phase changes, release) and the renewal ticker that runs during
// long steps.
type hostLease struct {
	mu   sync.Mutex
	l    *lease.Lease
	lost string // set when a renewal found the lease taken; guarded by mu
	// renewed is when this controller last took or renewed the lease, by
	// its own clock: it only paces renewals, it never decides expiry (the
	// host's clock does). Owner only.
	renewed time.Time
	// releasedMaybe: a wrapped command may have released the lease already
	// (its answer was cut off), so finding no lease at release is no news.
	releasedMaybe bool
}

// processIdentity is this process as a lease holder.
var processIdentity = sync.OnceValue(func() lease.Identity {
	id := lease.Identity{PID: os.Getpid()}
	id.Controller, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		id.User = u.Username
	}
	return id
})

func (s *settings) leaseIdentity() lease.Identity {
	id := processIdentity()
	id.RunID = s.RunID
	if s.Lock.Controller != "" {
		id.Controller = s.Lock.Controller
	}
	if s.Lock.User != "" {
		id.User = s.Lock.User
	}
	if s.Lock.PID != 0 {
		id.PID = s.Lock.PID
	}
	return id
}

// rawTransport is t without the runner's logging wrapper: the renewal
// ticker must not touch the step capture the owner is writing.
func rawTransport(t transport.Transport) transport.Transport {
	if lt, ok := t.(*loggedTransport); ok {
		return lt.Transport
	}
	return t
}

// newLease prepares the run's lease on this host, over its connection.
func (h *hostRun) newLease() (*lease.Lease, error) {
	cfg := &h.r.cfg
	opts := lease.Options{TTL: cfg.Lock.TTL, Windows: h.host.Transport == inventory.TransportWinRM}
	if !opts.Windows {
		opts.Dir = cfg.Lock.Dir
	}
	return lease.New(h.t, cfg.leaseIdentity(), opts)
}

// takeLease leases the host before anything changes on it: at once, after
// waiting (--wait-lock), or not at all, in which case the host ends
// skipped with error kind "locked" naming the holder. It reports whether
// the host may go on.
func (h *hostRun) takeLease(ctx context.Context) bool {
	cfg := &h.r.cfg
	if !cfg.takesLeases() {
		return true
	}
	l, err := h.newLease()
	if err != nil {
		h.failWith("locked", "lock: "+err.Error())
		return false
	}
	poll := cfg.Lock.Poll
	if poll == 0 {
		poll = DefaultLockPoll
	}
	deadline := h.r.deps.Now().Add(cfg.Lock.Wait)
	waited := false
	for {
		var o lease.Outcome
		err := h.step(ctx, "lock", cfg.StepTimeout, func(c context.Context) error {
			var err error
			o, err = l.Acquire(c)
			return err
		})
		if err != nil {
			h.fail(ctx, "lock", err)
			return false
		}
		switch o.Status {
		case lease.Acquired:
			h.lease = &hostLease{l: l, renewed: h.r.deps.Now()}
			if waited {
				h.lockEvent("lock taken after waiting")
			}
			return true
		case lease.TookOver:
			h.lease = &hostLease{l: l, renewed: h.r.deps.Now()}
			h.lockEvent("took over the expired lease of " + describeHolder(o.Holder))
			return true
		}
		holder := describeHolder(o.Holder)
		left := deadline.Sub(h.r.deps.Now())
		if left <= 0 {
			msg := "locked by " + holder
			if cfg.Lock.Wait > 0 {
				msg += fmt.Sprintf(" (waited %s)", cfg.Lock.Wait)
			}
			h.end(report.StatusSkipped, msg, "locked", nil)
			return false
		}
		if !waited {
			h.lockEvent("waiting up to " + cfg.Lock.Wait.String() + " for the lock held by " + holder)
			waited = true
		}
		if !h.sleepForLock(ctx, min(poll, left)) {
			if ctx.Err() != nil {
				h.fail(ctx, "wait for lock", ctx.Err())
			} else {
				h.skip("interrupted while waiting for the lock held by " + holder)
			}
			return false
		}
	}
}

// sleepForLock waits d, unless the run is interrupted (either Ctrl-C).
func (h *hostRun) sleepForLock(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !h.r.stopping(ctx)
	case <-ctx.Done():
		return false
	case <-h.r.stop:
		h.r.stopping(ctx)
		return false
	}
}

// describeHolder names the run holding a lease, for a person.
func describeHolder(holder *lease.Holder) string {
	if holder == nil {
		return "another run (its lease file could not be read)"
	}
	return holder.String()
}

// lockEvent reports a lease event that is not a plain step.
func (h *hostRun) lockEvent(detail string) {
	h.r.ev.emit(Event{Kind: EventLock, Host: h.host.Name, Phase: h.currentPhase(), Detail: detail})
}

// renewLease renews the host's lease over its connection (redialling if it
// was lost, as after a reboot). A lease another run took meanwhile fails
// the host with error kind "locked". It reports whether the host may go on.
func (h *hostRun) renewLease(ctx context.Context) bool {
	hl := h.lease
	if hl == nil {
		return true
	}
	var o lease.Outcome
	err := h.withRedial(ctx, func(t transport.Transport) error {
		return h.step(ctx, "lock renew", h.r.cfg.StepTimeout, func(c context.Context) error {
			hl.mu.Lock()
			defer hl.mu.Unlock()
			hl.l.SetTransport(t)
			var err error
			o, err = hl.l.Renew(c)
			return err
		})
	})
	if err != nil {
		h.fail(ctx, "renew lock", err)
		return false
	}
	return h.renewed(o)
}

// renewed takes in a renewal's outcome: the lease is ours for another TTL,
// or it was lost to another run and the host fails "locked". It reports
// whether the host may go on.
func (h *hostRun) renewed(o lease.Outcome) bool {
	h.lease.renewed = h.r.deps.Now()
	if o.Status != lease.Renewed {
		h.lease = nil // not ours to release
		h.failWith("locked", "lost the host's lease: now held by "+describeHolder(o.Holder))
		return false
	}
	return true
}

// renewingFirst is t with the host's lease renewal in front of its next
// command, in the same round trip (lease.RenewFirst), where the lease can
// do so (Unix hosts); else t and nil. The command runs only if the lease
// is still ours.
func (h *hostRun) renewingFirst(t transport.Transport) (transport.Transport, *lease.RenewFirst) {
	hl := h.lease
	if hl == nil || !hl.l.Wraps() {
		return t, nil
	}
	rf := &lease.RenewFirst{Transport: rawTransport(t), Lease: hl.l}
	return &loggedTransport{Transport: rf, h: h}, rf
}

// renewLeaseIfDue is renewLease at a phase change: only once a third of
// the TTL has passed since the last renewal, or if the renewal ticker found
// the lease lost.
func (h *hostRun) renewLeaseIfDue(ctx context.Context) bool {
	hl := h.lease
	if hl == nil {
		return true
	}
	hl.mu.Lock()
	lost := hl.lost
	hl.mu.Unlock()
	if lost == "" && h.r.deps.Now().Sub(hl.renewed) < hl.l.TTL()/3 {
		return true
	}
	return h.renewLease(ctx)
}

// keepLease renews the lease every TTL/3 while a long step runs on the
// host's connection, so an install longer than the TTL keeps its lease. It
// returns the function that stops it (and waits for it).
func (h *hostRun) keepLease() (stop func()) {
	hl := h.lease
	if hl == nil || h.t == nil {
		return func() {}
	}
	t := rawTransport(h.t)
	every := max(hl.l.TTL()/3, time.Second)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), h.r.cfg.StepTimeout)
			hl.mu.Lock()
			hl.l.SetTransport(t)
			o, err := hl.l.Renew(ctx)
			if err == nil && o.Status != lease.Renewed && hl.lost == "" {
				hl.lost = describeHolder(o.Holder)
			}
			hl.mu.Unlock()
			cancel()
			switch {
			case err != nil:
				h.logf(err, "lock renew during a step")
			case o.Status != lease.Renewed:
				h.lockEvent("lost the host's lease during a step: now held by " + describeHolder(o.Holder))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// releaseLease gives the lease back at the host's end, best effort: a
// lease that cannot be released expires after its TTL. A host skipped while
// it waited for its reboot batch holds no connection but is up: it is
// dialled once so its lease does not block the next run for a whole TTL.
func (h *hostRun) releaseLease(status report.Status) {
	hl := h.lease
	h.lease = nil
	if hl == nil {
		return
	}
	if h.t == nil && status == report.StatusSkipped {
		timeout := h.connectTimeout()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		if t, err := h.dial(ctx, timeout); err == nil {
			h.t = t
		}
		cancel()
	}
	if h.t == nil {
		h.lockEvent("lease not released (no connection): it expires " + hl.l.TTL().String() + " after its last renewal")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(h.r.cfg.StepTimeout, 30*time.Second))
	defer cancel()
	hl.mu.Lock()
	hl.l.SetTransport(h.t)
	o, err := hl.l.Release(ctx)
	hl.mu.Unlock()
	switch {
	case err != nil:
		h.lockEvent("lease not released (" + err.Error() + "): it expires " + hl.l.TTL().String() + " after its last renewal")
	case o.Status == lease.NotHeld && o.Holder == nil && hl.releasedMaybe:
	case o.Status != lease.Released:
		h.lockEvent("lease already gone at release: held by " + describeHolder(o.Holder))
	}
}
