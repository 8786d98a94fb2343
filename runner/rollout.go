package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/patchrun/patchrun/report"
)

// ErrorKindWindowClosed is a host skipped because the maintenance window
// (Plan.WindowEnd) closed before it started installing or rebooting.
const ErrorKindWindowClosed = "window-closed"

// wave is one wave's hosts, inventory order.
type wave struct {
	num   int // 1-based; 0 when the run has no waves
	name  string
	hosts []*hostRun
}

// waves splits the run's hosts into its waves (Plan.Waves, then a last wave
// of the hosts in none), dropping empty ones, and records each host's wave.
func (r *run) waves() []wave {
	if len(r.cfg.Waves) == 0 {
		return []wave{{hosts: r.hosts}}
	}
	of := map[string]int{}
	for i, w := range r.cfg.Waves {
		for _, name := range w.Hosts {
			if _, ok := of[name]; !ok { // a host in two waves belongs to the first
				of[name] = i + 1
			}
		}
	}
	all := make([]wave, len(r.cfg.Waves)+1)
	for i := range all {
		all[i].num = i + 1
		if i < len(r.cfg.Waves) {
			all[i].name = r.cfg.Waves[i].Name
		} else {
			all[i].name = "hosts in no other wave"
		}
	}
	for _, h := range r.hosts {
		n := of[h.host.Name]
		if n == 0 {
			n = len(all)
		}
		h.res.Wave = n
		all[n-1].hosts = append(all[n-1].hosts, h)
	}
	var out []wave
	for _, w := range all {
		if len(w.hosts) > 0 {
			out = append(out, w)
		}
	}
	return out
}

// rollout runs the hosts wave by wave; within a wave, with Rolling, batch
// by batch through their whole lifecycle, else installs in parallel and
// reboots in batches. Before each wave and each batch the run checks it
// may go on (mayStart).
func (r *run) rollout(ctx context.Context) {
	r.batch = 0
	if r.cfg.Resume != nil {
		r.batch = r.cfg.Resume.Batches
	}
	for _, w := range r.waves() {
		todo := notEnded(w.hosts)
		if len(todo) == 0 {
			continue // ended in an earlier run this one resumes
		}
		if w.num > 0 {
			if !r.mayStart(ctx, fmt.Sprintf("wave %d", w.num), w.num) {
				return
			}
			r.ev.emit(Event{Kind: EventWaveStart, Wave: w.num,
				Detail: fmt.Sprintf("%s: %d hosts", w.name, len(todo))})
		}
		if r.cfg.Rolling {
			r.rollBatches(ctx, w, todo)
		} else if waiting := r.pool(ctx, todo, 0); len(waiting) > 0 {
			if r.cfg.OrderRisk {
				// Risk is known only after the scan: it orders the
				// reboot batches, not who is contacted first.
				slices.SortStableFunc(waiting, func(a, b *hostRun) int {
					return report.RiskOf(a.res.Updates).Compare(report.RiskOf(b.res.Updates))
				})
			}
			r.rebootInBatches(ctx, w, waiting)
		}
		if w.num > 0 {
			r.ev.emit(Event{Kind: EventWaveEnd, Wave: w.num, Detail: waveOutcome(w.hosts)})
		}
	}
}

// rollBatches runs a wave's hosts in batches, each host through its whole
// lifecycle (install, reboot if needed, verify), a batch only once the one
// before has ended. Batch sizes count every host of the run; the ramp goes
// on across waves (batch numbers are the run's).
func (r *run) rollBatches(ctx context.Context, w wave, todo []*hostRun) {
	for len(todo) > 0 {
		if !r.mayStart(ctx, fmt.Sprintf("batch %d", r.batch+1), w.num) {
			return
		}
		r.batch++
		size := r.cfg.Batches.Size(r.batch, len(r.hosts))
		group := todo[:min(size, len(todo))]
		todo = todo[len(group):]
		for _, h := range group {
			h.res.RebootBatch = r.batch
		}
		r.ev.emit(Event{Kind: EventBatch, Batch: r.batch, Wave: w.num, Detail: hostNames(group)})
		r.pool(ctx, group, r.batch)
	}
}

