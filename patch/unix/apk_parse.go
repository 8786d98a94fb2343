package unix

import (
	"strings"

	"github.com/patchrun/patchrun/patch"
)

// parseApkList returns the pending updates in `apk list -u` output
// (apk-tools 2.x, app_list.c), one package a line:
//
//	NAME-NEWVER ARCH {ORIGIN} (LICENSE) [upgradable from: NAME-OLDVER]
//
// Lines of another shape (warnings, "WARNING: opening …: No such file")
// are skipped. apk has no security metadata on the host: Security stays
// false, and advisory files give the risk data.
func parseApkList(out string) []patch.Update {
	var ups []patch.Update
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		nv, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		_, from, ok := strings.Cut(rest, "[upgradable from: ")
		if !ok {
			continue
		}
		from = strings.TrimSuffix(strings.TrimSpace(from), "]")
		name, newVer, ok := splitApkNameVersion(nv)
		if !ok {
			continue
		}
		oldName, oldVer, ok := splitApkNameVersion(from)
		if !ok || oldName != name {
			continue
		}
		u := patch.Update{Name: name, Current: oldVer, Available: newVer}
		if f := strings.Fields(rest); len(f) > 0 {
			u.Arch = f[0]
		}
		if i, j := strings.Index(rest, "{"), strings.Index(rest, "}"); i >= 0 && j > i+1 {
			u.Repo = "origin " + rest[i+1:j]
		}
		u.RebootRequired = needsReboot(name)
		ups = append(ups, u)
	}
	return ups
}

// splitApkNameVersion splits "NAME-VERSION-rREL" ("py3-idna-3.7-r0"):
// an apk version carries exactly one hyphen, before its "r" release, so
// the name ends at the second hyphen from the right.
func splitApkNameVersion(s string) (name, version string, ok bool) {
	rel := strings.LastIndexByte(s, '-')
	if rel <= 0 || !strings.HasPrefix(s[rel+1:], "r") {
		return "", "", false
	}
	v := strings.LastIndexByte(s[:rel], '-')
	if v <= 0 || v+1 >= rel || !isDigit(s[v+1]) {
		return "", "", false
	}
	return s[:v], s[v+1:], true
}
