package estate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patchrun/patchrun/estate"
	"github.com/patchrun/patchrun/estate/estatetest"
	"github.com/patchrun/patchrun/report"
)

func load(t *testing.T, sel estate.Selection) *estate.Report {
	t.Helper()
	_, st := estatetest.Fixture(t)
	rep, err := estate.Load(context.Background(), st, sel)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestManagementFiguresOfTheNewestRun(t *testing.T) {
	rep := load(t, estate.Selection{Last: true})
	if len(rep.Runs) != 1 || rep.Runs[0].ID != estatetest.RunLast {
		t.Fatalf("runs %+v, want only %s", rep.Runs, estatetest.RunLast)
	}
	m := rep.Management
	if m.Hosts != estatetest.Hosts || m.Compliant != estatetest.Compliant || m.CompliancePercent != estatetest.CompliancePercent ||
		m.PendingSecurity != estatetest.PendingSecurity || m.Unscanned != 0 {
		t.Fatalf("figures %+v", m)
	}
	bands := map[string]int{}
	for _, b := range m.AgeBands {
		bands[b.Label] = b.Updates
	}
	if want := map[string]int{"0-7": 1, "8-14": 1, "15-30": 1, ">30": 1}; len(bands) != 4 || bands["0-7"] != want["0-7"] ||
		bands["8-14"] != 1 || bands["15-30"] != 1 || bands[">30"] != 1 {
		t.Fatalf("age bands %v, want %v", bands, want)
	}
	byOS := map[string]estate.OSCount{}
	for _, o := range m.ByOS {
		byOS[o.OS] = o
	}
	if byOS["Windows Server 2022"].PendingSecurity != 3 || byOS["debian 12"].Hosts != 2 || byOS["debian 12"].PendingSecurity != 0 {
		t.Fatalf("by OS %+v", m.ByOS)
	}
	// db1 is unreachable in the newest run: it files under the OS it was
	// last seen with, and its pending openssl-libs counts there.
	if byOS["rocky 9.3"].PendingSecurity != 1 || byOS["rocky 9.3"].Hosts != 1 {
		t.Fatalf("db1's pending update not counted under its OS: %+v", m.ByOS)
	}
	if len(m.RebootNeeded) != 1 || m.RebootNeeded[0] != "win1" {
		t.Fatalf("reboot needed %v, want [win1]", m.RebootNeeded)
	}
	if len(m.Failures) != 1 || m.Failures[0].Host != "db1" || m.Failures[0].Status != report.StatusUnreachable {
		t.Fatalf("failures %+v, want db1 unreachable", m.Failures)
	}
}

func TestChangesSincePreviousRun(t *testing.T) {
	c := load(t, estate.Selection{Last: true}).Changes
	if len(c.NewlyFailing) != 1 || c.NewlyFailing[0].Host != "db1" || c.NewlyFailing[0].PreviousRunID != estatetest.RunPatch {
		t.Fatalf("newly failing %+v, want db1 (ok in the patch run)", c.NewlyFailing)
	}
	if len(c.NewlyCompliant) != 1 || c.NewlyCompliant[0].Host != "web2" {
		t.Fatalf("newly compliant %+v, want web2", c.NewlyCompliant)
	}
}

func TestTrendEndsWithTheSelectedRun(t *testing.T) {
	tr := load(t, estate.Selection{RunID: estatetest.RunPatch}).Trend
	if len(tr) != 2 || tr[0].RunID != estatetest.RunScan1 || tr[1].RunID != estatetest.RunPatch {
		t.Fatalf("trend %+v, want the first scan then the patch", tr)
	}
	// After the first scan nobody is compliant (every reached host has a
	// security update; win1 unreachable); after the patch web1 is.
	if tr[0].Compliant != 0 || tr[1].Compliant != 1 || tr[1].Failed != 1 {
		t.Fatalf("trend %+v", tr)
	}
}

func TestHostRowsCarryUpdatesOutputAndTimeline(t *testing.T) {
	rep := load(t, estate.Selection{RunID: estatetest.RunPatch})
	hosts := map[string]estate.Host{}
	for _, h := range rep.Runs[0].Hosts {
		hosts[h.Name] = h
	}
	w1, w2 := hosts["web1"], hosts["web2"]
	if len(w1.Installed) != 2 || w1.Installed[0].Name != "openssl" || !w1.Installed[0].KnownExploited ||
		w1.Installed[0].CVEs[0] != "CVE-2024-0727" || w1.Installed[0].Available != "3.0.13-1" {
		t.Fatalf("web1 installed %+v", w1.Installed)
	}
	if w1.Class() != "web" || hosts["win1"].Class() != "windows" {
		t.Fatalf("classes %q %q", w1.Class(), hosts["win1"].Class())
	}
	if len(w1.Timeline) != 9 || w1.Timeline[0].Phase != report.PhaseConnecting || w1.Timeline[8].Phase != report.PhaseVerifying {
		t.Fatalf("web1 timeline %+v", w1.Timeline)
	}
	for i, s := range w1.Timeline {
		if s.End.Sub(s.Start) != time.Minute || s.Wave != 1 {
			t.Fatalf("web1 segment %d: %+v, want one minute in wave 1", i, s)
		}
		// Batch 1 starts as web1 begins waiting for it (segment 4).
		if want := map[bool]int{true: 1, false: 0}[i >= 4]; s.Batch != want {
			t.Fatalf("segment %d %s: batch %d, want %d", i, s.Phase, s.Batch, want)
		}
	}
	if w2.Status != report.StatusFailed || w2.ErrorKind != "install" || w2.Output == "" || len(w2.Pending) != 1 || w2.Pending[0].Error == "" {
		t.Fatalf("web2 %+v", w2)
	}
	if !hosts["db1"].RebootPending || hosts["web1"].RebootPending {
		t.Fatalf("reboot pending: db1 %v web1 %v", hosts["db1"].RebootPending, hosts["web1"].RebootPending)
	}
	if rep.Runs[0].HaltedBy != report.HaltFailures {
		t.Fatalf("halted_by %q", rep.Runs[0].HaltedBy)
	}
}

func TestSelectSinceAndUnknownRun(t *testing.T) {
	_, st := estatetest.Fixture(t)
	ctx := context.Background()
	now := estatetest.T0.Add(46 * 24 * time.Hour)
	rep, err := estate.Load(ctx, st, estate.Selection{Since: 15 * 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].ID != estatetest.RunScan2 || rep.Runs[1].ID != estatetest.RunLast {
		t.Fatalf("runs since 15 days: %d", len(rep.Runs))
	}
	if _, err := estate.Load(ctx, st, estate.Selection{RunID: "20250101T000000Z-ffff"}); !errors.Is(err, estate.ErrNoRuns) {
		t.Fatalf("unknown run: %v", err)
	}
}