// mayStart is the check made before a wave or a batch starts: not
// interrupted, no budget spent, the window still open. If the run may not
// go on, every host that has not ended is skipped with the reason (what
// starts next names it) and mayStart returns false.
func (r *run) mayStart(ctx context.Context, next string, waveNum int) bool {
	rest := notEnded(r.hosts)
	switch {
	case r.stopping(ctx):
		for _, h := range rest {
			if h.awaiting() {
				h.skip(h.rebootNotStarted("interrupted: reboot not started"))
			} else {
				h.skip("interrupted before start")
			}
		}
		return false
	case r.windowClosed():
		r.closeWindow(rest, next)
		return false
	}
	by, why := r.budgetSpent()
	if by == "" {
		return true
	}
	r.halted, r.haltedBy = true, by
	waiting := 0
	for _, h := range rest {
		if h.awaiting() {
			waiting++
		}
	}
	detail := fmt.Sprintf("%s; %d hosts will not be rebooted", why, len(rest))
	if waiting < len(rest) {
		detail = fmt.Sprintf("%s; %s does not start: %d hosts will not be started, %d not rebooted", why, next, len(rest)-waiting, waiting)
	}
	r.ev.emit(Event{Kind: EventHalt, Batch: r.batch + 1, Wave: waveNum, Detail: detail})
	for _, h := range rest {
		if h.awaiting() {
			h.skip(h.rebootNotStarted("reboot skipped: " + why))
		} else {
			h.skip("not started: " + why)
		}
	}
	return false
}

// windowClosed reports whether the maintenance window has closed.
func (r *run) windowClosed() bool {
	return !r.cfg.WindowEnd.IsZero() && !r.deps.Now().Before(r.cfg.WindowEnd)
}

// closeWindow ends hosts that may no longer start because the window
// closed, saying so once for the run.
func (r *run) closeWindow(hosts []*hostRun, next string) {
	r.windowOnce.Do(func() {
		r.windowShut.Store(true)
		r.ev.emit(Event{Kind: EventWindowClosed, Detail: fmt.Sprintf(
			"the maintenance window closed at %s; %s does not start, no new host starts installing; hosts in flight finish",
			r.cfg.WindowEnd.Format("2006-01-02 15:04:05 MST"), next)})
	})
	for _, h := range hosts {
		h.windowSkip()
	}
}

// windowSkip ends a host that may not go on because the window closed.
func (h *hostRun) windowSkip() {
	why := "the maintenance window closed at " + h.r.cfg.WindowEnd.Format("15:04:05")
	if h.awaiting() {
		why = h.rebootNotStarted("reboot not started: " + why)
	} else {
		why = "not started: " + why
	}
	h.end(report.StatusSkipped, why, ErrorKindWindowClosed, nil)
}

// installAllowed is the window's check before a host's first install: a
// host that reaches it after the window closed ends skipped, unchanged.
func (h *hostRun) installAllowed() bool {
	if !h.r.windowClosed() {
		return true
	}
	h.r.closeWindow(nil, "no install")
	h.res.Phase = h.currentPhase()
	h.end(report.StatusSkipped, "install not started: the maintenance window closed at "+
		h.r.cfg.WindowEnd.Format("15:04:05")+"; nothing was installed", ErrorKindWindowClosed, nil)
	return false
}

// awaiting reports whether the host has done its installs and waits for
// its reboot batch.
func (h *hostRun) awaiting() bool { return h.currentPhase() == report.PhaseAwaitBatch }

func notEnded(hosts []*hostRun) []*hostRun {
	var out []*hostRun
	for _, h := range hosts {
		if !h.ended {
			out = append(out, h)
		}
	}
	return out
}

func hostNames(hosts []*hostRun) string {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.host.Name
	}
	return strings.Join(names, ", ")
}

// waveOutcome sums up a wave's hosts for its end event.
func waveOutcome(hosts []*hostRun) string {
	n := map[report.Status]int{}
	for _, h := range hosts {
		n[h.res.Status]++
	}
	return fmt.Sprintf("%d hosts: %d ok, %d failed, %d unreachable, %d skipped", len(hosts),
		n[report.StatusOK], n[report.StatusFailed], n[report.StatusUnreachable], n[report.StatusSkipped])
}
