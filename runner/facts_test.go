package runner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// The facts command reads facts and nothing more: a host whose scan would
// fail still ends ok, with its facts in the result.
func TestFactsCommandStopsAfterFacts(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a", factsReboot: true, scanErr: errors.New("scan must not run"),
		pending: []patch.Update{upd("openssl", true, false)}})
	rep, rec := runPlan(t, context.Background(), fastPlan(report.CmdFacts, f), f, nil)
	h := byName(rep)["a"]
	if h.Status != report.StatusOK || len(h.Updates) != 0 {
		t.Fatalf("status %s, %d updates, error %q; want ok with no updates", h.Status, len(h.Updates), h.Error)
	}
	if h.Facts == nil || h.Facts.Arch != "x86_64" || !h.Facts.RebootRequired || h.Facts.UptimeSeconds != 5400 {
		t.Fatalf("facts %+v, want arch x86_64, reboot required, uptime 5400", h.Facts)
	}
	if f.host("a").installs != 0 || f.host("a").reboots != 0 {
		t.Error("the facts command installed or rebooted")
	}
	for _, e := range rec.events {
		if e.Phase == report.PhaseScanning {
			t.Fatalf("the facts command entered the scanning phase: %+v", e)
		}
	}
}

// scan, patch and reboot record the facts they read, in UTC.
func TestResultsCarryFacts(t *testing.T) {
	for _, cmd := range []report.Command{report.CmdScan, report.CmdPatch, report.CmdReboot} {
		t.Run(string(cmd), func(t *testing.T) {
			f := newFleet(t, &fakeHost{name: "a"})
			rep, _ := runPlan(t, context.Background(), fastPlan(cmd, f), f, nil)
			h := byName(rep)["a"]
			if h.Facts == nil {
				t.Fatalf("no facts in %+v", h)
			}
			if h.Facts.Family != "fake" || len(h.Facts.Addresses) != 1 || h.Facts.Addresses[0] != "192.0.2.7/24" {
				t.Errorf("facts %+v", h.Facts)
			}
			if h.Facts.GatheredAt.IsZero() || h.Facts.GatheredAt.Location() != time.UTC {
				t.Errorf("gathered_at %v, want a UTC time", h.Facts.GatheredAt)
			}
		})
	}
}
