package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// killedAt sets up one host as an earlier run left it when the process was
// killed in a given phase: the host's real state (in the fake fleet) and
// the last checkpoint that run made durable.
type killedAt struct {
	name  string
	host  func(h *fakeHost) // the host's state at the kill
	cp    func(now time.Time) *Checkpoint
	ended *report.HostResult
	// what the resumed run must do
	installs int // Install calls on the host in the resumed run
	status   report.Status
	batch    int // RebootBatch in the final result, 0 = any
}

var kernel = upd("kernel", true, true)

// installedKernel is a host whose kernel update went in and wants a reboot.
func installedKernel(h *fakeHost) {
	h.pending = nil
	h.installedNames = []string{"kernel"}
	h.factsReboot = true // newFleet turns it into the reboot flag
}

// rebootSent is a host whose reboot command ran: its connection died, and
// it is going down.
func rebootSent(h *fakeHost) {
	installedKernel(h)
	h.reboots = 1
	h.gen++
	h.afterReboot = 1
}

func TestResumeAfterKillAtEachPhase(t *testing.T) {
	cpAt := func(p report.Phase, mod func(*Checkpoint)) func(time.Time) *Checkpoint {
		return func(now time.Time) *Checkpoint {
			cp := &Checkpoint{Phase: p, Selected: []patch.Update{kernel}}
			if mod != nil {
				mod(cp)
			}
			return cp
		}
	}
	beforeReboot := func(at time.Duration) func(*Checkpoint) {
		return func(cp *Checkpoint) {
			cp.Round, cp.Batch, cp.Installed = 1, 2, []patch.Update{kernel}
			cp.BootIDBefore = "k-boot-0"
			cp.RebootAt = time.Now().Add(-at)
		}
	}
	cases := []killedAt{
		{name: "not started", host: func(*fakeHost) {}, cp: func(time.Time) *Checkpoint { return nil },
			installs: 1, status: report.StatusOK, batch: 3},
		{name: "connecting", host: func(*fakeHost) {}, cp: cpAt(report.PhaseConnecting, nil),
			installs: 1, status: report.StatusOK, batch: 3},
		{name: "scanning", host: func(*fakeHost) {}, cp: cpAt(report.PhaseScanning, nil),
			installs: 1, status: report.StatusOK, batch: 3},
		{name: "installing, before the install ran", host: func(*fakeHost) {},
			cp:       cpAt(report.PhaseInstalling, func(cp *Checkpoint) { cp.Round = 1 }),
			installs: 1, status: report.StatusOK, batch: 3},
		{name: "installing, the install finished unseen", host: installedKernel,
			cp:       cpAt(report.PhaseInstalling, func(cp *Checkpoint) { cp.Round = 1 }),
			installs: 0, status: report.StatusOK, batch: 3},
		{name: "awaiting its batch", host: installedKernel,
			cp: cpAt(report.PhaseAwaitBatch, func(cp *Checkpoint) {
				cp.Round, cp.Installed = 1, []patch.Update{kernel}
			}),
			installs: 0, status: report.StatusOK, batch: 3},
		{name: "rebooting, boot id not read yet", host: installedKernel,
			cp: cpAt(report.PhaseRebooting, func(cp *Checkpoint) {
				cp.Round, cp.Batch, cp.Installed = 1, 2, []patch.Update{kernel}
			}),
			installs: 0, status: report.StatusOK, batch: 3},
		{name: "rebooting, boot id read, command never sent", host: installedKernel,
			cp:       cpAt(report.PhaseRebooting, beforeReboot(time.Hour)),
			installs: 0, status: report.StatusOK, batch: 3},
		{name: "rebooting, command never sent, killed just now (grace)", host: installedKernel,
			cp:       cpAt(report.PhaseRebooting, beforeReboot(0)),
			installs: 0, status: report.StatusOK, batch: 3},
		{name: "rebooting, command sent, reboot still scheduled",
			host: func(h *fakeHost) {
				rebootSent(h)
				h.sameLeft = 2 // it goes down a few polls later
				h.downLeft = 2
			},
			cp:       cpAt(report.PhaseRebooting, beforeReboot(0)),
			installs: 0, status: report.StatusOK, batch: 2},
		{name: "waiting-down, host down",
			host:     func(h *fakeHost) { rebootSent(h); h.downLeft = 5 },
			cp:       cpAt(report.PhaseWaitingDown, beforeReboot(time.Minute)),
			installs: 0, status: report.StatusOK, batch: 2},
		{name: "waiting-up, host already back",
			host:     func(h *fakeHost) { rebootSent(h) },
			cp:       cpAt(report.PhaseWaitingUp, beforeReboot(time.Hour)),
			installs: 0, status: report.StatusOK, batch: 2},
		{name: "verifying",
			host: func(h *fakeHost) {
				rebootSent(h)
				h.afterReboot, h.boot, h.factsReboot = 0, 1, false
			},
			cp: cpAt(report.PhaseVerifying, func(cp *Checkpoint) {
				beforeReboot(time.Hour)(cp)
				cp.Reboots = 1
			}),
			installs: 0, status: report.StatusOK, batch: 2},
		{name: "ended ok", host: func(h *fakeHost) { rebootSent(h); h.afterReboot, h.boot, h.factsReboot = 0, 1, false },
			cp:     func(time.Time) *Checkpoint { return nil },
			ended:  &report.HostResult{Name: "k", Status: report.StatusOK, Rebooted: true, RebootBatch: 1, Rounds: 1},
			status: report.StatusOK, batch: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// k is the host the kill hit; "fresh" never started, "done"
				// ended in batch 1, so this run's batches start at 3.
				k := &fakeHost{name: "k", pending: []patch.Update{kernel}}
				tc.host(k)
				fresh := &fakeHost{name: "fresh", pending: []patch.Update{kernel}}
				done := &fakeHost{name: "done", boot: 1, reboots: 1, installedNames: []string{"kernel"}}
				f := newFleet(t, done, k, fresh)
				rebootsBefore, bootsBefore := k.reboots, k.boot

				plan := realTimePlan(report.CmdPatch, f)
				plan.Forks = 1
				plan.Batches = Batches{{N: 1}}
				rs := &ResumeState{Batches: 2, Hosts: map[string]ResumedHost{
					"done": {Ended: &report.HostResult{Name: "done", Status: report.StatusOK, Rebooted: true, RebootBatch: 1}},
				}}
				if cp := tc.cp(time.Now()); cp != nil {
					cp.Host = "k"
					rs.Hosts["k"] = ResumedHost{Checkpoint: *cp}
				}
				if tc.ended != nil {
					rs.Hosts["k"] = ResumedHost{Ended: tc.ended}
				}
				plan.Resume = rs
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				m := byName(rep)

				if len(rep.Hosts) != 3 || rep.Summary.OK != 3 {
					t.Errorf("report: %d hosts, summary %+v", len(rep.Hosts), rep.Summary)
				}
				if f.host("done").dials != 0 || rec.ended["done"] != 0 {
					t.Errorf("a host that ended in the earlier run was contacted again (%d dials)", f.host("done").dials)
				}
				r := m["k"]
				if r.Status != tc.status {
					t.Fatalf("k: status %s (%s), want %s", r.Status, r.Error, tc.status)
				}
				if got := f.host("k").installs; got != tc.installs {
					t.Errorf("k: %d installs in the resumed run, want %d", got, tc.installs)
				}
				// Exactly one reboot in both runs together.
				kh := f.host("k")
				if kh.reboots != 1 || kh.boot != 1 {
					t.Errorf("k: %d reboot commands and %d boots over both runs (earlier run: %d, %d), want 1 and 1",
						kh.reboots, kh.boot, rebootsBefore, bootsBefore)
				}
				if !r.Rebooted || (tc.batch != 0 && r.RebootBatch != tc.batch) {
					t.Errorf("k: rebooted %v batch %d, want batch %d", r.Rebooted, r.RebootBatch, tc.batch)
				}
				if tc.ended == nil && f.host("k").dials == 0 {
					t.Error("k was not contacted")
				}
				if tc.ended != nil && (f.host("k").dials != 0 || r.RebootBatch != 1) {
					t.Errorf("ended k: %d dials, result %+v", f.host("k").dials, r)
				}
				fr := m["fresh"]
				if fr.Status != report.StatusOK || !fr.Rebooted || f.host("fresh").installs != 1 || fr.RebootBatch < 3 {
					t.Errorf("fresh: status %s rebooted %v installs %d batch %d: %s",
						fr.Status, fr.Rebooted, f.host("fresh").installs, fr.RebootBatch, fr.Error)
				}
				for _, e := range rec.kinds(EventBatch) {
					if e.Batch <= 2 {
						t.Errorf("the resumed run started batch %d again", e.Batch)
					}
				}
			})
		})
	}
}

