package runner

import (
	"context"
	"sync"
)

// pool runs the per-host phases on cfg.Forks workers, in inventory order, and
// returns the hosts that wait for a reboot batch (inventory order, holding
// no connection). When the run stops, hosts not yet handed to a
// worker end skipped.
func (r *run) pool(ctx context.Context) []*hostRun {
	jobs := make(chan *hostRun)
	var wg sync.WaitGroup
	for range min(r.cfg.Forks, len(r.hosts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range jobs {
				// The dispatcher's select may hand over a host in the same
				// instant Stop closes: that host must not start either.
				if r.stopping(ctx) {
					h.skip("interrupted before start")
					continue
				}
				func() {
					defer h.recoverPanic()
					r.startHost(ctx, h)
				}()
			}
		}()
	}

	next := 0
dispatch:
	for ; next < len(r.hosts); next++ {
		if r.hosts[next].ended { // ended in an earlier run that this one resumes
			continue
		}
		if r.stopping(ctx) {
			break
		}
		select {
		case jobs <- r.hosts[next]:
		case <-r.stop:
			break dispatch
		case <-ctx.Done():
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
	if next < len(r.hosts) {
		r.stopping(ctx) // marks the run interrupted
		for _, h := range r.hosts[next:] {
			if !h.ended {
				h.skip("interrupted before start")
			}
		}
	}

	var waiting []*hostRun
	for _, h := range r.hosts {
		if !h.ended {
			waiting = append(waiting, h)
		}
	}
	return waiting
}
