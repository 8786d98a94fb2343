package unix

import (
	"strconv"
	"strings"
	"time"
)

// This file is the single source of truth for every command line the Linux
// backends send. The simulated fleet (internal/fleet) answers exactly these
// lines, so keep them here and nowhere else.
//
// Shell subset (the fleet's mini-shell interprets it): simple commands; `;`,
// `&&`, `||`; leading VAR=value assignments; redirections `>/dev/null`,
// `2>/dev/null`, `2>&1`, `</dev/null`; single and double quotes; a trailing
// `&` with nohup; `sh -c '...'`. No pipes, no $(...), no $?, no loops, no
// globs. Where one round trip gathers several facts, sections are separated
// by marker lines (`echo @@patchrun:NAME@@`).

// Marker section names. A marker line on stdout is "@@patchrun:" + name + "@@".
const (
	markerPrefix = "@@patchrun:"
	markerSuffix = "@@"

	SectionOSRelease     = "os-release"
	SectionKernel        = "kernel"
	SectionBootID        = "boot-id"
	SectionManagers      = "managers"
	SectionUID           = "uid"
	SectionSystemdRun    = "systemd-run"
	SectionRebootFile    = "reboot-required"      // Debian/Ubuntu flag file
	SectionRebootPkgs    = "reboot-required-pkgs" // why it is set
	SectionRebootNeeded  = "reboot-needed"        // SUSE flag file
	SectionModules       = "modules"              // ls -1 /lib/modules
	SectionArch          = "arch"                 // uname -m
	SectionUptime        = "uptime"               // /proc/uptime
	SectionTZ            = "tz"                   // date +%z, for dpkg.log's local times
	SectionAddresses     = "addresses"            // ip -o addr show, else hostname -I
	SectionDpkgLast      = "dpkg-last"            // dpkg.log's newest install/upgrade line
	SectionRPMLast       = "rpm-last"             // the newest rpm INSTALLTIME (epoch seconds)
	SectionPacmanLast    = "pacman-last"          // pacman.log's newest installed/upgraded line
	SectionApkLast       = "apk-last"             // when apk's installed database last changed (epoch seconds)
	SectionPkgLast       = "pkg-last"             // when FreeBSD pkg's database last changed (epoch seconds)
	SectionKernelFile    = "installed-kernel"     // FreeBSD: freebsd-version -k
	SectionAdvisories    = "advisories"           // updateinfo rows of pending updates
	SectionCVEs          = "cves"                 // updateinfo CVE rows of pending updates
	SectionScan          = "scan"                 // a scan's output, in the boot id read after a reboot
	SectionScanExit      = "scan-exit"            // that scan's exit status
	SectionEnd           = "end"
	rebootFlagPresentOut = "present"
)

// Environment prefixes. LANG/LC_ALL=C keep output parseable (no translated
// headers, no locale-dependent dates).
const (
	envC   = "LANG=C LC_ALL=C "
	envApt = "LANG=C LC_ALL=C DEBIAN_FRONTEND=noninteractive "
	// ZYPP_LOCK_TIMEOUT makes zypper wait for a held lock instead of exiting 7.
	envZypper = "LANG=C LC_ALL=C ZYPP_LOCK_TIMEOUT=120 "
)

// SudoPrefix is put in front of privileged commands when Options.Sudo is set
// and the login user is not root. -n: never prompt (a prompt would hang the
// run); sudo passes the leading VAR=value words to the command itself.
// Privileged: every apt-get/dnf/dnf5/yum/zypper/needs-restarting line and the
// reboot lines. An install or refresh line runs inside a detached job
// (job.go): the prefix then moves from the line to the job script's own
// `sudo -n sh -s -- patchrun-job …` line. Not privileged: the probes (CmdProbe, CmdRebootSignals,
// CmdBootID), rpm -q and the ready command.
const SudoPrefix = "sudo -n "

func marker(name string) string { return "echo " + markerPrefix + name + markerSuffix }

