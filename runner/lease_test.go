package runner

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// otherRun is the lease another controller holds.
var otherRun = lease.Holder{RunID: "20261205T010000Z-beef", Controller: "ci-runner-3", User: "deploy", PID: 4242}

func leasedPlan(cmd report.Command, f *fakeFleet) Plan {
	p := fastPlan(cmd, f)
	p.RunID = "20261205T020000Z-abcd"
	p.Lock = LockPlan{Controller: "laptop", User: "me", PID: 7}
	return p
}

func lockedBy(h lease.Holder) *lease.Sim {
	s := &lease.Sim{}
	s.Hold(h)
	return s
}

func TestLockedHostIsSkippedNamingTheHolder(t *testing.T) {
	f := newFleet(t,
		&fakeHost{name: "a", pending: []patch.Update{upd("curl", true, false)}},
		&fakeHost{name: "b", pending: []patch.Update{upd("curl", true, false)}, lock: lockedBy(otherRun)})
	rep, _ := runPlan(t, context.Background(), leasedPlan(report.CmdPatch, f), f, nil)
	m := byName(rep)
	if a := m["a"]; a.Status != report.StatusOK || f.host("a").installs != 1 {
		t.Fatalf("a = %s %q (installs %d), want ok", a.Status, a.Error, f.host("a").installs)
	}
	b := m["b"]
	if b.Status != report.StatusSkipped || b.ErrorKind != "locked" || f.host("b").installs != 0 {
		t.Fatalf("b = %s/%s %q (installs %d), want skipped/locked, untouched", b.Status, b.ErrorKind, b.Error, f.host("b").installs)
	}
	for _, want := range []string{"locked by run 20261205T010000Z-beef", "controller ci-runner-3", "user deploy", "pid 4242", "since "} {
		if !strings.Contains(b.Error, want) {
			t.Errorf("b's error %q does not say %q", b.Error, want)
		}
	}
	if h, ok := f.host("b").lock.Holder(); !ok || h.RunID != otherRun.RunID {
		t.Errorf("the other run's lease was changed: %+v", h)
	}
	if _, held := f.host("a").lock.Holder(); held {
		t.Error("a's lease was not released at its end")
	}
	if ops := f.host("a").lock.Ops(); len(ops) != 2 || ops[0] != "acquire:acquired" || ops[1] != "release:released" {
		t.Errorf("a's lease operations = %v, want acquire then release", ops)
	}
}

func TestWaitLockWaitsForTheHolderThenProceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := lockedBy(otherRun)
		f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("curl", true, false)}, lock: sim})
		plan := leasedPlan(report.CmdPatch, f)
		plan.Lock.Wait = time.Hour
		plan.Lock.Poll = time.Minute
		go func() {
			time.Sleep(5*time.Minute + 10*time.Second)
			sim.Answer(lease.Request{Op: "release", RunID: otherRun.RunID})
		}()
		start := time.Now()
		rep, rec := runPlan(t, context.Background(), plan, f, nil)
		if a := rep.Hosts[0]; a.Status != report.StatusOK || f.host("a").installs != 1 {
			t.Fatalf("a = %s %q, want ok after the wait", a.Status, a.Error)
		}
		if took := time.Since(start); took < 5*time.Minute || took > 7*time.Minute {
			t.Errorf("took %s, want the holder's 5m10s rounded up to the next 1m poll", took)
		}
		locks := rec.kinds(EventLock)
		if len(locks) != 2 || !strings.Contains(locks[0].Detail, "waiting up to 1h0m0s for the lock held by run 20261205T010000Z-beef") ||
			locks[1].Detail != "lock taken after waiting" {
			t.Errorf("lock events = %+v", locks)
		}
	})
}

func TestWaitLockGivesUpAfterItsDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("curl", true, false)}, lock: lockedBy(otherRun)})
		plan := leasedPlan(report.CmdPatch, f)
		plan.Lock.Wait = 90 * time.Second
		plan.Lock.Poll = time.Minute
		start := time.Now()
		rep, _ := runPlan(t, context.Background(), plan, f, nil)
		a := rep.Hosts[0]
		if a.Status != report.StatusSkipped || a.ErrorKind != "locked" || !strings.Contains(a.Error, "(waited 1m30s)") {
			t.Fatalf("a = %s/%s %q, want skipped/locked after waiting 1m30s", a.Status, a.ErrorKind, a.Error)
		}
		if took := time.Since(start); took != 90*time.Second {
			t.Errorf("gave up after %s, want exactly the 1m30s asked for", took)
		}
	})
}

func TestExpiredLeaseIsTakenOverAndLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stale := otherRun
		stale.Renewed = time.Now().Add(-31 * time.Minute)
		stale.TTL = 30 * time.Minute
		f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("curl", true, false)}, lock: lockedBy(stale)})
		rep, rec := runPlan(t, context.Background(), leasedPlan(report.CmdPatch, f), f, nil)
		if a := rep.Hosts[0]; a.Status != report.StatusOK {
			t.Fatalf("a = %s %q, want ok", a.Status, a.Error)
		}
		locks := rec.kinds(EventLock)
		if len(locks) != 1 || !strings.HasPrefix(locks[0].Detail, "took over the expired lease of run 20261205T010000Z-beef (controller ci-runner-3") {
			t.Fatalf("lock events = %+v, want the takeover named", locks)
		}
	})
}

// A lease another run takes while the host reboots is noticed before
// anything else runs on the host: by the renewal after the boot, or (a
// backend whose boot id read is one command, patch.BootStater) by the
// renewal sent with that read, which then does not run.
func TestLeaseLostDuringRebootFailsTheHostLocked(t *testing.T) {
	for _, stater := range []bool{false, true} {
		f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("kernel", true, true)}, installReboot: true,
			rebootIssued: make(chan struct{}), lock: &lease.Sim{}, bootState: stater})
		go func() {
			<-f.host("a").rebootIssued
			f.host("a").lock.Hold(otherRun) // `patchrun unlock --force` and another run, while a was down
		}()
		rep, rec := runPlan(t, context.Background(), leasedPlan(report.CmdPatch, f), f, nil)
		a := rep.Hosts[0]
		if a.Status != report.StatusFailed || a.ErrorKind != "locked" || !a.Rebooted || a.BootIDAfter != bootID("a", 1) ||
			!strings.Contains(a.Error, "lost the host's lease: now held by run 20261205T010000Z-beef") {
			t.Fatalf("stater %v: a = %s/%s %q rebooted=%v (%s), want failed/locked after its reboot", stater, a.Status, a.ErrorKind, a.Error, a.Rebooted, a.BootIDAfter)
		}
		if h, _ := f.host("a").lock.Holder(); h.RunID != otherRun.RunID {
			t.Errorf("stater %v: the other run's lease was released by us: %+v", stater, h)
		}
		rebooting := false
		for _, e := range rec.events {
			rebooting = rebooting || e.Kind == EventPhase && e.Phase == report.PhaseRebooting
			// The readiness probe reads, it changes nothing; the stater
			// does not get that far.
			if rebooting && e.Kind == EventLog && (strings.HasPrefix(e.Detail, "scan") || stater && strings.HasPrefix(e.Detail, "readiness probe")) {
				t.Errorf("stater %v: %q ran after the reboot on a host whose lease was lost", stater, e.Detail)
			}
		}
	}
}

// The renewals around a reboot cost no round trip of their own on a Unix
// host whose backend checks the boot in its reboot command and reads the
// boot id in one command: they are sent with those commands.
func TestLeaseRenewedWithTheBootIDReadAfterAReboot(t *testing.T) {
	for _, stater := range []bool{false, true} {
		f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("kernel", true, true)}, installReboot: true,
			lock: &lease.Sim{}, bootState: stater})
		rep, rec := runPlan(t, context.Background(), leasedPlan(report.CmdPatch, f), f, nil)
		if a := rep.Hosts[0]; a.Status != report.StatusOK || !a.Rebooted {
			t.Fatalf("stater %v: a = %s %q rebooted=%v", stater, a.Status, a.Error, a.Rebooted)
		}
		renewSteps := 0
		for _, e := range rec.kinds(EventLog) {
			if strings.HasPrefix(e.Detail, "lock renew (") {
				renewSteps++
			}
		}
		renewals := 0
		for _, op := range f.host("a").lock.Ops() {
			if op == "renew:renewed" {
				renewals++
			}
		}
		// Before the reboot and after it, each time.
		if want := map[bool]int{false: 2, true: 0}[stater]; renewSteps != want || renewals != 2 {
			t.Errorf("stater %v: %d renewals, %d of them a round trip of their own; want 2, %d", stater, renewals, renewSteps, want)
		}
	}
}

func TestLongInstallRenewsItsLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("curl", true, false)}, installGate: gate, lock: &lease.Sim{}})
		plan := leasedPlan(report.CmdPatch, f)
		plan.StepTimeout = 2 * time.Hour
		plan.Lock.TTL = 30 * time.Minute
		go func() {
			time.Sleep(95 * time.Minute) // three TTLs: the lease would have expired twice over
			close(gate)
		}()
		rep, _ := runPlan(t, context.Background(), plan, f, nil)
		if a := rep.Hosts[0]; a.Status != report.StatusOK {
			t.Fatalf("a = %s %q", a.Status, a.Error)
		}
		renewals := 0
		for _, op := range f.host("a").lock.Ops() {
			if op == "renew:renewed" {
				renewals++
			}
		}
		if renewals < 9 { // every 10 minutes for 95 minutes
			t.Errorf("%d renewals during a 95m install with a 30m TTL; ops %v", renewals, f.host("a").lock.Ops())
		}
	})
}

func TestNoLeaseWithoutRunIDOrForReadOnlyRuns(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*Plan)
	}{
		{"no run id", func(p *Plan) { p.RunID = "" }},
		{"scan", func(p *Plan) { p.Command = report.CmdScan }},
		{"dry run", func(p *Plan) { p.DryRun = true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("curl", true, false)}, lock: lockedBy(otherRun)})
			plan := leasedPlan(report.CmdPatch, f)
			tt.edit(&plan)
			rep, _ := runPlan(t, context.Background(), plan, f, nil)
			if a := rep.Hosts[0]; a.Status != report.StatusOK {
				t.Fatalf("a = %s %q, want ok: this run takes no lease", a.Status, a.Error)
			}
			if ops := f.host("a").lock.Ops(); len(ops) != 0 {
				t.Errorf("lease operations %v, want none", ops)
			}
		})
	}
}

func TestHostBeingChangedByAnotherControllerCountsAsLocked(t *testing.T) {
	sim := lockedBy(otherRun)
	sim.SetGuard(true) // another controller is mid-takeover
	f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("curl", true, false)}, lock: sim})
	plan := leasedPlan(report.CmdExec, f)
	plan.ExecCommand = "systemctl restart app"
	rep, _ := runPlan(t, context.Background(), plan, f, nil)
	if a := rep.Hosts[0]; a.Status != report.StatusSkipped || a.ErrorKind != "locked" || !strings.Contains(a.Error, otherRun.RunID) || a.Exec != nil {
		t.Fatalf("a = %s/%s %q, want skipped/locked", a.Status, a.ErrorKind, a.Error)
	}
}

func TestLeaseOfAHostThatNeverCameBackIsReportedNotReleased(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("kernel", true, true)}, installReboot: true, neverBack: true, lock: &lease.Sim{}})
	plan := leasedPlan(report.CmdPatch, f)
	plan.Lock.TTL = 45 * time.Minute
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	if a := rep.Hosts[0]; a.ErrorKind != "reboot-timeout" {
		t.Fatalf("a = %s/%s %q", a.Status, a.ErrorKind, a.Error)
	}
	locks := rec.kinds(EventLock)
	if len(locks) != 1 || locks[0].Detail != "lease not released (no connection): it expires 45m0s after its last renewal" {
		t.Fatalf("lock events = %+v", locks)
	}
	if h, held := f.host("a").lock.Holder(); !held || h.RunID != plan.RunID {
		t.Errorf("lease = %+v, want ours left to expire", h)
	}
}

