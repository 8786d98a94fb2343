package runner

import (
	"context"
	"sync"
)

// pool runs the per-host phases of hosts on cfg.Forks workers, in order,
// and returns the hosts that wait for a reboot batch (in order, holding no
// connection). With batch > 0 (a rolling batch) a host that needs a reboot
// is rebooted in that batch at once, and none is returned. When the run
// stops or the maintenance window closes, hosts not yet handed to a worker
// end skipped.
func (r *run) pool(ctx context.Context, hosts []*hostRun, batch int) []*hostRun {
	jobs := make(chan *hostRun)
	var wg, reboots sync.WaitGroup
	for range min(r.cfg.Forks, len(hosts)) {
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
				if batch > 0 && !h.ended {
					reboots.Go(func() {
						defer h.recoverPanic()
						h.rebootCycle(ctx, batch)
					})
				}
			}
		}()
	}

	next := 0
	windowShut := false
dispatch:
	for ; next < len(hosts); next++ {
		if hosts[next].ended { // ended in an earlier run that this one resumes
			continue
		}
		if r.stopping(ctx) {
			break
		}
		if windowShut = r.windowClosed(); windowShut {
			break
		}
		select {
		case jobs <- hosts[next]:
		case <-r.stop:
			break dispatch
		case <-ctx.Done():
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
	reboots.Wait()
	if rest := notEnded(hosts[next:]); len(rest) > 0 {
		if windowShut {
			r.closeWindow(rest, "no new host")
		} else {
			r.stopping(ctx) // marks the run interrupted
			for _, h := range rest {
				h.skip("interrupted before start")
			}
		}
	}
	return notEnded(hosts)
}