// CmdProbe gathers, in one round trip: os-release, running kernel, boot id,
// the package managers present (`command -v` prints the path of each one
// found, nothing for a missing one), the login uid, whether systemd-run
// exists, and the facts: architecture, uptime, time zone offset, addresses,
// and the newest install in dpkg.log (Debian family) or, without dpkg, the
// rpm database. Every part is read-only and cheap.
var CmdProbe = strings.Join([]string{
	marker(SectionOSRelease),
	"cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null",
	marker(SectionKernel),
	"uname -r",
	marker(SectionBootID),
	CmdBootID,
	marker(SectionManagers),
	// One `command -v` per name: dash (Debian's /bin/sh) only looks at the
	// first argument of `command -v a b c`.
	"command -v dnf5",
	"command -v dnf",
	"command -v yum",
	"command -v zypper",
	"command -v apk",
	"command -v pacman",
	"command -v apt-get",
	"command -v pkg",
	marker(SectionUID),
	"id -u",
	marker(SectionSystemdRun),
	"command -v systemd-run",
	marker(SectionArch),
	"uname -m",
	marker(SectionUptime),
	"cat /proc/uptime",
	marker(SectionTZ),
	"date +%z",
	marker(SectionAddresses),
	"ip -o addr show 2>/dev/null || hostname -I 2>/dev/null",
	marker(SectionDpkgLast),
	// dpkg.log.1 first: the last matching line is the newest.
	"grep -hsE ' (install|upgrade) ' /var/log/dpkg.log.1 /var/log/dpkg.log | tail -n 1",
	marker(SectionRPMLast),
	"command -v dpkg >/dev/null || rpm -qa --qf '%{INSTALLTIME}\\n' 2>/dev/null | sort -n | tail -n 1",
	marker(SectionPacmanLast),
	"command -v pacman >/dev/null && grep -hsE '\\] \\[ALPM\\] (installed|upgraded) ' /var/log/pacman.log | tail -n 1",
	marker(SectionApkLast),
	"command -v apk >/dev/null && stat -c %Y /lib/apk/db/installed 2>/dev/null",
	marker(SectionPkgLast),
	"command -v freebsd-version >/dev/null && stat -f %m /var/db/pkg/local.sqlite 2>/dev/null",
	marker(SectionEnd),
}, "; ")

// CmdRebootSignals gathers every file-based pending-reboot signal and the
// data for the kernel backstop in one round trip.
var CmdRebootSignals = strings.Join([]string{
	marker(SectionRebootFile),
	"test -e /run/reboot-required && echo " + rebootFlagPresentOut,
	marker(SectionRebootPkgs),
	"cat /run/reboot-required.pkgs 2>/dev/null",
	marker(SectionRebootNeeded),
	"test -e /run/reboot-needed && echo " + rebootFlagPresentOut,
	marker(SectionKernel),
	"uname -r",
	marker(SectionModules),
	"ls -1 /lib/modules 2>/dev/null",
	marker(SectionEnd),
}, "; ")

// CmdBootID prints the identity of the running boot: Linux's boot_id, or
// on FreeBSD the boot time to the microsecond ("{ sec = 1733390000, usec
// = 123456 } Thu Dec  5 09:13:20 2024"), which parseBootID normalises.
const CmdBootID = "cat /proc/sys/kernel/random/boot_id 2>/dev/null || sysctl -n kern.boottime"

// CmdBootState prints the boot id and then CmdRebootSignals' sections: a
// look at a rebooted host and its pending-reboot check in one round trip.
var CmdBootState = marker(SectionBootID) + "; " + CmdBootID + "; " + CmdRebootSignals

