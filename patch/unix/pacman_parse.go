package unix

import (
	"strings"

	"github.com/patchrun/patchrun/patch"
)

// parsePacmanQueryUpgrades returns the pending updates in `pacman -Qu`
// output, one package a line:
//
//	NAME OLDVER -> NEWVER
//	NAME OLDVER -> NEWVER [ignored]
//
// A package IgnorePkg holds back is left out: pacman -Syu will not
// upgrade it. Arch has no security metadata on the host: Security stays
// false, and advisory files give the risk data.
func parsePacmanQueryUpgrades(out string) []patch.Update {
	var ups []patch.Update
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[2] != "->" {
			continue
		}
		if len(f) > 4 && f[4] == "[ignored]" {
			continue
		}
		ups = append(ups, patch.Update{Name: f[0], Current: f[1], Available: f[3], RebootRequired: needsReboot(f[0])})
	}
	return ups
}
