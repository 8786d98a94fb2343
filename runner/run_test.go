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
)

func TestBadPlanIsRunFatal(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a"})
	good := fastPlan(CmdPatch, f)
	tests := []struct {
		name   string
		mutate func(*Plan, *Deps)
		want   string
	}{
		{"unknown command", func(p *Plan, _ *Deps) { p.Command = "upgrade" }, `unknown command "upgrade"`},
		{"no hosts", func(p *Plan, _ *Deps) { p.Hosts = nil }, "no hosts"},
		{"duplicate host", func(p *Plan, _ *Deps) { p.Hosts = append(p.Hosts, p.Hosts[0]) }, `host "a" listed twice`},
		{"zero forks", func(p *Plan, _ *Deps) { p.Forks = 0 }, "forks 0: must be at least 1"},
		{"no dialer", func(_ *Plan, d *Deps) { d.Dialer = nil }, "no dialer"},
		{"no detector", func(_ *Plan, d *Deps) { d.Detect = nil }, "no backend detector"},
		{"bad pattern", func(p *Plan, _ *Deps) { p.Selection.Include = []string{"/[/"} }, "selection: pattern"},
		{"exec without command", func(p *Plan, _ *Deps) { p.Command = CmdExec }, "exec: no command"},
		{"exec dry-run", func(p *Plan, _ *Deps) { p.Command, p.ExecCommand, p.DryRun = CmdExec, "ls", true }, "exec: dry-run"},
		{"bad policy", func(p *Plan, _ *Deps) { p.Reboot = "sometimes" }, `reboot policy "sometimes"`},
		{"negative batch", func(p *Plan, _ *Deps) { p.Batch = Budget{N: -1} }, "batch -1"},
		{"zero ramp step", func(p *Plan, _ *Deps) { p.Ramp = []Budget{{N: 1}, {N: 0}} }, "batch ramp step 2"},
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
	plan := fastPlan(CmdPatch, f)
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
		case e.Kind == EventPhase && e.Phase == PhaseRebooting && !batchStarted[e.Batch]:
			t.Errorf("%s rebooting in batch %d before the batch event", e.Host, e.Batch)
		}
	}
	for _, h := range []string{"a", "b", "c"} {
		if e := first[h]; e.Kind != EventPhase || e.Phase != PhaseConnecting {
			t.Errorf("%s: first event %+v, want phase connecting", h, e)
		}
	}
	for _, h := range []string{"a", "b"} {
		want := []Phase{PhaseConnecting, PhaseFacts, PhaseScanning, PhaseInstalling, PhaseAwaitBatch,
			PhaseRebooting, PhaseWaitingDown, PhaseVerifying}
		if got := rec.phases(h); !inOrder(got, want) {
			t.Errorf("%s: phases %v", h, got)
		}
	}
	if c := byName(rep)["c"]; c.ErrorKind != "unreachable" || c.Error != "connect: dial c: no route to host" {
		t.Errorf("c: kind %q error %q", c.ErrorKind, c.Error)
	}
	if rep.Summary != (Summary{Hosts: 3, OK: 2, Unreachable: 1, UpdatesFound: 2, UpdatesInstalled: 2, Rebooted: 2}) {
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
	plan := fastPlan(CmdScan, f)
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