// CmdBootStateScan is CmdBootState with scan (one simple command) added
// when the boot is not before: the scan's output in SectionScan, then its
// exit status in SectionScanExit, before the signals (whose SectionEnd
// stays last, so an answer cut short is still seen as one). Each step is
// guarded by its own test, so the line stays in the simulated fleet's
// shell subset (no if, no braces).
func CmdBootStateScan(before, scan string) string {
	old := `test "$b" = ` + shQuote(before) + " || "
	return marker(SectionBootID) + "; b=$(" + CmdBootID + `); echo "$b"; ` +
		old + marker(SectionScan) + "; " + old + scan + "; s=$?; " +
		old + marker(SectionScanExit) + "; " + old + "echo $s; " +
		CmdRebootSignals
}

// DefaultReadyCommand is the readiness probe when Options.ReadyCommand is empty.
const DefaultReadyCommand = "true"

// ---- apt (Debian, Ubuntu) ----

const (
	// CmdAptRefresh refreshes package lists, waiting up to 120 s for the lock.
	CmdAptRefresh = envC + "apt-get -q update -o DPkg::Lock::Timeout=120"
	// CmdAptScan simulates a full upgrade; its "Inst" lines are the pending
	// updates. Debug::NoLocking lets it run beside another apt and as non-root.
	CmdAptScan = envC + "apt-get -s -o Debug::NoLocking=1 dist-upgrade"
	// aptInstallOpts: never prompt, keep local conffiles (a conffile prompt
	// on a closed stdin otherwise exits 100 and leaves packages half-configured),
	// and never remove a package: --no-remove makes apt abort with "Packages
	// need to be removed but remove is disabled" before changing anything,
	// so a patch run cannot uninstall software behind the admin's back.
	aptInstallOpts = envApt + "apt-get -y -q --no-remove -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
	// CmdAptUpgradeAll installs every pending update (new dependencies too).
	CmdAptUpgradeAll = aptInstallOpts + " dist-upgrade </dev/null"
)

// CmdAptInstall upgrades exactly the named, already-installed packages;
// specs are AptPin's "name=version", so apt installs that version and never
// a newer one published since the scan.
func CmdAptInstall(specs []string) string {
	return aptInstallOpts + " install --only-upgrade " + strings.Join(specs, " ") + " </dev/null"
}

// CmdDpkgAudit lists packages an interrupted dpkg left unpacked or
// half-configured; it prints nothing when dpkg is consistent.
const CmdDpkgAudit = envC + "dpkg --audit"

// RepairDpkg finishes what an interrupted dpkg left half-done.
const RepairDpkg = "dpkg --configure -a"

// AptPin names a package at one version for apt-get install.
func AptPin(name, version string) string { return name + "=" + version }

// ---- dnf / dnf5 / yum (RHEL family, Fedora, Amazon Linux) ----
// bin is "dnf", "dnf5" or "yum".

// CmdRPMRefresh refreshes metadata ("yum makecache fast" on yum).
func CmdRPMRefresh(bin string) string {
	if bin == "yum" {
		return envC + "yum -q makecache fast"
	}
	return envC + bin + " -q -y makecache"
}

// CmdRPMCheckUpdate lists pending updates: exit 100 = some, 0 = none, 1 = error.
func CmdRPMCheckUpdate(bin string) string { return envC + bin + " -q -y check-update" }

// CmdRPMAdvisories lists, in one round trip, the advisories of every
// pending update (all types, with severity and date) and the CVEs they fix,
// as two marker sections (SectionAdvisories, SectionCVEs). sudo is "" or
// SudoPrefix: each privileged command carries it. dnf5 lists the
// advisories only (its list prints no CVE ids).
func CmdRPMAdvisories(bin, sudo string) string {
	switch bin {
	case "dnf5":
		return marker(SectionAdvisories) + " && " + sudo + envC + "dnf5 -q advisory list --updates"
	case "yum":
		return marker(SectionAdvisories) + " && " + sudo + envC + "yum -q updateinfo list updates && " +
			marker(SectionCVEs) + " && " + sudo + envC + "yum -q updateinfo list updates cves"
	}
	return marker(SectionAdvisories) + " && " + sudo + envC + bin + " -q -v updateinfo list --updates && " +
		marker(SectionCVEs) + " && " + sudo + envC + bin + " -q updateinfo list --updates --with-cve"
}

