package runner

import (
	"context"
	"fmt"
	"sync"
)

// rebootInBatches reboots a wave's waiting hosts batch by batch, in
// order. A batch starts only when every host of the previous one is done
// (verified and ended, or failed) and the run may go on (mayStart); the
// previous batch's hosts may still be releasing their leases then (see
// hostRun.end). It returns once every host has released. Batch numbers are
// the run's; sizes count the wave's hosts that need a reboot.
func (r *run) rebootInBatches(ctx context.Context, w wave, waiting []*hostRun) {
	var all sync.WaitGroup // every host's goroutine, to its lease release
	defer all.Wait()
	candidates := len(waiting)
	for _, h := range w.hosts {
		if h.ended && h.res.RebootBatch > 0 { // rebooted in an earlier run this one resumes
			candidates++
		}
	}
	for rest := waiting; len(rest) > 0; {
		if !r.mayStart(ctx, fmt.Sprintf("batch %d", r.batch+1), w.num) {
			return
		}
		r.batch++
		batch := r.batch
		hosts := rest[:min(r.cfg.Batches.Size(batch, candidates), len(rest))]
		rest = rest[len(hosts):]
		r.ev.emit(Event{Kind: EventBatch, Batch: batch, Wave: w.num, Detail: hostNames(hosts)})
		var done sync.WaitGroup // the batch's hosts, to their result
		for _, h := range hosts {
			done.Add(1)
			h.batchDone = done.Done
			all.Go(func() {
				defer h.doneForBatch()
				defer h.recoverPanic()
				h.rebootCycle(ctx, batch)
			})
		}
		done.Wait()
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