// A host the earlier run left rebooting whose old boot id is still there
// right after the kill is not rebooted again until the grace period has
// passed: the reboot it was sent may be scheduled a few seconds ahead.
func TestResumeWaitsOutTheGraceBeforeRebootingAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := &fakeHost{name: "k"}
		installedKernel(k)
		f := newFleet(t, k)
		plan := realTimePlan(report.CmdPatch, f)
		start := time.Now()
		plan.Resume = &ResumeState{Batches: 1, Hosts: map[string]ResumedHost{"k": {Checkpoint: Checkpoint{
			Host: "k", Phase: report.PhaseRebooting, Batch: 1, Round: 1,
			BootIDBefore: "k-boot-0", RebootAt: start.Add(-10 * time.Second),
		}}}}
		var rebootAt time.Time
		var mu sync.Mutex
		rec := newRecorder(t)
		deps := f.deps()
		deps.Observer = ObserverFunc(func(e Event) {
			rec.Event(e)
			mu.Lock()
			defer mu.Unlock()
			if e.Kind == EventPhase && e.Phase == report.PhaseRebooting && rebootAt.IsZero() {
				rebootAt = time.Now()
			}
		})
		rep, err := Run(context.Background(), plan, deps)
		if err != nil {
			t.Fatal(err)
		}
		if h := rep.Hosts[0]; h.Status != report.StatusOK || !h.Rebooted || h.RebootBatch != 2 {
			t.Fatalf("status %s rebooted %v batch %d: %s", h.Status, h.Rebooted, h.RebootBatch, h.Error)
		}
		if waited := rebootAt.Sub(start); waited < resumeRebootGrace-10*time.Second {
			t.Errorf("rebooted %s after the resume started, want the grace (%s since the boot id read) waited out", waited, resumeRebootGrace)
		}
		if k := f.host("k"); k.reboots != 1 {
			t.Errorf("%d reboots", k.reboots)
		}
	})
}