// RPMQueryFormat prints "name.arch epoch:version-release" for installed packages.
const RPMQueryFormat = `%{NAME}.%{ARCH} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\n`

// CmdRPMInstalled prints the installed version of each named package; a
// missing one prints "package NAME is not installed" and exit status 1.
func CmdRPMInstalled(names []string) string {
	return envC + "rpm -q --qf '" + RPMQueryFormat + "' " + strings.Join(names, " ")
}

// RPMPin names a package at one version for dnf/yum: the NEVRA form
// "name-[epoch:]version-release.arch" both tools accept (version as
// check-update prints it).
func RPMPin(name, version, arch string) string {
	if arch == "" {
		return name + "-" + version
	}
	return name + "-" + version + "." + arch
}

// CmdRPMUpgrade upgrades the named packages (RPMPin specs), or everything
// when names is empty.
func CmdRPMUpgrade(bin string, names []string) string {
	verb := "upgrade"
	if bin == "yum" {
		verb = "update"
	}
	line := envC + bin + " -y " + verb
	if len(names) > 0 {
		line += " " + strings.Join(names, " ")
	}
	return line
}

// CmdRPMNeedsRestarting exits 1 when a reboot is needed, 0 when not. dnf5
// dropped -r (its default answers the reboot question); yum's comes from
// yum-utils as a separate program.
func CmdRPMNeedsRestarting(bin string) string {
	switch bin {
	case "dnf5":
		return envC + "dnf5 -q needs-restarting"
	case "yum":
		return envC + "needs-restarting -r"
	}
	return envC + bin + " -q needs-restarting -r"
}

// ---- zypper (SLES, openSUSE) ----

const (
	CmdZypperRefresh     = envZypper + "zypper -n refresh"
	CmdZypperListUpdates = envZypper + "zypper -n --xmlout list-updates"
	// CmdZypperPatches lists the patches (advisories) with their
	// category, severity, date and CVE references; it names no packages
	// (CmdZypperPatchInfo does). In --xmlout mode it lists every patch not
	// yet applied, whatever --category says (seen with zypper 1.14.42).
	CmdZypperPatches = envZypper + "zypper -n --xmlout list-patches"
	// CmdZypperNeedsRebooting exits 102 when a reboot is needed, 0 when not.
	CmdZypperNeedsRebooting = envC + "zypper -n needs-rebooting"
)

// CmdZypperPatchInfo prints the given patches' details, whose Conflicts
// list names the packages (and versions) each one upgrades.
func CmdZypperPatchInfo(names []string) string {
	return envZypper + "zypper -n info -t patch " + strings.Join(names, " ")
}

// CmdZypperUpdate updates every installed package that has an update.
const CmdZypperUpdate = envZypper + "zypper -n update --auto-agree-with-licenses"

// CmdZypperInstall installs exactly the given ZypperPin specs
// ("name=version"): for an installed package that is an upgrade to that
// version, never to a newer one (install is the verb zypper documents
// for name=version capabilities).
func CmdZypperInstall(specs []string) string {
	return envZypper + "zypper -n install --auto-agree-with-licenses " + strings.Join(specs, " ")
}

// CmdStaleLock prints the pid in the lock file when no such process runs
// (a package manager was killed and left its lock), nothing otherwise.
func CmdStaleLock(file string) string {
	return "test -s " + file + " && test ! -d /proc/$(cat " + file + ") && cat " + file
}

// ZypperPin names a package at one version (edition) for zypper install.
func ZypperPin(name, version string) string { return name + "=" + version }

// ---- apk (Alpine Linux) ----

