package report

import (
	"testing"

	"github.com/patchrun/patchrun/patch"
)

func TestRiskOrderAndSummary(t *testing.T) {
	kev := Update{Update: patch.Update{Name: "a", Security: true, KnownExploited: true, CVEs: []string{"CVE-2024-1"}}}
	crit := Update{Update: patch.Update{Name: "b", Security: true, Severity: patch.SeverityCritical, CVEs: []string{"CVE-2024-1", "CVE-2024-2"}}}
	sec := Update{Update: patch.Update{Name: "c", Security: true}}
	done := Update{Update: patch.Update{Name: "d", Security: true, KnownExploited: true, Installed: true}}
	hosts := []HostResult{
		{Name: "many-sec", Updates: []Update{sec, sec, sec}},
		{Name: "critical", Updates: []Update{crit}},
		{Name: "kev", Updates: []Update{kev}},
		{Name: "clean"},
	}
	SortByRisk(hosts)
	var order []string
	for _, h := range hosts {
		order = append(order, h.Name)
	}
	if got := order; got[0] != "kev" || got[1] != "critical" || got[2] != "many-sec" || got[3] != "clean" {
		t.Fatalf("risk order %v", got)
	}
	var tally RiskTally
	for _, h := range append(hosts, HostResult{Name: "patched", Updates: []Update{done}}) {
		tally.Add(h)
	}
	want := "1 host has 1 update fixing known-exploited CVEs; 1 host has 1 critical update; 3 hosts have 5 security updates (2 distinct CVEs)"
	if got := tally.Summary(); got != want {
		t.Fatalf("summary\n got %q\nwant %q", got, want)
	}
	var none RiskTally
	none.Add(HostResult{Name: "clean", Updates: []Update{{Update: patch.Update{Name: "tzdata"}}}})
	if s := none.Summary(); s != "" {
		t.Fatalf("no risk must print nothing, got %q", s)
	}
}
