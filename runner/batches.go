package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/patchrun/patchrun/report"
)

// rebootInBatches reboots waiting hosts batch by batch, in inventory order.
// A batch starts only when the previous one is fully done, the run has not
// been interrupted, and the failure budget is not spent.
func (r *run) rebootInBatches(ctx context.Context, waiting []*hostRun) {
	limit, limited := r.cfg.failureLimit()
	first, candidates := r.batchesSoFar(len(waiting))
	for start, batch := 0, first; start < len(waiting); batch++ {
		size := r.cfg.Batches.Size(batch, candidates)
		rest := waiting[start:]
		if r.stopping(ctx) {
			for _, h := range rest {
				h.skip(h.rebootNotStarted("interrupted: reboot not started"))
			}
			return
		}
		if failures := r.failures(); limited && failures > limit {
			r.halted = true
			why := fmt.Sprintf("failure budget spent (%d failures > limit %d)", failures, limit)
			r.ev.emit(Event{Kind: EventHalt, Batch: batch,
				Detail: fmt.Sprintf("%s; %d hosts will not be rebooted", why, len(rest))})
			for _, h := range rest {
				h.skip(h.rebootNotStarted("reboot skipped: " + why))
			}
			return
		}

		hosts := rest[:min(size, len(rest))]
		start += len(hosts)
		names := make([]string, len(hosts))
		for i, h := range hosts {
			names[i] = h.host.Name
		}
		r.ev.emit(Event{Kind: EventBatch, Batch: batch, Detail: strings.Join(names, ", ")})
		var wg sync.WaitGroup
		for _, h := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer h.recoverPanic()
				h.rebootCycle(ctx, batch)
			}()
		}
		wg.Wait()
	}
}

// failures counts hosts that ended failed or unreachable. Called between
// batches, when no other goroutine touches any host.
func (r *run) failures() int {
	n := 0
	for _, h := range r.hosts {
		if h.ended && (h.res.Status == report.StatusFailed || h.res.Status == report.StatusUnreachable) {
			n++
		}
	}
	return n
}

// rebootNotStarted explains a host left out of the reboots, saying plainly
// what state it is in so nobody assumes it is done.
func (h *hostRun) rebootNotStarted(why string) string {
	installed := false
	for _, u := range h.res.Updates {
		installed = installed || u.Installed
	}
	switch {
	case installed && h.res.RebootRequired:
		return why + "; updates were installed, reboot still required"
	case installed:
		return why + "; updates were installed"
	case h.res.RebootRequired:
		return why + "; reboot still required"
	}
	return why
}
