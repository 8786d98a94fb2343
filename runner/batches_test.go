package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// rebootFleet makes n hosts whose patch needs a reboot; hosts named in
// neverBack do not return from it.
func rebootFleet(t *testing.T, n int, neverBack ...string) *fakeFleet {
	var hs []*fakeHost
	for i := range n {
		name := fmt.Sprintf("h%d", i+1)
		hs = append(hs, &fakeHost{name: name, pending: []patch.Update{upd("kernel", true, true)},
			downDials: 2, neverBack: slices.Contains(neverBack, name)})
	}
	return newFleet(t, hs...)
}

func TestBatching(t *testing.T) {
	tests := []struct {
		name    string
		hosts   int
		sizes   Batches
		batches []int // RebootBatch per host, inventory order
	}{
		{"count 2 of 5", 5, Batches{{N: 2}}, []int{1, 1, 2, 2, 3}},
		{"none given: the default 10% of 3 is 1", 3, nil, []int{1, 2, 3}},
		{"50% of 4", 4, Batches{{N: 50, Percent: true}}, []int{1, 1, 2, 2}},
		{"10% of 5 is at least 1", 5, Batches{{N: 10, Percent: true}}, []int{1, 2, 3, 4, 5}},
		{"larger than the fleet", 3, Batches{{N: 10}}, []int{1, 1, 1}},
		{"canary then ramp 1,2: the last step repeats", 5, Batches{{N: 1}, {N: 2}}, []int{1, 2, 2, 3, 3}},
		{"canary then 50%", 6, Batches{{N: 1}, {N: 50, Percent: true}}, []int{1, 2, 2, 2, 3, 3}},
		{"1,10%,25% of 10", 10, Batches{{N: 1}, {N: 10, Percent: true}, {N: 25, Percent: true}},
			[]int{1, 2, 3, 3, 4, 4, 5, 5, 6, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rebootFleet(t, tt.hosts)
			plan := fastPlan(report.CmdPatch, f)
			plan.Batches = tt.sizes
			plan.Forks = 8
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			checkEvents(t, rep, rec)

			var got []int
			for _, h := range rep.Hosts {
				got = append(got, h.RebootBatch)
				if h.Status != report.StatusOK || !h.Rebooted {
					t.Errorf("%s: status %s rebooted %v: %s", h.Name, h.Status, h.Rebooted, h.Error)
				}
			}
			if !slices.Equal(got, tt.batches) {
				t.Errorf("batches %v, want %v", got, tt.batches)
			}
			size := 0
			for _, b := range tt.batches {
				size = max(size, count(tt.batches, b))
			}
			if rec.maxInRbt > size || f.maxRebooting > size {
				t.Errorf("%d hosts rebooting at once (fake saw %d), batch size %d", rec.maxInRbt, f.maxRebooting, size)
			}
			// No host of batch k+1 reboots before every host of batch k is up.
			batchOf := map[string]int{}
			for _, h := range rep.Hosts {
				batchOf[h.Name] = h.RebootBatch
			}
			up := map[int]int{}
			for _, line := range f.trace {
				verb, host, _ := strings.Cut(line, " ")
				b := batchOf[host]
				switch verb {
				case "reboot":
					if b > 1 && up[b-1] != count(tt.batches, b-1) {
						t.Errorf("%s (batch %d) rebooted while batch %d had %d of %d hosts up", host, b, b-1, up[b-1], count(tt.batches, b-1))
					}
				case "up":
					up[b]++
				}
			}
			evs := rec.kinds(EventBatch)
			if len(evs) != slices.Max(tt.batches) || evs[0].Batch != 1 || !strings.HasPrefix(evs[0].Detail, "h1") {
				t.Errorf("batch events %+v", evs)
			}
		})
	}
}