func TestCtrlCWhileWaitingForALockSkipsTheHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("curl", true, false)}, lock: lockedBy(otherRun)})
		plan := leasedPlan(report.CmdPatch, f)
		plan.Lock.Wait = time.Hour
		stop := make(chan struct{})
		go func() {
			time.Sleep(3 * time.Minute)
			close(stop)
		}()
		start := time.Now()
		rep, _ := runPlan(t, context.Background(), plan, f, stop)
		a := rep.Hosts[0]
		if a.Status != report.StatusSkipped || !strings.HasPrefix(a.Error, "interrupted while waiting for the lock held by run "+otherRun.RunID) || !rep.Interrupted {
			t.Fatalf("a = %s %q interrupted=%v", a.Status, a.Error, rep.Interrupted)
		}
		if took := time.Since(start); took != 3*time.Minute {
			t.Errorf("stopped after %s, want at the Ctrl-C (3m)", took)
		}
	})
}

// Hosts skipped while they waited for their reboot batch (the budget was
// spent) hold no connection; their leases are still given back, so the next
// run is not blocked for a whole TTL.
func TestHostsSkippedAwaitingTheirBatchReleaseTheirLeases(t *testing.T) {
	f := newFleet(t,
		&fakeHost{name: "a", pending: []patch.Update{upd("kernel", true, true)}, installReboot: true, neverBack: true, lock: &lease.Sim{}},
		&fakeHost{name: "b", pending: []patch.Update{upd("kernel", true, true)}, installReboot: true, lock: &lease.Sim{}},
		&fakeHost{name: "c", pending: []patch.Update{upd("kernel", true, true)}, installReboot: true, lock: &lease.Sim{}})
	plan := leasedPlan(report.CmdPatch, f)
	plan.Batches = Batches{{N: 1}}
	plan.MaxFailures = Budget{} // no failure allowed
	rep, _ := runPlan(t, context.Background(), plan, f, nil)
	m := byName(rep)
	if !rep.Halted || m["a"].ErrorKind != "reboot-timeout" {
		t.Fatalf("halted %v, a = %s/%s; want a halted run after a's reboot timeout", rep.Halted, m["a"].Status, m["a"].ErrorKind)
	}
	for _, name := range []string{"b", "c"} {
		if m[name].Status != report.StatusSkipped {
			t.Fatalf("%s = %s %q, want skipped by the spent budget", name, m[name].Status, m[name].Error)
		}
		if h, held := f.host(name).lock.Holder(); held {
			t.Errorf("%s: its lease was left behind (held by run %s)", name, h.RunID)
		}
	}
	if _, held := f.host("a").lock.Holder(); !held {
		t.Error("a never came back, so its lease cannot have been released")
	}
}

// exec on a Unix host takes its lease, runs the command and releases the
// lease in one round trip; the host's output and exit code are the
// command's own.
func TestExecLeasesInTheCommandsOwnRoundTrip(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a", lock: &lease.Sim{}, runs: map[string]transport.Result{
		"systemctl restart app": {ExitCode: 0, Stdout: []byte("restarted\n")},
	}})
	plan := leasedPlan(report.CmdExec, f)
	plan.ExecCommand = "systemctl restart app"
	rep, _ := runPlan(t, context.Background(), plan, f, nil)
	a := rep.Hosts[0]
	if a.Status != report.StatusOK || a.Exec == nil || a.Exec.Stdout != "restarted\n" {
		t.Fatalf("a = %s %q exec %+v, want ok with the command's own output", a.Status, a.Error, a.Exec)
	}
	if ops := f.host("a").lock.Ops(); strings.Join(ops, " ") != "acquire:acquired release:released" {
		t.Errorf("lease operations %v, want acquired then released", ops)
	}
	if n := f.host("a").roundTrips; n != 1 {
		t.Errorf("%d round trips, want 1 (lease, command and release together)", n)
	}
}

