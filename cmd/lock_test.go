package cmd

import (
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/report"
)

var otherRun = lease.Holder{RunID: "20261205T010000Z-beef", Controller: "ci-runner-3", User: "deploy", PID: 4242}

func TestLockFlagsReachThePlan(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 2})
	for _, args := range [][]string{
		{"patch", "-i", inv, "--wait-lock", "5m", "--lock-ttl", "2h"},
		{"reboot", "-i", inv, "--wait-lock", "5m", "--lock-ttl", "2h"},
		{"exec", "-i", inv, "--wait-lock", "5m", "--lock-ttl", "2h", "--", "uptime"},
	} {
		got, r := parseCLI(t, nil, args...)
		if r.code != ExitOK || got == nil {
			t.Fatalf("%q: exit %d: %s", args, r.code, r.stderr)
		}
		if got.plan.Lock.Wait != 5*time.Minute || got.plan.Lock.TTL != 2*time.Hour {
			t.Errorf("%s: lock %+v", args[0], got.plan.Lock)
		}
	}
	got, _ := parseCLI(t, nil, "patch", "-i", inv)
	if got.plan.Lock.TTL != 30*time.Minute || got.plan.Lock.Wait != 0 {
		t.Errorf("defaults: %+v, want a 30m TTL and no wait", got.plan.Lock)
	}
	if _, r := parseCLI(t, nil, "scan", "-i", inv, "--wait-lock", "1m"); r.code != ExitCantStart || !strings.Contains(r.stderr, "unknown flag: --wait-lock") {
		t.Errorf("scan takes no lock, so no --wait-lock: exit %d %q", r.code, r.stderr)
	}
}

func TestBadLockFlagsAreRefusedNamingTheFlag(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 1})
	for _, tt := range []struct{ args, want string }{
		{"patch --wait-lock -1m", "--wait-lock -1m0s: must not be negative"},
		{"reboot --lock-ttl -5m", "--lock-ttl -5m0s: must not be negative"},
		{"exec --lock-ttl 10s -- true", "--lock-ttl 10s: must be at least 1m"},
	} {
		args := strings.Fields(tt.args)
		args = append([]string{args[0], "-i", inv}, args[1:]...)
		got, r := parseCLI(t, nil, args...)
		if got != nil || r.code != ExitCantStart || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, want exit 1 saying %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// A host another run holds is skipped with error kind locked, its holder
// named; the others are patched and their leases released.
func TestPatchSkipsAHostLockedByAnotherRun(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 3})
	locked := fl.Hosts()[1].Name
	fl.Host(locked).Lock().Hold(otherRun)
	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--reboot", "never")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	for _, h := range rep.Hosts {
		sim := fl.Host(h.Name)
		if h.Name == locked {
			if h.Status != report.StatusSkipped || h.ErrorKind != "locked" ||
				!strings.Contains(h.Error, "locked by run 20261205T010000Z-beef (controller ci-runner-3, user deploy, pid 4242, since ") {
				t.Errorf("%s: %s/%s %q, want skipped/locked naming the holder", h.Name, h.Status, h.ErrorKind, h.Error)
			}
			if len(sim.Pending()) == 0 {
				t.Errorf("%s: the locked host was patched", h.Name)
			}
			continue
		}
		if h.Status != report.StatusOK || len(sim.Pending()) != 0 {
			t.Errorf("%s: %s %q, %d pending", h.Name, h.Status, h.Error, len(sim.Pending()))
		}
		if holder, held := sim.Lock().Holder(); held {
			t.Errorf("%s: lease of %s left behind", h.Name, holder.RunID)
		}
	}
}

func TestUnlockRemovesOnlyAStaleLeaseUnlessForced(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 3})
	hosts := fl.Hosts()
	stale, live, free := hosts[0].Name, hosts[1].Name, hosts[2].Name
	old := otherRun
	old.Renewed = time.Now().Add(-2 * time.Hour)
	fl.Host(stale).Lock().Hold(old)
	fl.Host(live).Lock().Hold(otherRun)

	r := runCLI(t, nil, "unlock", "-i", inv, stale, live, free)
	if r.code != ExitHostsFailed {
		t.Fatalf("exit %d, want 2 (a live lease was kept): %s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		stale + ": removed the lease of run 20261205T010000Z-beef (controller ci-runner-3, user deploy, pid 4242",
		live + ": not unlocked: the lease of run 20261205T010000Z-beef",
		"--force removes it",
		free + ": no lease",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if _, held := fl.Host(stale).Lock().Holder(); held {
		t.Error("the stale lease is still there")
	}
	if _, held := fl.Host(live).Lock().Holder(); !held {
		t.Error("the live lease was removed without --force")
	}
	r = runCLI(t, nil, "unlock", "-i", inv, "--force", live)
	if r.code != ExitOK || !strings.Contains(r.stdout, live+": removed the lease of run 20261205T010000Z-beef") {
		t.Fatalf("--force: exit %d %q", r.code, r.stdout)
	}
	if _, held := fl.Host(live).Lock().Holder(); held {
		t.Error("--force left the live lease")
	}
	if r := runCLI(t, nil, "unlock", "-i", inv); r.code != ExitCantStart || !strings.Contains(r.stderr, "no host given") {
		t.Errorf("no host: exit %d %q", r.code, r.stderr)
	}
}