func count(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

func TestFailureBudget(t *testing.T) {
	tests := []struct {
		name        string
		maxFailures Budget
		maxUnreach  *Budget
		unreachable bool // h4 is unreachable in the pool phase as well
		halted      bool
		haltedBy    string
		skipped     []string
		haltDetail  string
	}{
		{"budget 0: the first lost host halts later batches", Budget{N: 0}, nil, false, true, report.HaltFailures,
			[]string{"h2", "h3", "h4"}, "reboot skipped: failure budget spent (1 failures > limit 0); updates were installed, reboot still required"},
		{"budget 1: one lost host is tolerated", Budget{N: 1}, nil, false, false, "", nil, ""},
		{"unlimited", Budget{Unlimited: true}, nil, true, false, "", nil, ""},
		{"an unreachable host does not spend the failure budget", Budget{N: 0}, nil, true, true, report.HaltFailures,
			[]string{"h2", "h3"}, "reboot skipped: failure budget spent (1 failures > limit 0); updates were installed, reboot still required"},
		{"unreachable budget 0: one unreachable host halts before any batch", Budget{Unlimited: true}, &Budget{N: 0}, true, true, report.HaltUnreachable,
			[]string{"h1", "h2", "h3"}, "reboot skipped: unreachable budget spent (1 unreachable > limit 0); updates were installed, reboot still required"},
		{"unreachable budget 1: one unreachable host is tolerated", Budget{N: 1}, &Budget{N: 1}, true, false, "", nil, ""},
		{"25% of 4 hosts is 1: one failure and one unreachable do not halt", Budget{N: 25, Percent: true}, nil, true, false, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := rebootFleet(t, 3, "h1")
				f.hosts["h1"].downDials = 0
				bad := &fakeHost{name: "h4", pending: []patch.Update{upd("kernel", true, true)}}
				if tt.unreachable {
					bad.dialErr = transport.ErrUnreachable
				}
				f.hosts["h4"], f.order = bad, append(f.order, "h4")
				plan := realTimePlan(report.CmdPatch, f)
				plan.MaxFailures, plan.MaxUnreachable = tt.maxFailures, tt.maxUnreach
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				checkEvents(t, rep, rec)

				if rep.Halted != tt.halted || rep.HaltedBy != tt.haltedBy || rep.Summary.Failed+rep.Summary.Unreachable == 0 {
					t.Errorf("halted %v by %q summary %+v; want halted %v by %q with failures", rep.Halted, rep.HaltedBy, rep.Summary, tt.halted, tt.haltedBy)
				}
				if got := len(rec.kinds(EventHalt)); got != map[bool]int{true: 1}[tt.halted] {
					t.Errorf("%d halt events", got)
				}
				m := byName(rep)
				for _, name := range []string{"h1", "h2", "h3", "h4"} {
					h := m[name]
					if name == "h4" && tt.unreachable {
						if h.Status != report.StatusUnreachable {
							t.Errorf("h4: status %s", h.Status)
						}
						continue
					}
					if !h.Updates[0].Installed {
						t.Errorf("%s: installed update lost: %+v", name, h.Updates)
					}
					if slices.Contains(tt.skipped, name) {
						if h.Status != report.StatusSkipped || h.Error != tt.haltDetail || h.Rebooted || !h.RebootRequired {
							t.Errorf("%s: status %s error %q rebooted %v required %v", name, h.Status, h.Error, h.Rebooted, h.RebootRequired)
						}
						if f.host(name).reboots != 0 {
							t.Errorf("%s rebooted after the halt", name)
						}
					} else if name != "h1" && (h.Status != report.StatusOK || !h.Rebooted) {
						t.Errorf("%s: status %s rebooted %v: %s", name, h.Status, h.Rebooted, h.Error)
					}
				}
				if h := m["h1"]; !slices.Contains(tt.skipped, "h1") && (h.Status != report.StatusFailed || h.ErrorKind != "reboot-timeout") {
					t.Errorf("h1: status %s kind %q", h.Status, h.ErrorKind)
				}
				if rep.Summary.Skipped != len(tt.skipped) {
					t.Errorf("summary %+v", rep.Summary)
				}
			})
		})
	}
}

// onRelease makes a host's lease release run wait first (whatever its
// timeout: a runner that waits for a release blocked on a channel
// deadlocks the test).
func onRelease(h *fakeHost, wait func()) {
	h.hangOn = func(line string) bool {
		if req, ok := lease.ParseUnixCommand(line); ok && req.Op == "release" {
			wait()
		}
		return false
	}
}

// The next batch starts once the hosts of the current one are verified and
// their results recorded, not once they have given back their leases; the
// run itself still ends only after every release, and no host's end is
// reported before its release.
func TestNextBatchDoesNotWaitForLeaseReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rebootFleet(t, 4)
		gate := make(chan struct{})
		for _, n := range f.order {
			f.host(n).factsReboot, f.host(n).rebootReq = true, true
			f.host(n).lock = &lease.Sim{}
		}
		onRelease(f.host("h1"), func() { <-gate })
		onRelease(f.host("h2"), func() { <-gate })
		f.host("h3").rebootIssued = make(chan struct{})
		plan := realTimePlan(report.CmdPatch, f)
		plan.RunID = "20261205T020000Z-abcd"
		plan.Batches = Batches{{N: 2}}
		start := time.Now()
		const held = 10 * time.Minute // how long batch 1's releases hang
		type result struct {
			rep report.Report
			rec *recorder
		}
		done := make(chan result)
		go func() {
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			done <- result{rep, rec}
		}()
		<-f.host("h3").rebootIssued // batch 2 started, batch 1 still releasing
		if h, ok := f.host("h1").lock.Holder(); !ok || h.RunID != plan.RunID {
			t.Fatalf("h1's lease = %+v, %v; want still ours while its release hangs", h, ok)
		}
		go func() {
			time.Sleep(held)
			close(gate)
		}()
		res := <-done
		if took := time.Since(start); took < held {
			t.Errorf("the run ended %s after its start, before batch 1's lease releases (%s)", took, held)
		}
		checkEvents(t, res.rep, res.rec)
		for _, h := range res.rep.Hosts {
			if h.Status != report.StatusOK || !h.Rebooted {
				t.Errorf("%s: status %s rebooted %v: %s", h.Name, h.Status, h.Rebooted, h.Error)
			}
			if holder, ok := f.host(h.Name).lock.Holder(); ok {
				t.Errorf("%s: lease still held by %s after the run", h.Name, holder.RunID)
			}
		}
		// h1's end is reported after its release, hence after batch 2's start.
		batch2, h1End := -1, -1
		for i, e := range res.rec.events {
			switch {
			case e.Kind == EventBatch && e.Batch == 2:
				batch2 = i
			case e.Kind == EventHostEnd && e.Host == "h1":
				h1End = i
			}
		}
		if batch2 < 0 || h1End < batch2 {
			t.Errorf("h1's host.done at event %d, batch 2's start at %d: want h1's end after its release, so after batch 2 started", h1End, batch2)
		}
	})
}

