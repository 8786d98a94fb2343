package runner

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
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
	var pre *predials // connections opened ahead for the batch about to start
	defer func() { pre.wait() }()
	for rest := waiting; len(rest) > 0; {
		pre.wait()
		ok := r.mayStart(ctx, fmt.Sprintf("batch %d", r.batch+1), w.num)
		pre.handOver()
		if !ok {
			return
		}
		r.batch++
		batch := r.batch
		hosts := rest[:min(r.cfg.Batches.Size(batch, candidates), len(rest))]
		rest = rest[len(hosts):]
		r.ev.emit(Event{Kind: EventBatch, Batch: batch, Wave: w.num, Detail: hostNames(hosts)})
		var done, back sync.WaitGroup // the batch's hosts, to their result; to their return
		for _, h := range hosts {
			done.Add(1)
			back.Add(1)
			h.batchDone, h.batchBack = done.Done, back.Done
			all.Go(func() {
				defer h.doneForBatch()
				defer h.recoverPanic()
				h.rebootCycle(ctx, batch)
			})
		}
		next := rest[:min(r.cfg.Batches.Size(batch+1, candidates), len(rest))]
		pre = r.predial(ctx, &back, r.nearReturn(time.Now()), next)
		done.Wait()
	}
}

// predials are the connections opened to the hosts of the next batch while
// the current one verifies. Each takes one of the run's extraDials slots
// until its batch starts (handOver), so the bound of --forks plus one batch
// holds.
type predials struct {
	r     *run
	wg    sync.WaitGroup
	slots atomic.Int32 // extraDials slots held
}

// predial opens, once every host of the current batch is back (or done)
// or soon fires, whichever comes first, a connection to each host of next
// that has none, as long as a slot is free (else once the batch is all
// back, if one is free then): the next batch then starts with its
// connections ready.
func (r *run) predial(ctx context.Context, back *sync.WaitGroup, soon <-chan time.Time, next []*hostRun) *predials {
	p := &predials{r: r}
	p.wg.Go(func() {
		allBack := make(chan struct{})
		go func() { back.Wait(); close(allBack) }()
		select {
		case <-allBack:
		case <-soon:
		case <-ctx.Done():
			return
		}
		var dials sync.WaitGroup
		// A slot is taken only if free: the current batch's connection
		// attempts come first. Hosts left without one try again once the
		// current batch is all back (its attempts then have ended).
		dialAhead := func(hosts []*hostRun) (left []*hostRun) {
			for _, h := range hosts {
				if h.ended || h.t != nil {
					continue
				}
				if !r.takeExtraDial() {
					left = append(left, h)
					continue
				}
				p.slots.Add(1)
				dials.Go(func() {
					if t, err := h.dial(ctx, h.connectTimeout()); err == nil {
						h.t, h.dialledAt = t, time.Now()
					}
				})
			}
			return left
		}
		if left := dialAhead(next); len(left) > 0 {
			select {
			case <-allBack:
				dialAhead(left)
			case <-ctx.Done():
			}
		}
		dials.Wait()
	})
	return p
}

// predialLead: the next batch's connections are opened this long before
// the current batch is expected back (nearReturn), so that its handshakes
// are done, not begun, when it may start, and the connections are still
// fresh (freshConnection) then.
const predialLead = time.Second

// nearReturn fires predialLead before a batch that started at start is
// expected back: its reboot commands plus the time the last host to come
// back in this run took. Nil (never) while no host has come back yet.
func (r *run) nearReturn(start time.Time) <-chan time.Time {
	back := time.Duration(r.backAfter.Load())
	if back <= 0 {
		return nil
	}
	return time.After(max(0, time.Until(start.Add(back-predialLead))))
}

// wait waits for the connections being opened ahead, if any.
func (p *predials) wait() {
	if p != nil {
		p.wg.Wait()
	}
}

// handOver gives back the slots of the connections opened ahead: their
// hosts now count in the batch (or have ended).
func (p *predials) handOver() {
	if p == nil {
		return
	}
	for ; p.slots.Load() > 0; p.slots.Add(-1) {
		p.r.giveExtraDial()
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
