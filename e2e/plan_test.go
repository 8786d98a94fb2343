package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testSavedPlan: a plan saved when 1.7 is the newest, applied after 1.8 is
// published, installs 1.7 (as dpkg on the hosts says), reports the drift,
// and leaves 1.8 pending.
func testSavedPlan(t *testing.T, l *lab, p patchrun) {
	planned, newer := "1.7", "1.8"
	plan := filepath.Join(t.TempDir(), "plan.json")
	l.run(t, "repo", "publish", planned)
	rep, code := p.run(t, 5*time.Minute, "scan", "--save-plan", plan)
	if code != 0 {
		t.Fatalf("scan --save-plan: exit %d", code)
	}
	var inPlan []string
	for _, h := range rep.Hosts {
		if h.Status == "ok" {
			inPlan = append(inPlan, h.Name)
		}
	}
	if len(inPlan) < 2 {
		t.Fatalf("only %d hosts scanned ok: %+v", len(inPlan), rep.Hosts)
	}
	l.run(t, "repo", "publish", newer)

	rep, code = p.run(t, 5*time.Minute, "patch", "--plan", plan, "--reboot", "never")
	if code != 0 {
		t.Errorf("patch --plan: exit %d, want 0", code)
	}
	want := "labconf=" + planned + " labsec=" + planned + " "
	for _, name := range inPlan {
		h := rep.host(t, name)
		if h.Status != "ok" {
			t.Errorf("%s: status %q (%s), want ok", name, h.Status, h.Error)
		}
		// What the host really has, seen without patchrun.
		if got := l.exec(t, name, "dpkg-query -W -f='${Package}=${Version} ' labconf labsec"); got != want {
			t.Errorf("%s: installed %q, want %q (the planned version, not %s)", name, got, want, newer)
		}
		var changed []string
		if h.PlanDrift != nil {
			for _, c := range h.PlanDrift.Changed {
				changed = append(changed, c.Name+":"+c.Planned+"->"+c.Available)
			}
		}
		if got, w := strings.Join(changed, " "), "labconf:"+planned+"->"+newer+" labsec:"+planned+"->"+newer; got != w {
			t.Errorf("%s: drift changed %q, want %q", name, got, w)
		}
	}
	rep, _ = p.run(t, 3*time.Minute, "scan", "--no-refresh", "-l", strings.Join(inPlan, ","))
	for _, h := range rep.Hosts {
		for _, name := range []string{"labconf", "labsec"} {
			if u, ok := h.update(name); !ok || u.Current != planned || u.Available != newer {
				t.Errorf("%s: after the plan, %s = %+v; want %s → %s pending", h.Name, name, u, planned, newer)
			}
		}
	}
}
