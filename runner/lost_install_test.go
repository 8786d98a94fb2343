package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// A connection lost during an install leaves its outcome unknown: the host
// fails, but the report must not say nothing was installed when every
// package went in. patchrun reconnects and rescans; when it cannot, it says
// the outcome is unknown.
func TestLostInstallIsRescannedOrUnknown(t *testing.T) {
	tests := []struct {
		name      string
		gone      bool
		installed int
		unknown   int
		err       string
	}{
		{"reconnect and rescan", false, 2, 0, "reconnected and rescanned: 2 of 2 updates installed"},
		{"host unreachable: unknown", true, 0, 2, "whether 2 updates were installed is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, &fakeHost{name: "a", lostInInstall: true, goneAfterLoss: tt.gone,
				pending: []patch.Update{upd("openssl", true, false), upd("curl", false, false)}})
			rep, rec := runPlan(t, context.Background(), fastPlan(report.CmdPatch, f), f, nil)
			checkEvents(t, rep, rec)
			h := byName(rep)["a"]
			if h.Status != report.StatusFailed || h.ErrorKind != "connection-lost" || !strings.HasSuffix(h.Error, tt.err) {
				t.Errorf("status %s kind %q error %q; want failed, connection-lost, …%q", h.Status, h.ErrorKind, h.Error, tt.err)
			}
			if s := rep.Summary; s.UpdatesInstalled != tt.installed || s.UpdatesUnknown != tt.unknown {
				t.Errorf("summary: %d installed, %d unknown; want %d, %d", s.UpdatesInstalled, s.UpdatesUnknown, tt.installed, tt.unknown)
			}
			for _, u := range h.Updates {
				if u.Installed == tt.gone || u.OutcomeUnknown != tt.gone {
					t.Errorf("%s: installed %v outcome_unknown %v", u.Name, u.Installed, u.OutcomeUnknown)
				}
			}
		})
	}
}

// An abort during an install cannot rescan: the outcome is unknown.
func TestAbortDuringInstallLeavesOutcomeUnknown(t *testing.T) {
	a := kernelHost("a")
	a.installHang, a.installStart = true, make(chan struct{})
	f := newFleet(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	after(t, a.installStart, cancel)
	rep, _ := runPlan(t, ctx, fastPlan(report.CmdPatch, f), f, nil)
	if u := byName(rep)["a"].Updates[0]; u.Installed || !u.OutcomeUnknown || rep.Summary.UpdatesUnknown != 1 {
		t.Errorf("installed %v outcome_unknown %v summary %+v", u.Installed, u.OutcomeUnknown, rep.Summary)
	}
}
