package runner

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/patchrun/patchrun/inventory"
)

// Deps are the run's collaborators: how to reach hosts, how to pick their
// backend, who hears about it, and the first-stage interrupt.
type Deps struct {
	Dialer Dialer
	Detect DetectFunc
	// Observer receives every event; nil discards them.
	Observer Observer
	// Stop is closed on the first Ctrl-C: no new work is scheduled, work in
	// flight finishes. nil never stops. The second Ctrl-C cancels Run's ctx.
	Stop <-chan struct{}
	// Now stamps events and results; nil means time.Now.
	Now func() time.Time
	// Rand jitters the reboot poll; nil means a freshly seeded source. The
	// runner serialises its use.
	Rand *rand.Rand
	// Journal records checkpoints and final results durably; nil keeps
	// everything in memory only (tests, `demo`).
	Journal Journal
	// RunLocal runs a local hook (Plan.Steps.PreLocal/PostLocal) on the
	// workstation with env added to its environment; nil means the
	// system shell (RunLocalShell).
	RunLocal LocalRunner
	// Wake sends a host's Wake-on-LAN magic packet (Plan.Wake); nil means
	// wake.Send to the host's wol_broadcast:wol_port.
	Wake func(ctx context.Context, h inventory.Host) error
	// Enricher adds risk data from files (--advisories, --kev, --epss) to
	// every scan's updates, after the scan and before the selection; nil
	// adds none.
	Enricher Enricher
}

// Defaults for zero values in a Plan (and of the command line's flags).
const (
	DefaultForks          = 20
	DefaultConnectTimeout = 10 * time.Second
	DefaultStepTimeout    = 30 * time.Minute
	DefaultRebootTimeout  = 15 * time.Minute
	DefaultMaxRounds      = 3
	DefaultExecMaxOutput  = 64 << 10
	// DefaultPollInterval paces the reboot poll: while a host is down a new
	// connection attempt starts every 250–500 ms (the interval jittered
	// into its upper half), so its return is seen within half a second.
	// One attempt is one TCP connect (a SYN) to a host that is down: at most
	// 4 new ones per second per host, and never more than 16 in flight;
	// only in the 2.5 s around the moment a host is expected back (the
	// time the last host took, quickWindow), up to 20 a second. See
	// docs/reboot.md.
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultPollMax caps the backoff: while a host still answers with its
	// old boot (each probe then costs a handshake and a command), and once
	// it has been down for over a minute. Every second past the cap is a
	// second a whole batch may wait after its hosts are back; 5s (Ansible
	// uses 12s) keeps batches moving at no real cost to the hosts.
	DefaultPollMax      = 5 * time.Second
	DefaultProbeTimeout = 5 * time.Second

	// DefaultHealthTimeout bounds a host's health check, every attempt
	// included; DefaultHealthInterval is the pause between two attempts.
	// DefaultHookTimeout bounds one hook.
	DefaultHealthTimeout  = 5 * time.Minute
	DefaultHealthInterval = 5 * time.Second
	DefaultHookTimeout    = 10 * time.Minute

	// InstallTimeoutFactor: an install gets this many step timeouts, because
	// package managers and Windows Update legitimately run long.
	InstallTimeoutFactor = 4
)

// lockedRand makes one *rand.Rand usable from every reboot goroutine.
// Concurrency: all methods are safe for concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newLockedRand(r *rand.Rand) *lockedRand {
	if r == nil {
		r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &lockedRand{r: r}
}

// jitter returns a random duration in [d/2, d], so hosts that went down
// together do not all redial in the same instant.
func (l *lockedRand) jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	l.mu.Lock()
	defer l.mu.Unlock()
	return half + time.Duration(l.r.Int64N(int64(d-half)+1))
}