const (
	// apkOpts: no progress bar on a pipe; wait up to 120 s for the database
	// lock another apk holds instead of failing at once.
	apkOpts = "--no-progress --wait 120"
	// CmdApkRefresh fetches the repositories' indexes.
	CmdApkRefresh = envC + "apk update " + apkOpts
	// CmdApkScan lists the upgradable packages, one a line:
	// "NAME-NEWVER ARCH {ORIGIN} (LICENSE) [upgradable from: NAME-OLDVER]".
	// It reads the cached indexes and needs no privileges.
	CmdApkScan = envC + "apk list -u"
	// CmdApkUpgradeAll upgrades every installed package.
	CmdApkUpgradeAll = envC + "apk upgrade " + apkOpts
)

// CmdApkUpgrade upgrades exactly the named installed packages. apk takes
// no version on this line: `apk add name=version` would pin the version
// in /etc/apk/world for good, so the install is verified by a rescan
// instead (a newer version published since the scan shows as installed at
// the wrong version).
func CmdApkUpgrade(names []string) string {
	return CmdApkUpgradeAll + " " + strings.Join(names, " ")
}

// ---- pacman (Arch Linux) ----

// PacmanScanDB is the separate database path the pacman scan syncs into,
// as checkupdates does: its local/ is a symbolic link to the host's own
// local database, its sync/ a private copy of the repositories' databases.
// `pacman -Sy` on the host's own database path would leave the host in the
// partial-upgrade state Arch does not support (new sync databases,
// old packages); this one leaves /var/lib/pacman untouched. It lives in
// /var/tmp, so a scan without refresh after a reboot still finds the last
// sync.
const PacmanScanDB = "/var/tmp/patchrun-pacman-db"

const (
	// CmdPacmanRefresh syncs the repositories' databases into PacmanScanDB.
	CmdPacmanRefresh = "mkdir -p " + PacmanScanDB + " && ln -sfn /var/lib/pacman/local " + PacmanScanDB + "/local && " +
		envC + "pacman -Sy --dbpath " + PacmanScanDB + " --logfile /dev/null --noprogressbar"
	// CmdPacmanScan lists pending upgrades against PacmanScanDB, one a line:
	// "NAME OLDVER -> NEWVER", " [ignored]" after one IgnorePkg holds back.
	// Exit 1 with no output: nothing pending. Needs no privileges.
	CmdPacmanScan = envC + "pacman -Qu --dbpath " + PacmanScanDB
	// CmdPacmanUpgradeAll is Arch's only supported upgrade: sync and
	// upgrade everything in one transaction.
	CmdPacmanUpgradeAll = envC + "pacman -Syu --noconfirm --noprogressbar"
)

// ---- FreeBSD: pkg for packages, freebsd-update for the base system ----

// FreeBSDJobDir holds detached jobs on FreeBSD, which has no /run:
// /var/run is emptied at boot (rc.d/cleanvar), as /run is on Linux.
const FreeBSDJobDir = "/var/run/patchrun"

const (
	// envPkg: never prompt; never bootstrap or update the catalogue on
	// its own (Refresh does that).
	envPkg = "LANG=C LC_ALL=C ASSUME_ALWAYS_YES=yes "
	// envFreeBSDUpdate: no pager, and no refusal for lacking a terminal.
	envFreeBSDUpdate = "LANG=C LC_ALL=C PAGER=cat "
	// CmdPkgRefresh updates the package catalogues, fetches the
	// vulnerability database pkg audit reads, and fetches (without
	// installing) pending base-system patches. The exit status is pkg
	// update's and freebsd-update's; pkg audit -F exits 1 when it finds a
	// vulnerable package, which is not a failure.
	CmdPkgRefresh = envPkg + "pkg update -q && { " + envPkg + "pkg audit -Fq >/dev/null 2>&1; true; } && " +
		envFreeBSDUpdate + "freebsd-update --not-running-from-cron fetch"
	// CmdPkgScan prints what `pkg upgrade` would do, from the catalogues
	// as Refresh left them (-U: no catalogue update).
	CmdPkgScan = envPkg + "pkg upgrade -n -U"
	// CmdPkgAudit lists the installed packages with known vulnerabilities
	// ("curl-8.9.1"), exit 1 when there are some.
	CmdPkgAudit = envPkg + "pkg audit -q"
	// CmdFreeBSDUpdatesReady exits 0 when freebsd-update has fetched
	// updates ready to install, 2 when not.
	CmdFreeBSDUpdatesReady = envFreeBSDUpdate + "freebsd-update updatesready"
	// CmdPkgUpgradeAll upgrades every package.
	CmdPkgUpgradeAll = envPkg + "pkg upgrade -y -U"
	// CmdFreeBSDUpdateInstall installs the fetched base-system patches.
	CmdFreeBSDUpdateInstall = envFreeBSDUpdate + "freebsd-update --not-running-from-cron install"
	// CmdFreeBSDKernels prints the installed kernel's version
	// (freebsd-version -k) and the running one's (uname -r): a reboot is
	// required when they differ.
	CmdFreeBSDKernels = "echo " + markerPrefix + SectionKernelFile + markerSuffix + "; freebsd-version -k; " +
		"echo " + markerPrefix + SectionKernel + markerSuffix + "; uname -r"
)

