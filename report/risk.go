package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/patchrun/patchrun/patch"
)

// Risk summarises what a host's updates fix: how many fix a known-exploited
// CVE, how many are critical, how many are security updates. --order risk
// works hosts by it, highest first.
type Risk struct {
	KnownExploited int
	Critical       int
	Security       int
}

// RiskOf counts the risk in a host's updates (those found pending, whether
// this run installed them or not).
func RiskOf(updates []Update) Risk {
	var r Risk
	for _, u := range updates {
		if u.KnownExploited {
			r.KnownExploited++
		}
		if u.Severity == patch.SeverityCritical {
			r.Critical++
		}
		if u.Security {
			r.Security++
		}
	}
	return r
}

// Compare orders risks highest first: known-exploited fixes, then critical
// ones, then security updates; negative when r comes before o.
func (r Risk) Compare(o Risk) int {
	if c := o.KnownExploited - r.KnownExploited; c != 0 {
		return c
	}
	if c := o.Critical - r.Critical; c != 0 {
		return c
	}
	return o.Security - r.Security
}

// SortByRisk orders hosts highest risk first, keeping their order among
// equals.
func SortByRisk(hosts []HostResult) {
	slices.SortStableFunc(hosts, func(a, b HostResult) int { return RiskOf(a.Updates).Compare(RiskOf(b.Updates)) })
}

// RiskTally adds up a fleet's pending risk, one host at a time (a
// journaled run reads its hosts back one by one).
type RiskTally struct {
	kevHosts, kev, critHosts, crit, secHosts, sec int
	cves                                          map[string]bool
}

// Add counts one host's updates that are still pending (not installed).
func (t *RiskTally) Add(h HostResult) {
	if t.cves == nil {
		t.cves = map[string]bool{}
	}
	var pending []Update
	for _, u := range h.Updates {
		if !u.Installed {
			pending = append(pending, u)
			for _, c := range u.CVEs {
				t.cves[c] = true
			}
		}
	}
	r := RiskOf(pending)
	t.kev, t.crit, t.sec = t.kev+r.KnownExploited, t.crit+r.Critical, t.sec+r.Security
	if r.KnownExploited > 0 {
		t.kevHosts++
	}
	if r.Critical > 0 {
		t.critHosts++
	}
	if r.Security > 0 {
		t.secHosts++
	}
}

// Summary is the one line scan prints about the fleet's risk ("3 hosts
// have 5 updates fixing known-exploited CVEs; 2 hosts have 2 critical
// updates; 7 hosts have 40 security updates (61 distinct CVEs)"); "" when
// no security, critical or known-exploited update is pending.
func (t *RiskTally) Summary() string {
	if t.sec == 0 && t.kev == 0 && t.crit == 0 {
		return ""
	}
	var parts []string
	if t.kev > 0 {
		parts = append(parts, fmt.Sprintf("%s %s %s fixing known-exploited CVEs", plural(t.kevHosts, "host"), have(t.kevHosts), plural(t.kev, "update")))
	}
	if t.crit > 0 {
		parts = append(parts, fmt.Sprintf("%s %s %s", plural(t.critHosts, "host"), have(t.critHosts), plural(t.crit, "critical update")))
	}
	if t.sec > 0 {
		parts = append(parts, fmt.Sprintf("%s %s %s", plural(t.secHosts, "host"), have(t.secHosts), plural(t.sec, "security update")))
	}
	line := strings.Join(parts, "; ")
	if n := len(t.cves); n > 0 {
		line += fmt.Sprintf(" (%s)", plural(n, "distinct CVE"))
	}
	return line
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func have(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
