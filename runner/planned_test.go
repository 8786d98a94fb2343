package runner

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

func findUpdate(h report.HostResult, name, available string) (report.Update, bool) {
	for _, u := range h.Updates {
		if u.Name == name && u.Available == available {
			return u, true
		}
	}
	return report.Update{}, false
}

// plannedFleet: a has openssl planned at 1.1 but offered at 1.2 now, and curl
// new since the plan; b is not in the plan; c's planned update is gone.
func plannedFleet(t *testing.T) (*fakeFleet, Plan) {
	a := &fakeHost{name: "a", pending: []patch.Update{
		{Name: "openssl", Arch: "amd64", Current: "1.0", Available: "1.2", Security: true},
		{Name: "tzdata", Arch: "all", Current: "2025a", Available: "2025b"},
		{Name: "curl", Arch: "amd64", Current: "8.0", Available: "8.1"},
	}}
	b := &fakeHost{name: "b", pending: []patch.Update{upd("x", false, false)}}
	c := &fakeHost{name: "c"}
	f := newFleet(t, a, b, c)
	plan := fastPlan(report.CmdPatch, f)
	plan.Planned = map[string]PlannedHost{
		"a": {
			Updates:     []patch.Update{{Name: "openssl", Arch: "amd64", Current: "1.0", Available: "1.1", Security: true}},
			NotSelected: []patch.Update{{Name: "tzdata", Arch: "all", Current: "2025a", Available: "2025b"}},
		},
		"c": {Updates: []patch.Update{{Name: "zlib", Arch: "amd64", Current: "1.2", Available: "1.3"}}},
	}
	return f, plan
}

func TestPlannedRunInstallsThePlannedVersionsOnly(t *testing.T) {
	f, plan := plannedFleet(t)
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)

	a := byName(rep)["a"]
	if a.Status != report.StatusOK {
		t.Fatalf("a: %s %s", a.Status, a.Error)
	}
	planned, ok := findUpdate(a, "openssl", "1.1")
	if !ok || !planned.Installed || !planned.Selected {
		t.Fatalf("openssl 1.1 (planned) not installed: %+v", a.Updates)
	}
	for _, u := range []struct{ name, v string }{{"openssl", "1.2"}, {"curl", "8.1"}, {"tzdata", "2025b"}} {
		if got, ok := findUpdate(a, u.name, u.v); !ok || got.Installed || got.Selected {
			t.Errorf("%s %s must be listed and left alone: %+v", u.name, u.v, got)
		}
	}
	if fh := f.host("a"); !reflect.DeepEqual(fh.fullInstalls, []bool{false}) || !reflect.DeepEqual(fh.installedNames, []string{"openssl"}) {
		t.Errorf("installs: full %v names %v; want one pinned install of openssl", fh.fullInstalls, fh.installedNames)
	}
	want := &report.PlanDrift{
		New:     []report.DriftUpdate{{Name: "curl", Arch: "amd64", Current: "8.0", Available: "8.1"}},
		Changed: []report.DriftUpdate{{Name: "openssl", Arch: "amd64", Planned: "1.1", Current: "1.0", Available: "1.2"}},
	}
	if !reflect.DeepEqual(a.PlanDrift, want) {
		t.Errorf("drift %+v, want %+v", a.PlanDrift, want)
	}
	logged := false
	for _, e := range rec.kinds(EventLog) {
		logged = logged || (e.Host == "a" && strings.HasPrefix(e.Detail, "plan drift: 1 new (curl 8.1); 1 changed (openssl planned 1.1, now 1.0 → 1.2)"))
	}
	if !logged {
		t.Error("the drift is not in the host's log")
	}

	b := byName(rep)["b"]
	if b.Status != report.StatusSkipped || b.ErrorKind != ErrorKindNotInPlan || f.host("b").dials != 0 {
		t.Errorf("b (not in the plan): %s %s %q, %d dials", b.Status, b.ErrorKind, b.Error, f.host("b").dials)
	}
	c := byName(rep)["c"]
	if c.Status != report.StatusOK || f.host("c").installs != 0 || c.PlanDrift == nil || len(c.PlanDrift.Gone) != 1 || c.PlanDrift.Gone[0].Planned != "1.3" {
		t.Errorf("c (planned update gone): %s, %d installs, drift %+v", c.Status, f.host("c").installs, c.PlanDrift)
	}
}