// Hosts that failed in the earlier run spend the failure budget of the
// resumed one; a host removed from the inventory is skipped with the reason.
func TestResumeSharesTheFailureBudgetAndSkipsRemovedHosts(t *testing.T) {
	f := rebootFleet(t, 3)
	plan := fastPlan(report.CmdPatch, f)
	plan.MaxFailures = Budget{N: 0}
	plan.Resume = &ResumeState{Batches: 1, Hosts: map[string]ResumedHost{
		"h1": {Ended: &report.HostResult{Name: "h1", Status: report.StatusFailed, Error: "reboot: boom", ErrorKind: "reboot-timeout", RebootBatch: 1}},
		"h3": {Skip: "no longer in the inventory"},
	}}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	m := byName(rep)
	if !rep.Halted || len(rec.kinds(EventHalt)) != 1 {
		t.Errorf("halted %v: the earlier run's failure must spend the budget", rep.Halted)
	}
	if h := m["h2"]; h.Status != report.StatusSkipped || f.host("h2").reboots != 0 || !strings.Contains(h.Error, "failure budget spent") {
		t.Errorf("h2: status %s reboots %d: %s", h.Status, f.host("h2").reboots, h.Error)
	}
	if h := m["h1"]; h.Status != report.StatusFailed || h.Error != "reboot: boom" || f.host("h1").dials != 0 {
		t.Errorf("h1 (failed before): %+v, %d dials", h, f.host("h1").dials)
	}
	if h := m["h3"]; h.Status != report.StatusSkipped || h.Error != "no longer in the inventory" || f.host("h3").dials != 0 {
		t.Errorf("h3 (removed): status %s error %q dials %d", h.Status, h.Error, f.host("h3").dials)
	}
	if rep.Summary.Failed != 1 || rep.Summary.Skipped != 2 {
		t.Errorf("summary %+v", rep.Summary)
	}
	if n := plan.Resume.Ended(); n != 1 || len(rec.kinds(EventHostEnd)) != 2 {
		t.Errorf("%d hosts ended before, %d host ends in this run; want 1 and 2 (progress counts them)", n, len(rec.kinds(EventHostEnd)))
	}
}

