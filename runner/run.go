package runner

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchrun/patchrun/report"
)

// run is one Run call's shared state. Concurrency: its fields are set before
// any goroutine starts and only read afterwards, except the interrupt flag
// (atomic, set once) and halted (written by the batch loop only).
type run struct {
	cfg    settings
	deps   Deps
	ev     *emitter
	rng    *lockedRand
	stop   <-chan struct{}
	hosts  []*hostRun // inventory order
	halted bool
	// haltedBy is the budget that halted the run (written with halted).
	haltedBy string
	// batch is the number of the last batch started (the batch loop's).
	batch int
	// windowShut is set once a host was kept from starting because the
	// maintenance window closed (the run then exits 4).
	windowOnce sync.Once
	windowShut atomic.Bool

	journal journalState

	interruptOnce sync.Once
	interrupted   atomic.Bool

	// extraDials are the slots for a rebooting host's overlapping
	// connection attempts beyond its own one (reach), and for the
	// connection of a previous batch's host still releasing its lease
	// (hostRun.tail) or of a next batch's host opened ahead (predial):
	// Forks of them for the whole run, so connections and
	// attempts in flight never exceed --forks plus the hosts of the batch
	// in progress.
	extraDials chan struct{}
	// backAfter is how long (time.Duration) the last host to come back
	// from a reboot this run issued took, from its reboot command to its
	// first answer: when the others are expected back (reach); 0 unknown.
	backAfter atomic.Int64
}

// Run executes plan and returns every host's result. Its error is non-nil
// only when the plan itself is unusable; hosts that fail are results.
// See the package documentation for the exact semantics.
func Run(ctx context.Context, plan Plan, deps Deps) (report.Report, error) {
	cfg, err := resolve(plan, deps)
	if err != nil {
		return report.Report{}, err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if end := cfg.WindowEnd; !end.IsZero() && !deps.Now().Before(end) {
		return report.Report{}, fmt.Errorf("invalid plan: %w", &FieldError{Field: "WindowEnd",
			Value: end.Format(time.RFC3339), Problem: "the maintenance window has already closed"})
	}
	r := &run{
		cfg:  cfg,
		deps: deps,
		ev:   &emitter{obs: deps.Observer, now: deps.Now},
		rng:  newLockedRand(deps.Rand),
		stop: deps.Stop,

		extraDials: make(chan struct{}, cfg.Forks),
	}
	rep := report.New(cfg.Command, cfg.DryRun, deps.Now())
	r.hosts = make([]*hostRun, len(cfg.Hosts))
	for i, h := range cfg.Hosts {
		r.hosts[i] = newHostRun(r, h)
	}
	r.applyResume()

	// The watcher turns a Ctrl-C into its event the moment it happens, not
	// whenever a worker next looks.
	finished := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		r.watchInterrupt(ctx, finished)
	}()

	r.rollout(ctx)

	// Every path above ends its hosts; this net keeps "exactly one end per
	// host" true even if one does not.
	for _, h := range r.hosts {
		if !h.ended {
			h.failWith("internal", "internal error: host never finished ("+string(h.currentPhase())+")")
		}
	}
	// A Ctrl-C that came while the last hosts ended may not have reached
	// the watcher yet (its select picks at random among ready cases): the
	// report must still say the run was interrupted.
	r.stopping(ctx)
	close(finished)
	watcher.Wait()

	hosts := make([]report.HostResult, len(r.hosts))
	for i, h := range r.hosts {
		hosts[i] = h.result()
	}
	rep.Halted, rep.HaltedBy = r.halted, r.haltedBy
	rep.Interrupted = r.interrupted.Load()
	rep.WindowClosed = r.windowShut.Load()
	rep.Finish(hosts, deps.Now())
	if deps.Journal != nil {
		// Finished hosts were compacted: count from what they were.
		rep.Summary = r.journaledSummary()
		if err := r.journal.firstErr(); err != nil {
			rep.JournalError = err.Error()
		}
	}
	rep.RunID = cfg.RunID
	return rep, nil
}

// watchInterrupt waits for the first Ctrl-C (Stop), the second (ctx), or
// the end of the run.
func (r *run) watchInterrupt(ctx context.Context, finished <-chan struct{}) {
	select {
	case <-finished:
	case <-r.stop:
		r.markInterrupted("no new hosts, install rounds or reboot batches will start; work in flight is finishing")
	case <-ctx.Done():
		r.markInterrupted("aborting work in flight")
	}
}

// stopping reports whether no new work may start, marking the run
// interrupted if so (so the flag never lags behind a skipped host).
func (r *run) stopping(ctx context.Context) bool {
	select {
	case <-r.stop:
		r.markInterrupted("no new hosts, install rounds or reboot batches will start; work in flight is finishing")
		return true
	case <-ctx.Done():
		r.markInterrupted("aborting work in flight")
		return true
	default:
		return false
	}
}

func (r *run) markInterrupted(detail string) {
	r.interruptOnce.Do(func() {
		r.interrupted.Store(true)
		r.ev.emit(Event{Kind: EventInterrupt, Detail: detail})
	})
}
