package unix

import (
	"slices"
	"strings"

	"github.com/patchrun/patchrun/patch"
)

// parseCheckUpdate reads `dnf|yum -q check-update` output: one
// "name.arch  [epoch:]version-release  repo" row per pending update. yum
// lays the table out for 80 columns even without a terminal, and a column
// too wide for its width ends the line: the rest of the row follows on
// indented lines (a long name.arch, a long version, or both). The
// "Obsoleting Packages" section that may follow lists replacements, not
// updates, and is skipped.
func parseCheckUpdate(out string) []patch.Update {
	var ups []patch.Update
	var carry []string // the start of a wrapped row
	for _, raw := range strings.Split(out, "\n") {
		line := strings.TrimRight(raw, "\r")
		if strings.HasPrefix(strings.TrimSpace(line), "Obsoleting Packages") {
			break
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		continued := len(carry) > 0 && indented
		if continued {
			f = append(carry, f...)
		}
		carry = nil
		if len(f) < 3 && (continued || !indented) {
			if _, _, ok := cutArch(f[0]); ok {
				carry = f // wrapped: the rest is on the next line(s)
			}
			continue
		}
		if len(f) != 3 {
			continue
		}
		name, arch, ok := cutArch(f[0])
		if !ok || !strings.Contains(f[1], "-") {
			continue
		}
		ups = append(ups, patch.Update{
			Name: name, Arch: arch, Available: f[1], Repo: f[2],
			RebootRequired: needsReboot(name),
		})
	}
	return ups
}

// cutArch splits "name.arch" at its last dot.
func cutArch(s string) (name, arch string, ok bool) {
	i := strings.LastIndex(s, ".")
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// parseRPMQuery reads CmdRPMInstalled's output ("name.arch E:V-R" rows;
// "package X is not installed" rows are skipped) into name.arch → version,
// with a zero epoch dropped the way dnf prints versions.
func parseRPMQuery(out string) map[string]string {
	cur := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || f[0] == "package" {
			continue
		}
		cur[f[0]] = strings.TrimPrefix(f[1], "0:")
	}
	return cur
}

// parseRPMAdvisories reads CmdRPMAdvisories' sections into "name.arch" →
// advisories. The advisories section is `dnf -v updateinfo list --updates`
// (dnf 4: "ADVISORY  TYPE  NEVRA  DATE TIME", TYPE being "bugfix",
// "enhancement" or "Severity/Sec." for a security one, "Unknown/Sec." when
// it has no severity; yum prints the same rows without the date) or `dnf5
// advisory list --updates` (a table "Name Type Severity Package Issued").
// The cves section (dnf 4 and yum `--with-cve`/`list cves`) has "CVE-ID
// TYPE NEVRA" rows. -v makes dnf print its configuration too: rows that
// do not have the shape are skipped.
func parseRPMAdvisories(out string, dnf5 bool) map[string][]advisory {
	secs := splitSections(out)
	by := map[string][]advisory{}
	for _, line := range strings.Split(secs[SectionAdvisories], "\n") {
		f := strings.Fields(line)
		var a advisory
		var nevra string
		switch {
		case dnf5 && len(f) >= 4 && f[0] != "Name":
			a = advisory{ID: f[0], Type: strings.ToLower(f[1]), Severity: vendorWord(f[2])}
			nevra = f[3]
			if len(f) >= 6 {
				a.Issued = advisoryDate(f[4], f[5])
			}
		case !dnf5 && (len(f) == 3 || len(f) == 5):
			typ, sev, ok := rpmAdvisoryType(f[1])
			if !ok {
				continue
			}
			a = advisory{ID: f[0], Type: typ, Severity: sev}
			nevra = f[2]
			if len(f) == 5 {
				a.Issued = advisoryDate(f[3], f[4])
			}
		default:
			continue
		}
		if name, arch, ok := splitNEVRA(nevra); ok {
			by[name+"."+arch] = append(by[name+"."+arch], a)
		}
	}
	cves := map[string][]string{}
	for _, line := range strings.Split(secs[SectionCVEs], "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || !strings.HasPrefix(f[0], "CVE-") {
			continue
		}
		if name, arch, ok := splitNEVRA(f[2]); ok {
			cves[name+"."+arch] = append(cves[name+"."+arch], f[0])
		}
	}
	// The CVE rows do not say which advisory they come from: they go to
	// the package's first security advisory (applyAdvisories unions them).
	for key, ids := range cves {
		advs := by[key]
		i := slices.IndexFunc(advs, func(a advisory) bool { return a.Type == "security" })
		if i < 0 {
			by[key] = append(advs, advisory{Type: "security", CVEs: ids})
			continue
		}
		advs[i].CVEs = append(advs[i].CVEs, ids...)
	}
	return by
}

// rpmAdvisoryType reads dnf 4/yum's TYPE column: "Important/Sec." is a
// security advisory of that severity ("Unknown/Sec.": none given); a plain
// lower-case word is the type of a non-security advisory.
func rpmAdvisoryType(col string) (typ, severity string, ok bool) {
	if sev, sec := strings.CutSuffix(col, "/Sec."); sec {
		return "security", vendorWord(sev), true
	}
	for _, r := range col {
		if r < 'a' || r > 'z' {
			return "", "", false
		}
	}
	return col, "", col != ""
}

// vendorWord drops the placeholders the tools print for "no severity".
func vendorWord(s string) string {
	switch strings.ToLower(s) {
	case "", "unknown", "none", "-", "---":
		return ""
	}
	return s
}

// splitNEVRA splits "name-[epoch:]version-release.arch" into name and arch.
func splitNEVRA(s string) (name, arch string, ok bool) {
	nvr, arch, ok := cutArch(s)
	if !ok {
		return "", "", false
	}
	r := strings.LastIndex(nvr, "-")
	if r <= 0 {
		return "", "", false
	}
	v := strings.LastIndex(nvr[:r], "-")
	if v <= 0 {
		return "", "", false
	}
	return nvr[:v], arch, true
}