func TestEndedForGood(t *testing.T) {
	for _, tc := range []struct {
		res  report.HostResult
		want bool
	}{
		{report.HostResult{Status: report.StatusOK}, true},
		{report.HostResult{Status: report.StatusFailed, ErrorKind: "reboot-timeout", Error: "x"}, true},
		{report.HostResult{Status: report.StatusSkipped, Error: "reboot skipped: failure budget spent"}, true},
		{report.HostResult{Status: report.StatusSkipped, Error: "interrupted before start"}, false},
		{report.HostResult{Status: report.StatusSkipped, Error: "interrupted: reboot not started"}, false},
		{report.HostResult{Status: report.StatusFailed, ErrorKind: "interrupted", Error: "interrupted during installing"}, false},
	} {
		if got := EndedForGood(tc.res); got != tc.want {
			t.Errorf("%s %q: ended for good %v, want %v", tc.res.Status, tc.res.Error, got, tc.want)
		}
	}
}

// killJournal records checkpoints and, at each, a copy of the fake host as
// it is at that instant: what a process killed right after making that
// checkpoint durable leaves behind.
type killJournal struct {
	memJournal
	f     *fakeFleet
	kills []killPoint
}

type killPoint struct {
	cp   Checkpoint
	host fakeHost
}

func (j *killJournal) Checkpoint(c Checkpoint) error {
	var h fakeHost
	j.f.snapshot(func() {
		h = *j.f.hosts[c.Host]
		h.pending = slices.Clone(h.pending)
		h.waves = slices.Clone(h.waves)
		h.installedNames = slices.Clone(h.installedNames)
	})
	j.mu.Lock()
	j.kills = append(j.kills, killPoint{cp: c, host: h})
	j.mu.Unlock()
	return j.memJournal.Checkpoint(c)
}

// A two-round host is killed right after each checkpoint a real run makes;
// the resumed run finishes it, and both runs together install and reboot
// it exactly as often as one uninterrupted run.
func TestResumeFromEveryCheckpointOfARealRun(t *testing.T) {
	twoRounds := func() *fakeHost {
		return &fakeHost{name: "k", pending: []patch.Update{kernel},
			waves: [][]patch.Update{{upd("servicing-stack", true, true)}}, downDials: 1}
	}
	var kills []killPoint
	var wantInstalls, wantReboots int
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t, twoRounds())
		j := &killJournal{f: f}
		deps := f.deps()
		deps.Journal = j
		rep, err := Run(context.Background(), realTimePlan(report.CmdPatch, f), deps)
		if err != nil || rep.Hosts[0].Status != report.StatusOK {
			t.Fatalf("uninterrupted run: %v %+v", err, rep.Hosts)
		}
		kills = j.kills
		wantInstalls, wantReboots = f.host("k").installs, f.host("k").reboots
	})
	if wantInstalls != 2 || wantReboots != 2 || len(kills) < 10 {
		t.Fatalf("uninterrupted run: %d installs, %d reboots, %d checkpoints", wantInstalls, wantReboots, len(kills))
	}
	for i, kp := range kills {
		name := fmt.Sprintf("%02d %s round %d reboots %d before %q", i, kp.cp.Phase, kp.cp.Round, kp.cp.Reboots, kp.cp.BootIDBefore)
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := kp.host
				f := newFleet(t, &h)
				f.snapshot(func() { h.rebootReq = kp.host.rebootReq })
				plan := realTimePlan(report.CmdPatch, f)
				cp := kp.cp
				cp.RebootAt = time.Now() // killed just now
				plan.Resume = &ResumeState{Batches: cp.Batch, Hosts: map[string]ResumedHost{"k": {Checkpoint: cp}}}
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				checkEvents(t, rep, rec)
				r := rep.Hosts[0]
				k := f.host("k")
				if r.Status != report.StatusOK {
					t.Fatalf("status %s: %s", r.Status, r.Error)
				}
				if k.installs != wantInstalls || k.reboots != wantReboots || k.boot != wantReboots {
					t.Errorf("over both runs: %d installs, %d reboot commands, %d boots; want %d, %d, %d",
						k.installs, k.reboots, k.boot, wantInstalls, wantReboots, wantReboots)
				}
				if !r.Rebooted {
					t.Error("not reported rebooted")
				}
			})
		})
	}
}
