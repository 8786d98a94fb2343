package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

func TestBadPlanIsRunFatal(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a"})
	good := fastPlan(report.CmdPatch, f)
	tests := []struct {
		name   string
		mutate func(*Plan, *Deps)
		want   string
	}{
		{"unknown command", func(p *Plan, _ *Deps) { p.Command = "upgrade" }, `command "upgrade": want scan, patch, reboot, exec or facts`},
		{"no hosts", func(p *Plan, _ *Deps) { p.Hosts = nil }, "no hosts"},
		{"duplicate host", func(p *Plan, _ *Deps) { p.Hosts = append(p.Hosts, p.Hosts[0]) }, `host "a" listed twice`},
		{"negative forks", func(p *Plan, _ *Deps) { p.Forks = -1 }, "forks -1: must be at least 1"},
		{"no dialer", func(_ *Plan, d *Deps) { d.Dialer = nil }, "no dialer"},
		{"no detector", func(_ *Plan, d *Deps) { d.Detect = nil }, "no backend detector"},
		{"bad pattern", func(p *Plan, _ *Deps) { p.Selection.Include = []string{"/[/"} }, "selection: pattern"},
		{"exec without command", func(p *Plan, _ *Deps) { p.Command = report.CmdExec }, "exec command: exec needs a command"},
		{"exec dry-run", func(p *Plan, _ *Deps) { p.Command, p.ExecCommand, p.DryRun = report.CmdExec, "ls", true }, "exec does not support a dry run"},
		{"bad policy", func(p *Plan, _ *Deps) { p.Reboot = "sometimes" }, `reboot policy "sometimes"`},
		{"negative batch", func(p *Plan, _ *Deps) { p.Batches = Batches{{N: -1}} }, "batch -1: want a count of 1 or more"},
		{"zero ramp step", func(p *Plan, _ *Deps) { p.Batches = Batches{{N: 1}, {N: 0}} }, "batch 0 (step 2 of 1,0): want a count of 1 or more"},
		{"unlimited batch", func(p *Plan, _ *Deps) { p.Batches = Batches{{Unlimited: true}} }, "a batch cannot be unlimited"},
		{"negative failure budget", func(p *Plan, _ *Deps) { p.MaxFailures = Budget{N: -1} }, "max failures -1: want a count of 0 or more"},
		{"failure budget over 100%", func(p *Plan, _ *Deps) { p.MaxFailures = Budget{N: 101, Percent: true} }, "max failures 101%"},
		{"negative timeout", func(p *Plan, _ *Deps) { p.StepTimeout = -time.Second }, "step timeout -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, deps := good, f.deps()
			plan.Hosts = append([]inventory.Host(nil), good.Hosts...)
			tt.mutate(&plan, &deps)
			rec := newRecorder(t)
			deps.Observer = rec
			_, err := Run(context.Background(), plan, deps)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want ~%q", err, tt.want)
			}
			if f.host("a").dials != 0 || len(rec.events) != 0 {
				t.Error("a bad plan contacted hosts or emitted events")
			}
		})
	}
}

