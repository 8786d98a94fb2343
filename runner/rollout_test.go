package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// firstIndex is the index of the first event that matches, or -1.
func (r *recorder) firstIndex(match func(Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.events {
		if match(e) {
			return i
		}
	}
	return -1
}

// lastIndex is the index of the last event that matches, or -1.
func (r *recorder) lastIndex(match func(Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if match(r.events[i]) {
			return i
		}
	}
	return -1
}

func endOf(hosts ...string) func(Event) bool {
	return func(e Event) bool { return e.Kind == EventHostEnd && slices.Contains(hosts, e.Host) }
}

func phaseOf(p report.Phase, hosts ...string) func(Event) bool {
	return func(e Event) bool { return e.Kind == EventPhase && e.Phase == p && slices.Contains(hosts, e.Host) }
}

// groupsOf returns, per batch number, its hosts, from the batch events.
func (r *recorder) groupsOf() map[int][]string {
	out := map[int][]string{}
	for _, e := range r.kinds(EventBatch) {
		if _, dup := out[e.Batch]; dup {
			r.t.Errorf("batch %d started twice", e.Batch)
		}
		out[e.Batch] = strings.Split(e.Detail, ", ")
	}
	return out
}

// checkGated asserts that every host of each batch ended before any host
// of a later batch was contacted.
func checkGated(t *testing.T, rec *recorder, groups map[int][]string) {
	t.Helper()
	for b := 1; groups[b+1] != nil; b++ {
		done := rec.lastIndex(endOf(groups[b]...))
		next := rec.firstIndex(phaseOf(report.PhaseConnecting, groups[b+1]...))
		if done < 0 || next < 0 || next < done {
			t.Errorf("batch %d (%v) started (event %d) before batch %d (%v) ended (event %d)", b+1, groups[b+1], next, b, groups[b], done)
		}
	}
}

func TestRollingCanaryGatesInstalls(t *testing.T) {
	f := rebootFleet(t, 5)
	f.hosts["h2"].pending = []patch.Update{upd("libc", true, false)} // needs no reboot
	plan := fastPlan(report.CmdPatch, f)
	plan.Forks = 8
	plan.Rolling = true
	plan.Batches = Batches{{N: 1}, {N: 50, Percent: true}}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)

	// 50% of all 5 hosts (the one needing no reboot counts) is 2.
	want := map[int][]string{1: {"h1"}, 2: {"h2", "h3"}, 3: {"h4", "h5"}}
	groups := rec.groupsOf()
	if fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Fatalf("batches %v, want %v", groups, want)
	}
	checkGated(t, rec, groups)
	canaryDone := rec.firstIndex(endOf("h1"))
	if i := rec.firstIndex(phaseOf(report.PhaseInstalling, "h2", "h3", "h4", "h5")); i < canaryDone {
		t.Errorf("another host installed (event %d) before the canary was rebooted and verified (event %d)", i, canaryDone)
	}
	for _, h := range rep.Hosts {
		wantBatch := map[string]int{"h1": 1, "h2": 2, "h3": 2, "h4": 3, "h5": 3}[h.Name]
		if h.Status != report.StatusOK || h.RebootBatch != wantBatch || h.Rebooted != (h.Name != "h2") {
			t.Errorf("%s: status %s batch %d (want %d) rebooted %v: %s", h.Name, h.Status, h.RebootBatch, wantBatch, h.Rebooted, h.Error)
		}
	}
}

func TestWithoutRollingInstallsAreNotGated(t *testing.T) {
	f := rebootFleet(t, 4)
	plan := fastPlan(report.CmdPatch, f)
	plan.Forks = 8
	plan.Batches = Batches{{N: 1}, {N: 50, Percent: true}}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)
	canaryReboot := rec.firstIndex(phaseOf(report.PhaseRebooting, "h1"))
	for _, h := range []string{"h2", "h3", "h4"} {
		if i := rec.firstIndex(phaseOf(report.PhaseInstalling, h)); i < 0 || i > canaryReboot {
			t.Errorf("%s installed at event %d, after the canary's reboot (%d): installs are parallel without --rolling", h, i, canaryReboot)
		}
	}
}

