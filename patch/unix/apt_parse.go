package unix

import (
	"regexp"
	"strings"

	"github.com/patchrun/patchrun/patch"
)

// aptInst matches an "Inst" line of `apt-get -s`:
//
//	Inst NAME [CURRENT] (NEW ORIGIN:SUITE[, ORIGIN:SUITE…] [ARCH]) [extra]…
//
// [CURRENT] is absent for a package that would be newly installed.
var aptInst = regexp.MustCompile(`^Inst (\S+)(?: \[([^\]]*)\])? \((\S+)(?: (.*?))? \[([^\]]+)\]\)`)

// parseAptSimulation returns the pending updates in `apt-get -s
// dist-upgrade` output. An update is Security when any of its origins'
// suite contains "-security" (Debian-Security:12/stable-security,
// Ubuntu:24.04/noble-security).
func parseAptSimulation(out string) []patch.Update {
	var ups []patch.Update
	for _, line := range strings.Split(out, "\n") {
		m := aptInst.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil {
			continue
		}
		u := patch.Update{Name: m[1], Current: m[2], Available: m[3], Arch: m[5]}
		var origins []string
		for _, o := range strings.Split(m[4], ",") {
			if o = strings.TrimSpace(o); o != "" {
				origins = append(origins, o)
			}
		}
		for _, o := range origins {
			if strings.Contains(strings.ToLower(o), "-security") {
				u.Security = true
				u.Repo = o
				break
			}
		}
		if u.Repo == "" && len(origins) > 0 {
			u.Repo = origins[0]
		}
		u.RebootRequired = needsReboot(u.Name)
		ups = append(ups, u)
	}
	return ups
}
