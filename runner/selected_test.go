package runner

import (
	"context"
	"testing"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// A selected update that did not install must read differently from one the
// selection left alone: both have installed=false.
func TestSelectedMarksWhatTheSelectionPicked(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a",
		pending:     []patch.Update{upd("openssl", true, false), upd("curl", false, false), upd("bash", true, false)},
		installFail: map[string]string{"bash": "dependency problem"},
	})
	plan := fastPlan(report.CmdPatch, f)
	plan.Selection = patch.Selection{SecurityOnly: true}
	rep, _ := runPlan(t, context.Background(), plan, f, nil)

	got := map[string][2]bool{}
	for _, u := range byName(rep)["a"].Updates {
		got[u.Name] = [2]bool{u.Selected, u.Installed}
	}
	want := map[string][2]bool{
		"openssl": {true, true},   // picked and installed
		"curl":    {false, false}, // left alone on purpose
		"bash":    {true, false},  // picked, still pending
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: selected, installed = %v, want %v", name, got[name], w)
		}
	}
}

func TestSelectedInDryRunAndNotInScan(t *testing.T) {
	for _, tt := range []struct {
		cmd    report.Command
		dryRun bool
		want   bool
	}{
		{report.CmdPatch, true, true},
		{report.CmdScan, false, false},
	} {
		f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("openssl", true, false)}})
		plan := fastPlan(tt.cmd, f)
		plan.DryRun = tt.dryRun
		rep, _ := runPlan(t, context.Background(), plan, f, nil)
		if u := byName(rep)["a"].Updates[0]; u.Selected != tt.want || u.Installed {
			t.Errorf("%s dry-run=%v: selected %v installed %v, want selected %v, nothing installed", tt.cmd, tt.dryRun, u.Selected, u.Installed, tt.want)
		}
	}
}