// The hosts of the next batch are connected to while the current one
// finishes (here, a rescan that takes a second), so the next batch starts
// with its connections open: its first command is the reboot itself.
func TestNextBatchConnectedWhileTheCurrentOneVerifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rebootFleet(t, 2)
		for _, n := range f.order {
			h := f.host(n)
			h.factsReboot, h.rebootReq, h.bootState, h.lock = true, true, true, &lease.Sim{}
		}
		// h1 rescans on its own (not inside its boot id read), slowly.
		f.host("h1").bootState = false
		f.host("h1").scanLine = "slow-scan"
		f.host("h1").hangOn = func(line string) bool {
			if line == "slow-scan" {
				time.Sleep(time.Second)
			}
			return false
		}
		rec := runBatchesOfOne(t, f, 4)
		var batch2 time.Time
		for _, e := range rec.kinds(EventBatch) {
			if e.Batch == 2 {
				batch2 = e.Time
			}
		}
		f.snapshot(func() {
			h2 := f.hosts["h2"]
			var before []time.Time // h2's dials before its reboot
			for _, at := range h2.dialAt {
				if at.Before(h2.rebootAt) {
					before = append(before, at)
				}
			}
			if len(before) != 2 || batch2.Sub(before[1]) < time.Second {
				t.Errorf("h2 dialled at %v before its reboot, batch 2 started at %v: want its second connection opened during h1's 1s rescan", before, batch2)
			}
		})
	})
}

// Once the run knows how long a host takes to come back, the next batch's
// hosts are dialled a moment (predialLead) before the current batch is
// expected back, not after: the next batch starts with its handshakes
// done. Before any host has come back (batch 1), they wait for it.
func TestNextBatchDialledAheadOfTheExpectedReturn(t *testing.T) {
	const down = 10 * time.Second
	synctest.Test(t, func(t *testing.T) {
		f := rebootFleet(t, 3)
		for _, n := range f.order {
			h := f.host(n)
			h.factsReboot, h.rebootReq, h.bootState, h.lock = true, true, true, &lease.Sim{}
			h.downDials, h.downFor = 0, down
		}
		// Room for h2's connection attempts and h3's early one: the early
		// one takes a slot only if one is free.
		runBatchesOfOne(t, f, maxDialsInFlight+2)
		f.snapshot(func() {
			// lastDialBeforeReboot is the connection its batch started with.
			lastDialBeforeReboot := func(h *fakeHost) time.Time {
				var last time.Time
				for _, at := range h.dialAt {
					if !at.After(h.rebootAt) {
						last = at
					}
				}
				return last
			}
			h1, h2, h3 := f.hosts["h1"], f.hosts["h2"], f.hosts["h3"]
			if at := lastDialBeforeReboot(h2); at.Sub(h1.rebootAt) < down {
				t.Errorf("h2 dialled %v after h1's reboot, before h1 came back (down %v): nothing said when to expect it", at.Sub(h1.rebootAt), down)
			}
			at := lastDialBeforeReboot(h3)
			if ahead, early := h3.rebootAt.Sub(at), at.Sub(h2.rebootAt.Add(down)); ahead < predialLead/2 || early < -2*predialLead {
				t.Errorf("h3 dialled %v before its reboot, %v after h2's return was due; want about %v ahead of that return", ahead, early, predialLead)
			}
		})
	})
}

// runBatchesOfOne patches f one host per batch with forks workers and
// wants every host ok and rebooted.
func runBatchesOfOne(t *testing.T, f *fakeFleet, forks int) *recorder {
	t.Helper()
	plan := realTimePlan(report.CmdPatch, f)
	plan.Forks = forks
	plan.RunID = "20261205T020000Z-abcd"
	plan.Batches = Batches{{N: 1}}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)
	for _, h := range rep.Hosts {
		if h.Status != report.StatusOK || !h.Rebooted {
			t.Fatalf("%s: status %s rebooted %v: %s", h.Name, h.Status, h.Rebooted, h.Error)
		}
	}
	return rec
}
