package runner

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/patchrun/patchrun/report"
)

// nullJournal accepts every record and keeps none, as a journal on disk
// does from the runner's point of view.
type nullJournal struct{}

func (nullJournal) Checkpoint(Checkpoint) error    { return nil }
func (nullJournal) Result(report.HostResult) error { return nil }

// BenchmarkRetainedPerHost reports the heap a finished run still holds per
// host (the report Run returns, after a GC), with and without a journal:
// with one, a finished host keeps only its counts, status and reboot facts.
//
//	go test -run '^$' -bench RetainedPerHost -benchtime 1x ./runner
func BenchmarkRetainedPerHost(b *testing.B) {
	const hosts, updates = 2000, 40
	for _, tc := range []struct {
		name string
		j    Journal
	}{{"memory", nil}, {"journal", nullJournal{}}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				var fhs []*fakeHost
				for i := range hosts {
					h := &fakeHost{name: fmt.Sprintf("h%04d", i), installOut: "Setting up packages …"}
					for u := range updates {
						h.pending = append(h.pending, upd(fmt.Sprintf("package-with-a-long-name-%02d", u), u%3 == 0, false))
					}
					fhs = append(fhs, h)
				}
				f := newFleet(b, fhs...)
				plan := fastPlan(report.CmdPatch, f)
				plan.Forks = 50
				deps := f.deps()
				deps.Journal = tc.j
				rep, err := Run(context.Background(), plan, deps)
				if err != nil {
					b.Fatal(err)
				}
				f, fhs, deps, plan = nil, nil, Deps{}, Plan{} // only the report stays
				runtime.GC()
				runtime.ReadMemStats(&after)
				if rep.Summary.UpdatesInstalled != hosts*updates {
					b.Fatalf("summary %+v", rep.Summary)
				}
				b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/hosts, "retained-B/host")
				runtime.KeepAlive(rep)
			}
		})
	}
}