func TestRollingCanaryFailureLeavesOthersUntouched(t *testing.T) {
	f := rebootFleet(t, 4)
	f.hosts["h1"].installErr = patch.ErrCommandFailed
	plan := fastPlan(report.CmdPatch, f)
	plan.Rolling = true
	plan.Batches = Batches{{N: 1}, {N: 50, Percent: true}}
	plan.MaxFailures = Budget{N: 0}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)
	if !rep.Halted || rep.HaltedBy != report.HaltFailures {
		t.Errorf("halted %v by %q", rep.Halted, rep.HaltedBy)
	}
	for _, name := range []string{"h2", "h3", "h4"} {
		h := byName(rep)[name]
		if h.Status != report.StatusSkipped || !strings.HasPrefix(h.Error, "not started: failure budget spent") {
			t.Errorf("%s: status %s error %q", name, h.Status, h.Error)
		}
		if n := f.host(name).dials; n != 0 {
			t.Errorf("%s was contacted %d times after the canary failed", name, n)
		}
	}
	if halts := rec.kinds(EventHalt); len(halts) != 1 || !strings.Contains(halts[0].Detail, "batch 2 does not start: 3 hosts will not be started") {
		t.Errorf("halt events %+v", halts)
	}
}

// waveFleet is six hosts needing a reboot, in waves db (h3, h4) and web
// (h1, h5, h3: h3 stays in db); h2 and h6 form the last wave.
func waveFleet(t *testing.T) (*fakeFleet, Plan) {
	f := rebootFleet(t, 6)
	plan := fastPlan(report.CmdPatch, f)
	plan.Forks = 8
	plan.Waves = []Wave{{Name: "db", Hosts: []string{"h3", "h4"}}, {Name: "web", Hosts: []string{"h1", "h5", "h3"}}}
	return f, plan
}

func TestWavesRunInOrder(t *testing.T) {
	waves := [][]string{{"h3", "h4"}, {"h1", "h5"}, {"h2", "h6"}}
	for _, tc := range []struct {
		cmd     report.Command
		rolling bool
	}{{report.CmdPatch, false}, {report.CmdPatch, true}, {report.CmdReboot, false}} {
		rolling := tc.rolling
		t.Run(fmt.Sprintf("%s rolling=%v", tc.cmd, rolling), func(t *testing.T) {
			f, plan := waveFleet(t)
			plan.Command = tc.cmd
			plan.Rolling = rolling
			plan.Batches = Batches{{N: 1}, {N: 50, Percent: true}}
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			checkEvents(t, rep, rec)

			for i := 0; i+1 < len(waves); i++ {
				done := rec.lastIndex(endOf(waves[i]...))
				next := rec.firstIndex(phaseOf(report.PhaseConnecting, waves[i+1]...))
				if next < done {
					t.Errorf("wave %d started (event %d) before wave %d ended (event %d)", i+2, next, i+1, done)
				}
			}
			starts := rec.kinds(EventWaveStart)
			if len(starts) != 3 || starts[0].Detail != "db: 2 hosts" || starts[2].Wave != 3 || len(rec.kinds(EventWaveEnd)) != 3 {
				t.Errorf("wave events %+v", starts)
			}
			for _, h := range rep.Hosts {
				want := 1 + slices.IndexFunc(waves, func(w []string) bool { return slices.Contains(w, h.Name) })
				if h.Wave != want || h.Status != report.StatusOK || !h.Rebooted {
					t.Errorf("%s: wave %d, want %d; status %s %s", h.Name, h.Wave, want, h.Status, h.Error)
				}
			}
			// Batches are numbered across the run, each within one wave.
			groups := rec.groupsOf()
			for b := 1; b <= len(groups); b++ {
				if groups[b] == nil {
					t.Fatalf("batches %v not numbered 1..n", groups)
				}
			}
			if rolling {
				checkGated(t, rec, groups)
				if fmt.Sprint(groups[1]) != "[h3]" {
					t.Errorf("the run's canary is %v, want the first host of the first wave", groups[1])
				}
			}
		})
	}
}

