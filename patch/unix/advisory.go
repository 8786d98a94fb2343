package unix

import (
	"slices"
	"time"

	"github.com/patchrun/patchrun/patch"
)

// advisory is one vendor advisory (dnf/yum updateinfo, a zypper patch) as
// it applies to one pending package.
type advisory struct {
	ID       string
	Type     string // "security", "bugfix", "enhancement", "recommended", …
	Severity string // the vendor's word ("Critical", "moderate"); "" when none
	Issued   time.Time
	CVEs     []string
}

// advisoryDate parses the dates the tools print ("2024-03-05 00:00:00",
// UTC in updateinfo). An advisory without one prints the epoch (dnf) or 0
// (zypper): that is no date.
func advisoryDate(day, clock string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", day+" "+clock)
	if err != nil {
		t, err = time.Parse("2006-01-02", day)
	}
	if err != nil || t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

// applyAdvisories attaches to each update the advisories listed for it
// (keyed "name.arch"; a key without arch matches every arch). The update
// gets: Security when any advisory is a security one; Categories, the
// advisory types; Advisory and VendorSeverity from its most severe
// advisory (the first listed on a tie); Severity normalised (unknown for a
// security advisory without one); CVEs, all of them; Issued, the newest
// advisory's date (an update is as young as its latest advisory), none when
// an advisory has no date.
func applyAdvisories(ups []patch.Update, byKey map[string][]advisory) {
	for i := range ups {
		u := &ups[i]
		advs := append(slices.Clone(byKey[u.Name+"."+u.Arch]), byKey[u.Name]...)
		if len(advs) == 0 {
			continue
		}
		var best *advisory
		var cves []string
		var issued time.Time
		undated := false
		for j := range advs {
			a := &advs[j]
			if a.Type == "security" {
				u.Security = true
			}
			if a.Type != "" && !slices.Contains(u.Categories, a.Type) {
				u.Categories = append(u.Categories, a.Type)
			}
			if best == nil || advisoryRank(*a) > advisoryRank(*best) {
				best = a
			}
			cves = append(cves, a.CVEs...)
			if a.Issued.IsZero() {
				undated = true
			} else if a.Issued.After(issued) {
				issued = a.Issued
			}
		}
		u.Advisory = best.ID
		u.VendorSeverity = best.Severity
		switch {
		case best.Severity != "":
			u.Severity = patch.NormalizeSeverity(best.Severity)
		case u.Security:
			u.Severity = patch.SeverityUnknown
		}
		u.CVEs = patch.NormalizeCVEs(cves)
		if !undated && !issued.IsZero() {
			u.Issued = &issued
		}
	}
}

// advisoryRank orders advisories: by normalised severity, a security one
// above any other at the same severity.
func advisoryRank(a advisory) int {
	r := patch.SeverityRank(patch.NormalizeSeverity(a.Severity)) * 2
	if a.Type == "security" {
		r++
	}
	return r
}