// A host another run holds never runs the command; with --wait-lock it
// runs once the other run has let go.
func TestExecOnAHeldHost(t *testing.T) {
	t.Run("skipped", func(t *testing.T) {
		f := newFleet(t, &fakeHost{name: "a", lock: lockedBy(otherRun), runErrs: map[string]error{"reboot": errors.New("the command ran on a held host")}})
		plan := leasedPlan(report.CmdExec, f)
		plan.ExecCommand = "reboot"
		rep, _ := runPlan(t, context.Background(), plan, f, nil)
		if a := rep.Hosts[0]; a.Status != report.StatusSkipped || a.ErrorKind != "locked" || !strings.Contains(a.Error, "locked by run "+otherRun.RunID) || a.Exec != nil {
			t.Fatalf("a = %s/%s %q exec %+v, want skipped/locked naming the holder", a.Status, a.ErrorKind, a.Error, a.Exec)
		}
	})
	t.Run("waited for", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sim := lockedBy(otherRun)
			f := newFleet(t, &fakeHost{name: "a", lock: sim, runs: map[string]transport.Result{"uptime": {Stdout: []byte("up\n")}}})
			plan := leasedPlan(report.CmdExec, f)
			plan.ExecCommand = "uptime"
			plan.Lock.Wait = time.Hour
			go func() {
				time.Sleep(25 * time.Second)
				sim.Hold(lease.Holder{}) // the other run let go: an empty lease file counts as expired
			}()
			rep, _ := runPlan(t, context.Background(), plan, f, nil)
			if a := rep.Hosts[0]; a.Status != report.StatusOK || a.Exec == nil || a.Exec.Stdout != "up\n" {
				t.Fatalf("a = %s %q exec %+v, want ok once the lease was free", a.Status, a.Error, a.Exec)
			}
			if _, held := sim.Holder(); held {
				t.Error("lease still held after the run")
			}
		})
	})
}

// A command whose output fills the cap pushes the release answer out of
// what is kept: the lease is then released the usual way, not left behind.
func TestExecWithTruncatedOutputStillReleasesTheLease(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a", lock: &lease.Sim{}, runs: map[string]transport.Result{
		"yes": {Stdout: bytes.Repeat([]byte("y\n"), 20<<10)},
	}})
	plan := leasedPlan(report.CmdExec, f)
	plan.ExecCommand = "yes"
	plan.ExecMaxOutput = 100
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	if a := rep.Hosts[0]; a.Status != report.StatusOK || a.Exec == nil || !a.Exec.Truncated || len(a.Exec.Stdout) != 100 {
		t.Fatalf("a = %s %q exec %+v, want ok with 100 bytes of output, truncated", a.Status, a.Error, a.Exec)
	}
	if ops := f.host("a").lock.Ops(); strings.Join(ops, " ") != "acquire:acquired release:released release:not-held" {
		t.Errorf("lease operations %v, want the wrapped release, then one more (its answer was cut)", ops)
	}
	for _, e := range rec.kinds(EventLock) {
		t.Errorf("lock event %q: a release that finds the lease already gone after a cut answer is not news", e.Detail)
	}
	if _, held := f.host("a").lock.Holder(); held {
		t.Error("lease left behind")
	}
}

// A lease another run takes while a host waits for its reboot batch fails
// the host "locked" with no reboot scheduled: checked by a renewal of its
// own, or by the one the reboot command carries, which then does nothing.
func TestLeaseLostAwaitingTheBatchRebootsNothing(t *testing.T) {
	for _, stater := range []bool{false, true} {
		f := newFleet(t,
			&fakeHost{name: "a", pending: []patch.Update{upd("kernel", true, true)}, installReboot: true,
				rebootIssued: make(chan struct{}), lock: &lease.Sim{}, bootState: stater},
			&fakeHost{name: "b", pending: []patch.Update{upd("kernel", true, true)}, installReboot: true,
				lock: &lease.Sim{}, bootState: stater})
		go func() {
			<-f.host("a").rebootIssued
			f.host("b").lock.Hold(otherRun) // b waits for batch 2 meanwhile
		}()
		plan := leasedPlan(report.CmdPatch, f)
		plan.Batches = Batches{{N: 1}}
		rep, _ := runPlan(t, context.Background(), plan, f, nil)
		b := byName(rep)["b"]
		if b.Status != report.StatusFailed || b.ErrorKind != "locked" || b.Rebooted ||
			!strings.Contains(b.Error, "lost the host's lease: now held by run "+otherRun.RunID) {
			t.Errorf("stater %v: b = %s/%s %q rebooted=%v, want failed/locked, not rebooted", stater, b.Status, b.ErrorKind, b.Error, b.Rebooted)
		}
		f.snapshot(func() {
			if n := f.hosts["b"].reboots; n != 0 {
				t.Errorf("stater %v: b was rebooted %d times under another run's lease", stater, n)
			}
		})
		if h, _ := f.host("b").lock.Holder(); h.RunID != otherRun.RunID {
			t.Errorf("stater %v: the other run's lease was released by us: %+v", stater, h)
		}
	}
}