func TestStrictPlanFailsADriftedHostAndInstallsNothing(t *testing.T) {
	f, plan := plannedFleet(t)
	plan.StrictPlan = true
	rep, _ := runPlan(t, context.Background(), plan, f, nil)
	for _, name := range []string{"a", "c"} {
		h := byName(rep)[name]
		if h.Status != report.StatusFailed || h.ErrorKind != ErrorKindPlanDrift || !strings.Contains(h.Error, "nothing installed") {
			t.Errorf("%s: %s %s %q", name, h.Status, h.ErrorKind, h.Error)
		}
		if n := f.host(name).installs; n != 0 {
			t.Errorf("%s: %d installs under --strict-plan", name, n)
		}
	}
}

// A host whose pending set still matches its plan has no drift, and later
// rounds stay inside the plan: an update the plan does not hold, offered
// only after the reboot, is not installed.
func TestPlannedLaterRoundsStayInsideThePlan(t *testing.T) {
	a := &fakeHost{name: "a",
		pending: []patch.Update{{Name: "kernel", Current: "1", Available: "2", RebootRequired: true}},
		waves:   [][]patch.Update{{{Name: "late", Current: "1", Available: "2"}}},
	}
	f := newFleet(t, a)
	plan := fastPlan(report.CmdPatch, f)
	plan.Planned = map[string]PlannedHost{"a": {Updates: []patch.Update{{Name: "kernel", Current: "1", Available: "2", RebootRequired: true}}}}
	rep, _ := runPlan(t, context.Background(), plan, f, nil)
	h := byName(rep)["a"]
	if h.Status != report.StatusOK || h.PlanDrift != nil || !h.Rebooted {
		t.Fatalf("a: %s %q drift %+v rebooted %v", h.Status, h.Error, h.PlanDrift, h.Rebooted)
	}
	if got := f.host("a").installedNames; !reflect.DeepEqual(got, []string{"kernel"}) {
		t.Errorf("installed %v; the update offered after the reboot is not in the plan", got)
	}
}

// After an install whose end nobody saw, the rescan decides: a package still
// at its old version is not installed, even when the version offered now
// differs from the one asked for (a newer one published since).
func TestStillPendingJudgesByTheVersionAskedFor(t *testing.T) {
	asked := patch.Update{Name: "openssl", Arch: "amd64", Current: "1.0", Available: "1.1"}
	win := patch.Update{Name: "CU", ID: "a1"}
	tests := []struct {
		name  string
		found []patch.Update
		u     patch.Update
		want  bool
	}{
		{"still at the old version, newer offered", []patch.Update{{Name: "openssl", Arch: "amd64", Current: "1.0", Available: "1.2"}}, asked, true},
		{"at the version asked for, newer offered", []patch.Update{{Name: "openssl", Arch: "amd64", Current: "1.1", Available: "1.2"}}, asked, false},
		{"no longer pending", nil, asked, false},
		{"another arch pending", []patch.Update{{Name: "openssl", Arch: "i386", Current: "1.0", Available: "1.1"}}, asked, false},
		{"windows id still offered", []patch.Update{win}, win, true},
	}
	for _, tt := range tests {
		if got := stillPending(tt.found)(tt.u); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Windows updates are planned by update id: the planned id is installed,
// an id offered since is reported new and left alone.
func TestPlannedWindowsUpdatesGoByID(t *testing.T) {
	cu := patch.Update{Name: "2026-11 Cumulative Update", KB: "KB5050001", ID: "id-cu", Security: true}
	later := patch.Update{Name: "2026-12 Cumulative Update", KB: "KB5050002", ID: "id-later", Security: true}
	w := &fakeHost{name: "w", pending: []patch.Update{cu, later}}
	f := newFleet(t, w)
	plan := fastPlan(report.CmdPatch, f)
	plan.Planned = map[string]PlannedHost{"w": {Updates: []patch.Update{cu}}}
	rep, _ := runPlan(t, context.Background(), plan, f, nil)
	h := byName(rep)["w"]
	if got := f.host("w").installedNames; !reflect.DeepEqual(got, []string{cu.Name}) {
		t.Errorf("installed %v, want only the planned id", got)
	}
	if h.PlanDrift == nil || len(h.PlanDrift.New) != 1 || h.PlanDrift.New[0].ID != "id-later" || len(h.PlanDrift.Changed)+len(h.PlanDrift.Gone) != 0 {
		t.Errorf("drift %+v, want id-later new", h.PlanDrift)
	}
}
