package unix

import (
	"regexp"
	"strings"
)

// safeName matches package names we are willing to put on a command line.
// Names come from the host's own tool output, but they still end up in a
// shell line: anything else is refused rather than quoted.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+_:~@-]*$`)

// safeVersion matches versions we pin on a command line ("1.1-1",
// "2:1.1-1.el9", "1.2.3+deb12u1", "1.0~rc1").
var safeVersion = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+_:~-]*$`)

// rebootPackages are names whose upgrade is known to need a reboot; a
// prefix match when the entry ends in "*". Used to predict reboots in
// --dry-run, before anything is installed.
var rebootPackages = []string{
	"linux-image*", "linux-modules*", "linux-generic*", "linux", "linux-lts", "linux-virt", "linux-edge", "linux-zen", "linux-hardened",
	"kernel", "kernel-core", "kernel-default", "kernel-modules*", "kernel-uek*", "kernel-rt*",
	"glibc", "libc6", "systemd", "dbus", "dbus-broker", "dbus-daemon", "linux-firmware",
}

// needsReboot reports whether upgrading the named package predicts a reboot.
func needsReboot(name string) bool {
	name, _, _ = strings.Cut(name, ":") // apt multiarch "libc6:i386"
	for _, p := range rebootPackages {
		if base, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, base) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}