func TestEventOrder(t *testing.T) {
	// An unclassified dial error still means the host was not reached.
	f := newFleet(t, kernelHost("a"), kernelHost("b"), &fakeHost{name: "c", dialErr: errors.New("no route to host")})
	plan := fastPlan(report.CmdPatch, f)
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)

	var last time.Time
	batchStarted := map[int]bool{}
	first := map[string]Event{}
	for _, e := range rec.events {
		if e.Time.IsZero() || e.Time.Before(last) {
			t.Errorf("event time %v after %v: %+v", e.Time, last, e)
		}
		last = e.Time
		if _, seen := first[e.Host]; e.Host != "" && !seen {
			first[e.Host] = e
		}
		switch {
		case e.Kind == EventBatch:
			batchStarted[e.Batch] = true
		case e.Kind == EventPhase && e.Phase == report.PhaseRebooting && !batchStarted[e.Batch]:
			t.Errorf("%s rebooting in batch %d before the batch event", e.Host, e.Batch)
		}
	}
	for _, h := range []string{"a", "b", "c"} {
		if e := first[h]; e.Kind != EventPhase || e.Phase != report.PhaseConnecting {
			t.Errorf("%s: first event %+v, want phase connecting", h, e)
		}
	}
	for _, h := range []string{"a", "b"} {
		want := []report.Phase{report.PhaseConnecting, report.PhaseFacts, report.PhaseScanning, report.PhaseInstalling, report.PhaseAwaitBatch,
			report.PhaseRebooting, report.PhaseWaitingDown, report.PhaseVerifying}
		if got := rec.phases(h); !inOrder(got, want) {
			t.Errorf("%s: phases %v", h, got)
		}
	}
	if c := byName(rep)["c"]; c.ErrorKind != "unreachable" || c.Error != "connect: dial c: no route to host" {
		t.Errorf("c: kind %q error %q", c.ErrorKind, c.Error)
	}
	if rep.Summary != (report.Summary{Hosts: 3, OK: 2, Unreachable: 1, UpdatesFound: 2, UpdatesInstalled: 2, Rebooted: 2}) {
		t.Errorf("summary %+v", rep.Summary)
	}
	if rep.StartedAt.IsZero() || rep.FinishedAt.Before(rep.StartedAt) || rep.Hosts[0].FinishedAt.IsZero() {
		t.Error("run or host times not recorded")
	}
}

// BenchmarkRunScan measures the runner's own overhead: 200 in-memory hosts,
// 50 workers, a scan with refresh.
func BenchmarkRunScan(b *testing.B) {
	var hs []*fakeHost
	for i := range 200 {
		hs = append(hs, &fakeHost{name: fmt.Sprintf("host%03d", i),
			pending: []patch.Update{upd("openssl", true, false), upd("curl", false, false)}})
	}
	f := newFleet(b, hs...)
	plan := fastPlan(report.CmdScan, f)
	plan.Forks = 50
	deps := f.deps()
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Run(context.Background(), plan, deps)
		if err != nil || rep.Summary.OK != 200 {
			b.Fatalf("err %v summary %+v", err, rep.Summary)
		}
	}
}

func TestJitterStaysInUpperHalf(t *testing.T) {
	r := newLockedRand(rand.New(rand.NewPCG(1, 2)))
	for _, d := range []time.Duration{2, time.Millisecond, 12 * time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			j := r.jitter(d)
			if j < d/2 || j > d {
				t.Fatalf("jitter(%s) = %s, outside [%s, %s]", d, j, d/2, d)
			}
			seen[j] = true
		}
		if d > 2 && len(seen) < 2 {
			t.Errorf("jitter(%s) never varies", d)
		}
	}
}

// The backend is told which install mode the selection means: a host-wide
// upgrade only when nothing narrows the selection, so a security-only run
// never runs the package manager's full upgrade.
func TestInstallModeFollowsSelection(t *testing.T) {
	for _, tt := range []struct {
		name string
		sel  patch.Selection
		full bool
	}{
		{"everything", patch.Selection{SkipOptional: true}, true},
		{"security only", patch.Selection{SecurityOnly: true}, false},
		{"include", patch.Selection{Include: []string{"openssl*"}}, false},
		{"exclude", patch.Selection{Exclude: []string{"kernel*"}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{
				{Name: "openssl", Security: true}, {Name: "curl", Security: true},
			}})
			plan := fastPlan(report.CmdPatch, f)
			plan.Selection = tt.sel
			runPlan(t, context.Background(), plan, f, nil)
			if got := f.host("a").fullInstalls; len(got) != 1 || got[0] != tt.full {
				t.Fatalf("install modes %v, want [%v]", got, tt.full)
			}
		})
	}
}
