package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// rebootInBatches reboots waiting hosts batch by batch, in inventory order.
// A batch starts only when the previous one is fully done, the run has not
// been interrupted, and no budget is spent.
func (r *run) rebootInBatches(ctx context.Context, waiting []*hostRun) {
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
		if by, why := r.budgetSpent(); by != "" {
			r.halted, r.haltedBy = true, by
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
