package unix

import (
	"strings"
)

// parseRebootSignals reads CmdRebootSignals' output and returns the reasons
// a reboot is pending (none: not pending).
//
// The /lib/modules backstop fires only when the running kernel's directory
// is missing while others exist: the classic "kernel upgraded, old modules
// removed" state. A container or lab root with an empty or absent
// /lib/modules must not look like it needs a reboot.
func parseRebootSignals(out string) []string {
	s := splitSections(out)
	var reasons []string
	if firstLine(s[SectionRebootFile]) == rebootFlagPresentOut {
		r := "/run/reboot-required"
		if pkgs := nonEmptyLines(s[SectionRebootPkgs]); len(pkgs) > 0 {
			r += " (" + strings.Join(uniq(pkgs), ", ") + ")"
		}
		reasons = append(reasons, r)
	}
	if firstLine(s[SectionRebootNeeded]) == rebootFlagPresentOut {
		reasons = append(reasons, "/run/reboot-needed")
	}
	if r := kernelBackstop(firstLine(s[SectionKernel]), nonEmptyLines(s[SectionModules])); r != "" {
		reasons = append(reasons, r)
	}
	return reasons
}

// kernelBackstop compares the running kernel with /lib/modules entries.
func kernelBackstop(running string, modules []string) string {
	if running == "" || len(modules) == 0 {
		return ""
	}
	newest := ""
	for _, m := range modules {
		if m == running {
			return ""
		}
		if newest == "" || compareVersions(m, newest) > 0 {
			newest = m
		}
	}
	return "running kernel " + running + " has no /lib/modules entry (newest installed: " + newest + ")"
}

// compareVersions orders kernel release strings by their numeric and
// non-numeric runs ("6.1.0-18-amd64" > "6.1.0-9-amd64").
func compareVersions(a, b string) int {
	for a != "" || b != "" {
		ra, restA := nextRun(a)
		rb, restB := nextRun(b)
		if c := compareRun(ra, rb); c != 0 {
			return c
		}
		a, b = restA, restB
	}
	return 0
}

func nextRun(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	digit := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == digit {
		i++
	}
	return s[:i], s[i:]
}

func compareRun(a, b string) int {
	if a != "" && b != "" && isDigit(a[0]) && isDigit(b[0]) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
