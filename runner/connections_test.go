package runner

import (
	"context"
	"testing"

	"github.com/patchrun/patchrun/report"
)

// A host waiting for its reboot batch holds no connection, so a large fleet
// never has more connections open than --forks plus one batch.
func TestConnectionsBoundedByForksAndBatch(t *testing.T) {
	for _, cmd := range []report.Command{report.CmdPatch, report.CmdReboot} {
		t.Run(string(cmd), func(t *testing.T) {
			f := rebootFleet(t, 12)
			for _, n := range f.order {
				f.host(n).factsReboot = true
				f.host(n).rebootReq = true
			}
			plan := fastPlan(cmd, f)
			plan.Forks = 3
			plan.Batches = Batches{{N: 2}}
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			checkEvents(t, rep, rec)
			for _, h := range rep.Hosts {
				if h.Status != report.StatusOK || !h.Rebooted {
					t.Errorf("%s: status %s rebooted %v: %s", h.Name, h.Status, h.Rebooted, h.Error)
				}
			}
			f.snapshot(func() {
				if limit := plan.Forks + 2; f.maxOpen > limit {
					t.Errorf("at most %d connections were open at once, want <= forks+batch = %d", f.maxOpen, limit)
				}
				if f.open != 0 {
					t.Errorf("%d connections still open after the run", f.open)
				}
			})
		})
	}
}