// CmdPkgUpgrade upgrades exactly the named packages (pkg takes names
// here, not versions; the install is verified by a rescan).
func CmdPkgUpgrade(names []string) string {
	return CmdPkgUpgradeAll + " " + strings.Join(names, " ")
}

// ---- reboot ----

// CmdSystemdReboot schedules a reboot delay from now in a transient systemd
// unit, so the SSH command returns before the link dies. systemd-run makes
// its timers exact (AccuracySec=1us), so a sub-second delay is kept.
func CmdSystemdReboot(delay time.Duration, unit string) string {
	return "systemd-run --on-active=" + systemdSpan(delay) + " --unit=" + unit + " systemctl reboot"
}

// systemdSpan writes d for systemd ("5s", "200ms"), in whole milliseconds.
func systemdSpan(d time.Duration) string {
	ms := d.Milliseconds()
	if ms%1000 == 0 {
		return strconv.FormatInt(ms/1000, 10) + "s"
	}
	return strconv.FormatInt(ms, 10) + "ms"
}

// CmdSystemdCancelReboot cancels the reboot CmdSystemdReboot scheduled in
// unit if its timer is still waiting. It prints CancelledOut when it
// stopped the timer, else the timer's state ("elapsed": it has fired and the
// reboot is under way; "dead" or nothing: no such timer is loaded). It holds
// no single quote, so it can run under sudo -n sh -c '…'.
func CmdSystemdCancelReboot(unit string) string {
	return "state=$(systemctl show -p SubState --value " + unit + ".timer 2>/dev/null); " +
		`test "$state" = waiting && systemctl stop ` + unit + ".timer && echo " + CancelledOut + ` || echo "$state"`
}

// CancelledOut is what a cancel command prints when it cancelled a reboot.
const CancelledOut = "cancelled"

// CmdNohupReboot is the fallback without systemd: a detached sleep+reboot.
// The sleeping shell's $0 is name, so CmdNohupCancelReboot can find it.
// A sleep that does not take fractions fails at once, and the reboot then
// comes without delay: still detached, still confirmed by the boot id.
func CmdNohupReboot(delay time.Duration, name string) string {
	secs := strconv.FormatFloat(float64(delay.Milliseconds())/1000, 'f', -1, 64)
	return "nohup sh -c 'sleep " + secs + "; reboot' " + name + " >/dev/null 2>&1 </dev/null &"
}

// CmdNohupCancelReboot kills the shell CmdNohupReboot left sleeping before
// its reboot (its sleep then ends harmlessly). pkill exits 1 when nothing
// matched. The bracket keeps the pattern from matching this command's own
// shell.
func CmdNohupCancelReboot(name string) string {
	return `pkill -f "[` + name[:1] + `]` + name[1:] + `"`
}

// RebootUnitPrefix starts the transient unit name of a scheduled reboot.
const RebootUnitPrefix = "patchrun-reboot-"
