package runner

import (
	"context"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/report"
)

// A host waiting for its reboot batch holds no connection, and a rebooting
// host's connection attempts share the run's --forks slots, so a large
// fleet never has more connections (or attempts in flight, each a socket)
// open than --forks plus one batch — even when the hosts are slow to come
// back and every attempt hangs until its timeout, and when the hosts of
// a finished batch are slow to give back their leases while the next
// batch runs (each such connection takes one of the --forks slots).
func TestConnectionsBoundedByForksAndBatch(t *testing.T) {
	for _, tc := range []struct {
		cmd     report.Command
		rolling bool
		leased  bool // every lease release takes a minute
	}{{report.CmdPatch, false, false}, {report.CmdReboot, false, false}, {report.CmdPatch, true, false},
		{report.CmdPatch, false, true}, {report.CmdReboot, false, true}} {
		name := string(tc.cmd)
		if tc.rolling {
			name += "/rolling"
		}
		if tc.leased {
			name += "/slow-releases"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := rebootFleet(t, 12)
				for _, n := range f.order {
					f.host(n).factsReboot = true
					f.host(n).rebootReq = true
					f.host(n).downFor = 20 * time.Second // attempts hang meanwhile
					if tc.leased {
						onRelease(f.host(n), func() { time.Sleep(time.Minute) })
					}
				}
				plan := realTimePlan(tc.cmd, f)
				if tc.leased {
					plan.RunID = "20261205T020000Z-abcd"
				}
				plan.Forks = 3
				plan.Batches = Batches{{N: 2}}
				plan.Rolling = tc.rolling
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				checkEvents(t, rep, rec)
				for _, h := range rep.Hosts {
					if h.Status != report.StatusOK || !h.Rebooted {
						t.Errorf("%s: status %s rebooted %v: %s", h.Name, h.Status, h.Rebooted, h.Error)
					}
				}
				f.snapshot(func() {
					if limit := plan.Forks + 2; f.maxOpen > limit {
						t.Errorf("at most %d connections and attempts were open at once, want <= forks+batch = %d", f.maxOpen, limit)
					}
					if f.open != 0 {
						t.Errorf("%d connections still open after the run", f.open)
					}
				})
			})
		})
	}
}

// A host waiting for its reboot batch keeps nothing of its closed
// connection reachable (its lease renews over the batch's new one): a
// fleet parked for its batches must not hold every host's SSH client
// buffers until the end of the run.
func TestAwaitingHostKeepsNoConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rebootFleet(t, 2)
		first := f.host("h1")
		first.downFor = time.Minute // batch 1 lasts a while
		first.rebootIssued = make(chan struct{})
		plan := realTimePlan(report.CmdPatch, f)
		plan.RunID = "20261205T020000Z-abcd" // the hosts are leased
		plan.Batches = Batches{{N: 1}}
		done := make(chan report.Report)
		go func() {
			rep, _ := runPlan(t, context.Background(), plan, f, nil)
			done <- rep
		}()
		<-first.rebootIssued
		synctest.Wait() // batch 1 polls h1; h2 waits for batch 2
		runtime.GC()
		f.snapshot(func() {
			h := f.hosts["h2"]
			if len(h.conns) == 0 || h.lock == nil {
				t.Fatalf("h2 was never connected to and leased")
			}
			for i, c := range h.conns {
				if c.Value() != nil {
					t.Errorf("h2's connection %d is still reachable while h2 waits for its batch", i+1)
				}
			}
		})
		for _, h := range (<-done).Hosts {
			if h.Status != report.StatusOK || !h.Rebooted {
				t.Errorf("%s: status %s rebooted %v: %s", h.Name, h.Status, h.Rebooted, h.Error)
			}
		}
	})
}
