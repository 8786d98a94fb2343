package unix

import (
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
)

// parsePkgUpgradeDryRun returns the package upgrades in `pkg upgrade -n`
// output (pkg 1.x, pkg-upgrade(8)): the tab-indented lines of the
// "Installed packages to be UPGRADED:" section,
//
//	NAME: OLDVER -> NEWVER
//	NAME: OLDVER -> NEWVER [REPO]
//
// ([REPO] when several repositories are configured). New packages pulled
// in as dependencies ("New packages to be INSTALLED:", "NAME: VER") and
// reinstalls are not upgrades of something installed and are left out:
// pkg upgrade brings them in with what needs them.
func parsePkgUpgradeDryRun(out string) []patch.Update {
	var ups []patch.Update
	in := false
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, " ") {
			in = strings.HasPrefix(line, "Installed packages to be UPGRADED:")
			continue
		}
		if !in {
			continue
		}
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 3 || f[1] != "->" {
			continue
		}
		u := patch.Update{Name: name, Current: f[0], Available: f[2], RebootRequired: needsReboot(name)}
		if len(f) > 3 {
			u.Repo = strings.Trim(f[3], "[]")
		}
		ups = append(ups, u)
	}
	return ups
}

// parsePkgAudit returns the names of the vulnerable packages `pkg audit
// -q` lists, one "NAME-VERSION" a line (a FreeBSD package version holds
// no hyphen, so the name ends at the last one).
func parsePkgAudit(out string) map[string]bool {
	vuln := map[string]bool{}
	for _, l := range nonEmptyLines(out) {
		if i := strings.LastIndexByte(l, '-'); i > 0 && !strings.Contains(l, " ") {
			vuln[l[:i]] = true
		}
	}
	return vuln
}

// parseBootID normalises the boot-id line: Linux's boot_id as it is; on
// FreeBSD `sysctl -n kern.boottime` ("{ sec = 1733390000, usec = 123456 }
// Thu Dec  5 09:13:20 2024") becomes "kern.boottime 1733390000.123456",
// with the boot time itself.
func parseBootID(line string) (id string, boot time.Time) {
	rest, ok := strings.CutPrefix(line, "{ sec = ")
	if !ok {
		return line, time.Time{}
	}
	secText, rest, _ := strings.Cut(rest, ",")
	usecText, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(rest), "usec = "), " ")
	sec, err1 := strconv.ParseInt(strings.TrimSpace(secText), 10, 64)
	usec, err2 := strconv.ParseInt(strings.TrimSpace(usecText), 10, 64)
	if err1 != nil || err2 != nil || sec <= 0 || usec < 0 || usec >= 1e6 {
		return line, time.Time{}
	}
	return "kern.boottime " + strconv.FormatInt(sec, 10) + "." + strconv.FormatInt(1e6+usec, 10)[1:], time.Unix(sec, usec*1000).UTC()
}

// freebsdKernelSignal compares the installed kernel (freebsd-version -k)
// with the running one (uname -r): "" when they agree or one is unknown.
func freebsdKernelSignal(out string) string {
	s := splitSections(out)
	installed, running := firstLine(s[SectionKernelFile]), firstLine(s[SectionKernel])
	if installed == "" || running == "" || installed == running {
		return ""
	}
	return "installed kernel " + installed + " differs from the running " + running + " (freebsd-version -k, uname -r)"
}