func TestBudgetSpentInAWaveStopsLaterWaves(t *testing.T) {
	f, plan := waveFleet(t)
	f.hosts["h4"].installErr = patch.ErrCommandFailed
	plan.MaxFailures = Budget{N: 0}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)
	m := byName(rep)
	// h3 installed beside h4 (no --rolling); its reboot batch is not started.
	if h3 := m["h3"]; h3.Status != report.StatusSkipped || !strings.HasPrefix(h3.Error, "reboot skipped: failure budget spent") ||
		m["h4"].Status != report.StatusFailed || !rep.Halted {
		t.Errorf("wave 1: h3 %s %q, h4 %s, halted %v", h3.Status, h3.Error, m["h4"].Status, rep.Halted)
	}
	for _, name := range []string{"h1", "h2", "h5", "h6"} {
		if m[name].Status != report.StatusSkipped || f.host(name).dials != 0 {
			t.Errorf("%s: status %s, %d dials: no later wave may start once the budget is spent", name, m[name].Status, f.host(name).dials)
		}
	}
	if n := len(rec.kinds(EventWaveStart)); n != 1 {
		t.Errorf("%d waves started", n)
	}
}

func TestWindowClosesBetweenBatches(t *testing.T) {
	for _, rolling := range []bool{false, true} {
		t.Run(fmt.Sprintf("rolling=%v", rolling), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := rebootFleet(t, 3)
				f.hosts["h1"].downDials = 0
				f.hosts["h1"].downFor = 10 * time.Minute // the canary's reboot outlasts the window
				plan := realTimePlan(report.CmdPatch, f)
				plan.Rolling = rolling
				plan.RebootTimeout = time.Hour
				plan.Batches = Batches{{N: 1}, {N: 100, Percent: true}}
				plan.WindowEnd = time.Now().Add(5 * time.Minute)
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				checkEvents(t, rep, rec)

				m := byName(rep)
				if h := m["h1"]; h.Status != report.StatusOK || !h.Rebooted {
					t.Errorf("h1 was in flight and must finish: %s %s", h.Status, h.Error)
				}
				if !rep.WindowClosed || len(rec.kinds(EventWindowClosed)) != 1 || rep.Halted {
					t.Errorf("window closed %v, %d events, halted %v", rep.WindowClosed, len(rec.kinds(EventWindowClosed)), rep.Halted)
				}
				for _, name := range []string{"h2", "h3"} {
					h := m[name]
					if h.Status != report.StatusSkipped || h.ErrorKind != ErrorKindWindowClosed || f.host(name).reboots != 0 {
						t.Errorf("%s: %s %q %q, %d reboots", name, h.Status, h.ErrorKind, h.Error, f.host(name).reboots)
					}
					installed := len(h.Updates) > 0 && h.Updates[0].Installed
					if installed == rolling { // without rolling every host installed at the start
						t.Errorf("%s: installed %v with rolling %v: %q", name, installed, rolling, h.Error)
					}
					if rolling && f.host(name).dials != 0 {
						t.Errorf("%s contacted after the window closed", name)
					}
				}
			})
		})
	}
}

func TestWindowClosedStopsLaterWavesAndInstalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, plan := waveFleet(t)
		for _, h := range f.hosts {
			h.downDials = 0
		}
		f.hosts["h3"].downFor = 10 * time.Minute
		plan.ConnectTimeout, plan.StepTimeout, plan.Timing = 0, 0, Timing{}
		plan.RebootTimeout = time.Hour
		plan.Batches = Batches{{N: 100, Percent: true}}
		plan.WindowEnd = time.Now().Add(5 * time.Minute)
		rep, rec := runPlan(t, context.Background(), plan, f, nil)
		checkEvents(t, rep, rec)
		m := byName(rep)
		if m["h3"].Status != report.StatusOK || m["h4"].Status != report.StatusOK {
			t.Errorf("wave 1 in flight must finish: %s, %s", m["h3"].Status, m["h4"].Status)
		}
		for _, name := range []string{"h1", "h2", "h5", "h6"} {
			if h := m[name]; h.ErrorKind != ErrorKindWindowClosed || f.host(name).dials != 0 {
				t.Errorf("%s: %s %q, %d dials", name, h.Status, h.ErrorKind, f.host(name).dials)
			}
		}
		if n := len(rec.kinds(EventWaveStart)); n != 1 {
			t.Errorf("%d waves started after the window closed", n)
		}
	})
}

