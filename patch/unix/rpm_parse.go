package unix

import (
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

// parseSecurityAdvisories reads `dnf updateinfo list --updates --security`
// (dnf 4 and yum: "ADVISORY  Severity/Sec.  NEVRA") or `dnf5 advisory list
// --security --updates` (a table "Name Type Severity Package Issued") and
// returns the set of "name.arch" keys with a security advisory.
func parseSecurityAdvisories(out string, dnf5 bool) map[string]bool {
	sec := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		var nevra string
		switch {
		case dnf5 && len(f) >= 4 && f[0] != "Name":
			nevra = f[3]
		case !dnf5 && len(f) >= 3:
			nevra = f[len(f)-1]
		default:
			continue
		}
		if name, arch, ok := splitNEVRA(nevra); ok {
			sec[name+"."+arch] = true
		}
	}
	return sec
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
