package advisory

import (
	"strings"

	"github.com/patchrun/patchrun/patch"
)

// ecosystem is a distribution release as advisories and hosts both name
// it: "debian"/"12", "rocky"/"9", "alpine"/"3.19", "sles"/"15.5".
type ecosystem struct{ distro, release string }

// osvEcosystem maps an OSV ecosystem string onto a release, or ok false for
// an ecosystem patchrun does not match (language ecosystems, Ubuntu Pro's
// extended-support streams).
func osvEcosystem(s string) (ecosystem, bool) {
	name, rest, _ := strings.Cut(s, ":")
	switch name {
	case "Debian":
		return ecosystem{"debian", rest}, rest != ""
	case "Ubuntu":
		if strings.HasPrefix(rest, "Pro:") {
			return ecosystem{}, false
		}
		rel, _, _ := strings.Cut(rest, ":") // "22.04:LTS"
		return ecosystem{"ubuntu", rel}, rel != ""
	case "AlmaLinux":
		return ecosystem{"almalinux", rest}, rest != ""
	case "Rocky Linux":
		return ecosystem{"rocky", rest}, rest != ""
	case "Alpine":
		rel := strings.TrimPrefix(rest, "v")
		return ecosystem{"alpine", rel}, rel != ""
	case "openSUSE":
		switch {
		case strings.HasPrefix(rest, "Leap Micro "):
			return ecosystem{"opensuse-leap-micro", strings.TrimPrefix(rest, "Leap Micro ")}, true
		case strings.HasPrefix(rest, "Leap "):
			return ecosystem{"opensuse-leap", strings.TrimPrefix(rest, "Leap ")}, true
		case rest == "Tumbleweed":
			return ecosystem{"opensuse-tumbleweed", ""}, true
		}
	case "SUSE":
		// "Linux Enterprise Server 15 SP5", "Linux Enterprise Module for
		// Basesystem 15 SP5": every SUSE Linux Enterprise product of a
		// service pack applies to a SLES host of that service pack.
		if !strings.HasPrefix(rest, "Linux Enterprise ") {
			return ecosystem{}, false
		}
		f := strings.Fields(rest)
		if len(f) >= 2 && strings.HasPrefix(f[len(f)-1], "SP") && isNumber(f[len(f)-2]) {
			return ecosystem{"sles", f[len(f)-2] + "." + strings.TrimPrefix(f[len(f)-1], "SP")}, true
		}
		if len(f) >= 1 && isNumber(f[len(f)-1]) {
			return ecosystem{"sles", f[len(f)-1]}, true
		}
	}
	return ecosystem{}, false
}

// hostEcosystem is the release a host runs, from its facts' "ID VERSION_ID".
func hostEcosystem(f patch.Facts) (ecosystem, bool) {
	id, version, _ := strings.Cut(strings.TrimSpace(f.OS), " ")
	major, _, _ := strings.Cut(version, ".")
	switch id {
	case "debian":
		return ecosystem{id, major}, version != ""
	case "ubuntu", "opensuse-leap", "opensuse-leap-micro":
		return ecosystem{id, version}, version != ""
	case "almalinux", "rocky":
		return ecosystem{id, major}, version != ""
	case "alpine":
		p := strings.SplitN(version, ".", 3)
		if len(p) < 2 {
			return ecosystem{}, false
		}
		return ecosystem{id, p[0] + "." + p[1]}, true
	case "opensuse-tumbleweed":
		return ecosystem{id, ""}, true
	case "sles", "sled":
		return ecosystem{"sles", strings.ReplaceAll(version, "-SP", ".")}, version != ""
	}
	return ecosystem{}, false
}

// compareFor is the version ordering of a distribution.
func compareFor(distro string) func(a, b string) int {
	switch distro {
	case "debian", "ubuntu":
		return compareDpkg
	case "alpine":
		return compareAPK
	}
	return compareRPM
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