func TestWindowClosedBeforeInstall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := rebootFleet(t, 1)
		gate := make(chan struct{})
		f.hosts["h1"].scanGate = gate
		plan := realTimePlan(report.CmdPatch, f)
		plan.WindowEnd = time.Now().Add(time.Minute)
		go func() {
			time.Sleep(2 * time.Minute) // the scan outlasts the window
			close(gate)
		}()
		rep, _ := runPlan(t, context.Background(), plan, f, nil)
		h := rep.Hosts[0]
		if h.Status != report.StatusSkipped || h.ErrorKind != ErrorKindWindowClosed || f.host("h1").installs != 0 {
			t.Errorf("h1: %s %q %q, %d installs", h.Status, h.ErrorKind, h.Error, f.host("h1").installs)
		}
	})
}

func TestWindowInThePastIsRefused(t *testing.T) {
	f := rebootFleet(t, 1)
	plan := fastPlan(report.CmdPatch, f)
	plan.WindowEnd = time.Now().Add(-time.Minute)
	_, err := Run(context.Background(), plan, f.deps())
	if err == nil || !strings.Contains(err.Error(), "window end") || f.host("h1").dials != 0 {
		t.Errorf("err %v, %d dials", err, f.host("h1").dials)
	}
}

func TestResumeRollingWavesGoesOn(t *testing.T) {
	f, plan := waveFleet(t)
	plan.Rolling = true
	plan.Batches = Batches{{N: 1}, {N: 1}, {N: 2}}
	ended := func(name string, batch, wave int) ResumedHost {
		return ResumedHost{Ended: &report.HostResult{Name: name, Status: report.StatusOK, Rebooted: true, RebootBatch: batch, Wave: wave}}
	}
	// Wave 1 (h3, h4) ended in batches 1 and 2; wave 2's h1 was installing
	// in batch 3 when the run was killed.
	plan.Resume = &ResumeState{Batches: 3, Hosts: map[string]ResumedHost{
		"h3": ended("h3", 1, 1), "h4": ended("h4", 2, 1),
		"h1": {Checkpoint: Checkpoint{Host: "h1", Phase: report.PhaseInstalling, Round: 1, Batch: 3, Wave: 2}},
	}}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	if f.host("h3").dials+f.host("h4").dials != 0 {
		t.Errorf("hosts of the finished wave contacted again")
	}
	starts := rec.kinds(EventWaveStart)
	if len(starts) != 2 || starts[0].Wave != 2 || starts[1].Wave != 3 {
		t.Errorf("wave starts %+v, want waves 2 and 3", starts)
	}
	// The ramp goes on at step 4 (2 hosts): h1, h5 in batch 4, then h2, h6.
	want := map[int][]string{4: {"h1", "h5"}, 5: {"h2", "h6"}}
	if got := rec.groupsOf(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches %v, want %v", got, want)
	}
	for _, h := range rep.Hosts {
		if h.Status != report.StatusOK {
			t.Errorf("%s: %s %s", h.Name, h.Status, h.Error)
		}
	}
}

// Every checkpoint carries the host's wave and, in a rolling run, its
// batch from its first phase on: a resume reads both from the journal.
func TestRollingCheckpointsCarryWaveAndBatch(t *testing.T) {
	f, plan := waveFleet(t)
	plan.Rolling = true
	j := &memJournal{}
	deps := f.deps()
	deps.Journal = j
	if _, err := Run(context.Background(), plan, deps); err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string][2]int{"h3": {1, 1}, "h4": {1, 2}, "h1": {2, 3}, "h6": {3, 6}} {
		cps := j.of(host)
		if len(cps) == 0 {
			t.Fatalf("%s: no checkpoints", host)
		}
		for _, cp := range cps {
			if cp.Wave != want[0] || cp.Batch != want[1] {
				t.Errorf("%s: checkpoint %s has wave %d batch %d, want %d and %d", host, cp.Phase, cp.Wave, cp.Batch, want[0], want[1])
			}
		}
	}
}
