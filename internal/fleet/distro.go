package fleet

import "time"

// Distro names a simulated operating system profile: its os-release, package
// manager, installed packages and the updates its repositories offer.
type Distro string

// The supported profiles. Their package data mirrors what the real
// distributions shipped (names, version shapes, repositories, advisories),
// so parsers see realistic input.
const (
	Debian12    Distro = "debian-12"          // apt, Debian-Security suite, kernel via a NEW linux-image package
	Ubuntu2404  Distro = "ubuntu-24.04"       // apt, noble-security pocket
	Rocky9      Distro = "rocky-9"            // dnf 4, RLSA advisories, installonly kernel
	OpenSUSE155 Distro = "opensuse-leap-15.5" // zypper, patches, multiversion kernel-default
	Alpine320   Distro = "alpine-3.20"        // apk, OpenRC (no systemd), kernel replaced in place
	ArchLinux   Distro = "arch"               // pacman, rolling, kernel replaced in place
)

// Distros lists every profile in a stable order (the order Config.Count
// spreads hosts over).
func Distros() []Distro {
	return []Distro{Debian12, Rocky9, OpenSUSE155, Ubuntu2404, Alpine320, ArchLinux}
}

// Package is one installed package version.
type Package struct {
	Name    string
	Version string // dpkg version, or rpm [epoch:]version-release
	Arch    string
}

// Update is a newer package version a host's repositories offer.
type Update struct {
	Name    string
	Version string
	Arch    string
	// Repo is where it comes from: for apt the "Label:Version/Suite" origin
	// printed in Inst lines, for dnf the repo id, for zypper the repo alias.
	Repo     string
	Security bool
	// Category is the advisory type: "security", "bugfix", "enhancement",
	// "recommended". Empty means "security" when Security is set, else "bugfix".
	Category string
	Advisory string // RLSA-…, openSUSE-SLE-…; "" when none
	Severity string // "Important", "Moderate", … ("" when none)
	// CVEs the advisory references; Issued is its date (zero: none).
	CVEs    []string
	Issued  time.Time
	Summary string
	// Reboot: installing it sets the host's reboot-required signals.
	Reboot bool
	// Kernel is the kernel release this package installs ("6.1.0-40-amd64");
	// it appears under /lib/modules and runs after the next boot.
	Kernel string
	// InstallOnly packages (rpm kernels) are installed beside older versions.
	InstallOnly bool
	// Requires names packages the update pulls in (a kernel metapackage's new
	// image package); they are installed or upgraded with it.
	Requires []string
	// Conffile is a configuration file the package ships; with the
	// ModifiedConffile fault apt stops at dpkg's conffile prompt.
	Conffile string
}

func (u Update) category() string {
	switch {
	case u.Category != "":
		return u.Category
	case u.Security:
		return "security"
	}
	return "bugfix"
}

// profile is the static description of a distro. Profiles are immutable and
// shared by every host of that distro.
type profile struct {
	distro    Distro
	short     string // host name prefix
	osRelease string
	manager   string // "apt", "dnf", "zypper", "apk", "pacman"
	// noSystemd: the host runs another init (Alpine's OpenRC): no
	// systemctl, no systemd-run.
	noSystemd bool
	// kernelInPlace: a kernel upgrade replaces the running kernel's
	// /lib/modules directory instead of installing beside it (apk, pacman).
	kernelInPlace bool
	programs      []string
	installed     []Package
	updates       []Update
	kernels       []string // installed kernel releases, oldest first; the last one runs
	repos         map[string]repoInfo
	lockPID       int
}

// repoInfo says how a repository shows up in the package manager's output.
type repoInfo struct {
	URL  string // apt: archive URI; zypper: repo URL
	Dist string // apt: "bookworm-security/main"; dnf/zypper: human name
}

var commonPrograms = []string{
	"cat", "ls", "uname", "id", "hostname", "uptime", "sleep", "sudo", "sh", "bash",
	"nohup", "env", "timeout", "mkdir", "rm", "touch", "chmod", "systemctl",
	"systemd-run", "reboot", "poweroff", "halt", "shutdown", "who", "date", "whoami",
	"grep", "tail", "sort", "ip", "health-check", "hook",
}

// profileFor returns the profile of d, or nil when d is unknown.
func profileFor(d Distro) *profile {
	switch d {
	case Debian12:
		return debian12Profile()
	case Ubuntu2404:
		return ubuntu2404Profile()
	case Rocky9:
		return rocky9Profile()
	case OpenSUSE155:
		return leap155Profile()
	case Alpine320:
		return alpine320Profile()
	case ArchLinux:
		return archProfile()
	}
	return nil
}

const (
	debMain = "Debian:12.15/oldstable"
	debSec  = "Debian-Security:12/oldstable-security"
)

func debian12Profile() *profile {
	return &profile{
		distro: Debian12, short: "debian", manager: "apt", lockPID: 2215,
		osRelease: `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`,
		programs: []string{"apt-get", "apt", "dpkg", "dpkg-query"},
		installed: []Package{
			{"apt", "2.6.1", "amd64"}, {"base-files", "12.4+deb12u11", "amd64"},
			{"bash", "5.2.15-2+b8", "amd64"}, {"coreutils", "9.1-1", "amd64"},
			{"curl", "7.88.1-10+deb12u12", "amd64"}, {"dpkg", "1.21.22", "amd64"},
			{"libcurl4", "7.88.1-10+deb12u12", "amd64"}, {"libssl3", "3.0.19-1~deb12u2", "amd64"},
			{"linux-image-6.1.0-37-amd64", "6.1.140-1", "amd64"}, {"linux-image-amd64", "6.1.140-1", "amd64"},
			{"openssh-server", "1:9.2p1-2+deb12u7", "amd64"}, {"openssl", "3.0.19-1~deb12u2", "amd64"},
			{"rsyslog", "8.2302.0-1", "amd64"}, {"systemd", "252.38-1~deb12u1", "amd64"},
			{"tzdata", "2025b-0+deb12u1", "all"},
		},
		updates: []Update{
			{Name: "base-files", Version: "12.4+deb12u15", Arch: "amd64", Repo: debMain},
			{Name: "libssl3", Version: "3.0.22-1~deb12u2", Arch: "amd64", Repo: debSec, Security: true},
			{Name: "openssl", Version: "3.0.22-1~deb12u2", Arch: "amd64", Repo: debSec, Security: true},
			{Name: "curl", Version: "7.88.1-10+deb12u14", Arch: "amd64", Repo: debSec, Security: true},
			{Name: "libcurl4", Version: "7.88.1-10+deb12u14", Arch: "amd64", Repo: debSec, Security: true},
			{Name: "rsyslog", Version: "8.2302.0-1+deb12u1", Arch: "amd64", Repo: debMain, Conffile: "/etc/rsyslog.conf"},
			{Name: "systemd", Version: "252.39-1~deb12u2", Arch: "amd64", Repo: debMain},
			{Name: "tzdata", Version: "2025b-0+deb12u2", Arch: "all", Repo: debMain},
			{Name: "linux-image-amd64", Version: "6.1.153-1", Arch: "amd64", Repo: debSec, Security: true,
				Requires: []string{"linux-image-6.1.0-40-amd64"}},
			{Name: "linux-image-6.1.0-40-amd64", Version: "6.1.153-1", Arch: "amd64", Repo: debSec, Security: true,
				Reboot: true, Kernel: "6.1.0-40-amd64"},
		},
		kernels: []string{"6.1.0-37-amd64"},
		repos: map[string]repoInfo{
			debMain: {URL: "http://deb.debian.org/debian", Dist: "bookworm/main"},
			debSec:  {URL: "http://deb.debian.org/debian-security", Dist: "bookworm-security/main"},
		},
	}
}

const (
	ubuUpd = "Ubuntu:24.04/noble-updates"
	ubuSec = "Ubuntu:24.04/noble-security"
)

func ubuntu2404Profile() *profile {
	return &profile{
		distro: Ubuntu2404, short: "ubuntu", manager: "apt", lockPID: 1873,
		osRelease: `PRETTY_NAME="Ubuntu 24.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.3 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
`,
		programs: []string{"apt-get", "apt", "dpkg", "dpkg-query"},
		installed: []Package{
			{"apt", "2.7.14build2", "amd64"}, {"base-files", "13ubuntu10.2", "amd64"},
			{"libssl3t64", "3.0.13-0ubuntu3.5", "amd64"}, {"openssl", "3.0.13-0ubuntu3.5", "amd64"},
			{"linux-image-6.8.0-79-generic", "6.8.0-79.79", "amd64"}, {"linux-image-generic", "6.8.0-79.79", "amd64"},
			{"openssh-server", "1:9.6p1-3ubuntu13.13", "amd64"}, {"sudo", "1.9.15p5-3ubuntu5.24.04.1", "amd64"},
		},
		updates: []Update{
			{Name: "base-files", Version: "13ubuntu10.3", Arch: "amd64", Repo: ubuUpd},
			{Name: "libssl3t64", Version: "3.0.13-0ubuntu3.6", Arch: "amd64", Repo: ubuSec, Security: true},
			{Name: "openssl", Version: "3.0.13-0ubuntu3.6", Arch: "amd64", Repo: ubuSec, Security: true},
			{Name: "sudo", Version: "1.9.15p5-3ubuntu5.24.04.2", Arch: "amd64", Repo: ubuUpd},
			{Name: "linux-image-generic", Version: "6.8.0-87.88", Arch: "amd64", Repo: ubuSec, Security: true,
				Requires: []string{"linux-image-6.8.0-87-generic"}},
			{Name: "linux-image-6.8.0-87-generic", Version: "6.8.0-87.88", Arch: "amd64", Repo: ubuSec, Security: true,
				Reboot: true, Kernel: "6.8.0-87-generic"},
		},
		kernels: []string{"6.8.0-79-generic"},
		repos: map[string]repoInfo{
			ubuUpd: {URL: "http://archive.ubuntu.com/ubuntu", Dist: "noble-updates/main"},
			ubuSec: {URL: "http://security.ubuntu.com/ubuntu", Dist: "noble-security/main"},
		},
	}
}

func rocky9Profile() *profile {
	return &profile{
		distro: Rocky9, short: "rocky", manager: "dnf", lockPID: 1544,
		osRelease: `NAME="Rocky Linux"
VERSION="9.6 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.6"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.6 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2032-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.6"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.6"
`,
		programs: []string{"dnf", "yum", "rpm", "needs-restarting"},
		installed: []Package{
			{"bash", "5.1.8-9.el9", "x86_64"}, {"dnf", "4.14.0-25.el9", "noarch"},
			{"glibc", "2.34-168.el9_6.19", "x86_64"},
			{"kernel", "5.14.0-570.17.1.el9_6", "x86_64"}, {"kernel-core", "5.14.0-570.17.1.el9_6", "x86_64"},
			{"openssh-server", "8.7p1-45.el9", "x86_64"},
			{"openssl", "1:3.2.2-6.el9_5.1", "x86_64"}, {"openssl-libs", "1:3.2.2-6.el9_5.1", "x86_64"},
			{"rpm", "4.16.1.3-37.el9", "x86_64"}, {"tzdata", "2025a-1.el9", "noarch"},
			{"vim-minimal", "2:8.2.2637-21.el9", "x86_64"},
		},
		updates: []Update{
			{Name: "glibc", Version: "2.34-168.el9_6.23", Arch: "x86_64", Repo: "baseos",
				Advisory: "RLBA-2025:14312", Issued: time.Date(2025, 8, 20, 0, 0, 0, 0, time.UTC), Summary: "glibc bug fix update", Reboot: true},
			{Name: "kernel", Version: "5.14.0-570.58.1.el9_6", Arch: "x86_64", Repo: "baseos", Security: true,
				Advisory: "RLSA-2025:17797", Severity: "Important", CVEs: kernelRLSA, Issued: time.Date(2025, 10, 14, 0, 0, 0, 0, time.UTC), Summary: "Important: kernel security update",
				InstallOnly: true, Reboot: true, Kernel: "5.14.0-570.58.1.el9_6.x86_64", Requires: []string{"kernel-core"}},
			{Name: "kernel-core", Version: "5.14.0-570.58.1.el9_6", Arch: "x86_64", Repo: "baseos", Security: true,
				Advisory: "RLSA-2025:17797", Severity: "Important", CVEs: kernelRLSA, Issued: time.Date(2025, 10, 14, 0, 0, 0, 0, time.UTC), Summary: "Important: kernel security update",
				InstallOnly: true, Reboot: true},
			{Name: "openssl", Version: "1:3.2.2-6.el9_6.2", Arch: "x86_64", Repo: "baseos", Security: true,
				Advisory: "RLSA-2025:16046", Severity: "Moderate", CVEs: opensslRLSA, Issued: time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC), Summary: "Moderate: openssl security update",
				Requires: []string{"openssl-libs"}},
			{Name: "openssl-libs", Version: "1:3.2.2-6.el9_6.2", Arch: "x86_64", Repo: "baseos", Security: true,
				Advisory: "RLSA-2025:16046", Severity: "Moderate", CVEs: opensslRLSA, Issued: time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC), Summary: "Moderate: openssl security update"},
			{Name: "tzdata", Version: "2025b-1.el9", Arch: "noarch", Repo: "baseos",
				Advisory: "RLBA-2025:9876", Issued: time.Date(2025, 6, 25, 0, 0, 0, 0, time.UTC), Summary: "tzdata bug fix and enhancement update"},
			{Name: "vim-minimal", Version: "2:8.2.2637-22.el9_6", Arch: "x86_64", Repo: "baseos",
				Category: "enhancement", Advisory: "RLEA-2025:10110", Issued: time.Date(2025, 7, 2, 0, 0, 0, 0, time.UTC), Summary: "vim enhancement update"},
		},
		kernels: []string{"5.14.0-570.17.1.el9_6.x86_64"},
		repos: map[string]repoInfo{
			"baseos":    {Dist: "Rocky Linux 9 - BaseOS"},
			"appstream": {Dist: "Rocky Linux 9 - AppStream"},
			"extras":    {Dist: "Rocky Linux 9 - Extras"},
		},
	}
}

const leapUpd = "repo-sle-update"

// CVE references of the simulated advisories (kernel ones include CVEs on
// CISA's known-exploited list, so --kev has something to flag).
var (
	kernelRLSA  = []string{"CVE-2025-38352", "CVE-2025-39682"}
	opensslRLSA = []string{"CVE-2025-9230", "CVE-2025-9232"}
	kernelSUSE  = []string{"CVE-2024-36971", "CVE-2024-41011"}
	opensslSUSE = []string{"CVE-2024-6119"}
)

func leap155Profile() *profile {
	return &profile{
		distro: OpenSUSE155, short: "leap", manager: "zypper", lockPID: 3021,
		osRelease: `NAME="openSUSE Leap"
VERSION="15.5"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.5"
PRETTY_NAME="openSUSE Leap 15.5"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:opensuse:leap:15.5"
BUG_REPORT_URL="https://bugs.opensuse.org"
HOME_URL="https://www.opensuse.org/"
DOCUMENTATION_URL="https://en.opensuse.org/Portal:Leap"
LOGO="distributor-logo-Leap"
`,
		programs: []string{"zypper", "rpm"},
		installed: []Package{
			{"bash", "4.4-150400.27.3.2", "x86_64"},
			{"kernel-default", "5.14.21-150500.55.83.1", "x86_64"},
			{"libopenssl3", "3.0.8-150500.5.40.1", "x86_64"}, {"openssl-3", "3.0.8-150500.5.40.1", "x86_64"},
			{"openssh-server", "8.4p1-150300.3.37.1", "x86_64"},
			{"timezone", "2024a-150000.75.28.1", "x86_64"}, {"zypper", "1.14.68-150400.3.49.1", "x86_64"},
			{"vim", "9.1.0330-150500.20.12.1", "x86_64"},
		},
		updates: []Update{
			{Name: "kernel-default", Version: "5.14.21-150500.55.88.1", Arch: "x86_64", Repo: leapUpd, Security: true,
				Advisory: "openSUSE-SLE-15.5-2024-4082", Severity: "important", CVEs: kernelSUSE, Issued: time.Date(2024, 11, 25, 0, 0, 0, 0, time.UTC), Summary: "Security update for the Linux Kernel",
				InstallOnly: true, Reboot: true, Kernel: "5.14.21-150500.55.88-default"},
			{Name: "libopenssl3", Version: "3.0.8-150500.5.45.1", Arch: "x86_64", Repo: leapUpd, Security: true,
				Advisory: "openSUSE-SLE-15.5-2024-3891", Severity: "moderate", CVEs: opensslSUSE, Issued: time.Date(2024, 11, 5, 0, 0, 0, 0, time.UTC), Summary: "Security update for openssl-3"},
			{Name: "openssl-3", Version: "3.0.8-150500.5.45.1", Arch: "x86_64", Repo: leapUpd, Security: true,
				Advisory: "openSUSE-SLE-15.5-2024-3891", Severity: "moderate", CVEs: opensslSUSE, Issued: time.Date(2024, 11, 5, 0, 0, 0, 0, time.UTC), Summary: "Security update for openssl-3"},
			{Name: "timezone", Version: "2024b-150000.75.31.1", Arch: "x86_64", Repo: leapUpd, Category: "recommended",
				Advisory: "openSUSE-SLE-15.5-2024-3456", Severity: "moderate", Issued: time.Date(2024, 10, 2, 0, 0, 0, 0, time.UTC), Summary: "Recommended update for timezone"},
			{Name: "vim", Version: "9.1.0836-150500.20.15.1", Arch: "x86_64", Repo: leapUpd,
				Summary: "Vi IMproved"},
		},
		kernels: []string{"5.14.21-150500.55.83-default"},
		repos: map[string]repoInfo{
			"repo-oss": {URL: "http://download.opensuse.org/distribution/leap/15.5/repo/oss/", Dist: "Main Repository"},
			leapUpd:    {URL: "http://download.opensuse.org/update/leap/15.5/sle/", Dist: "Update repository with updates from SUSE Linux Enterprise 15"},
		},
	}
}

// alpine320Profile: apk keeps no security metadata on the host, so no
// update is flagged Security; Repo holds each package's origin (apk list
// prints it in braces).
func alpine320Profile() *profile {
	return &profile{
		distro: Alpine320, short: "alpine", manager: "apk", lockPID: 2811, noSystemd: true, kernelInPlace: true,
		osRelease: `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
`,
		programs: []string{"apk", "stat"},
		installed: []Package{
			{"alpine-baselayout", "3.6.5-r0", "x86_64"}, {"apk-tools", "2.14.4-r1", "x86_64"},
			{"busybox", "1.36.1-r29", "x86_64"}, {"curl", "8.11.0-r2", "x86_64"},
			{"libcrypto3", "3.3.2-r0", "x86_64"}, {"libssl3", "3.3.2-r0", "x86_64"},
			{"linux-lts", "6.6.54-r0", "x86_64"}, {"musl", "1.2.5-r0", "x86_64"},
			{"openssh-server", "9.7_p1-r4", "x86_64"}, {"tzdata", "2024b-r0", "noarch"},
		},
		updates: []Update{
			{Name: "busybox", Version: "1.36.1-r30", Arch: "x86_64", Repo: "busybox"},
			{Name: "curl", Version: "8.11.1-r0", Arch: "x86_64", Repo: "curl"},
			{Name: "libcrypto3", Version: "3.3.2-r1", Arch: "x86_64", Repo: "openssl"},
			{Name: "libssl3", Version: "3.3.2-r1", Arch: "x86_64", Repo: "openssl", Requires: []string{"libcrypto3"}},
			{Name: "linux-lts", Version: "6.6.58-r0", Arch: "x86_64", Repo: "linux-lts", Reboot: true, Kernel: "6.6.58-0-lts"},
			{Name: "openssh-server", Version: "9.7_p1-r5", Arch: "x86_64", Repo: "openssh"},
		},
		kernels: []string{"6.6.54-0-lts"},
		repos: map[string]repoInfo{
			"main":      {URL: "https://dl-cdn.alpinelinux.org/alpine/v3.20/main", Dist: "v3.20.3-177-g3c4d0a7e1d1"},
			"community": {URL: "https://dl-cdn.alpinelinux.org/alpine/v3.20/community", Dist: "v3.20.3-176-gf0a3d2b4d4e"},
		},
	}
}

// archProfile: a rolling release (no VERSION_ID); pacman keeps no
// security metadata on the host, so no update is flagged Security.
func archProfile() *profile {
	return &profile{
		distro: ArchLinux, short: "arch", manager: "pacman", lockPID: 1204, kernelInPlace: true,
		osRelease: `NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
ANSI_COLOR="38;2;23;147;209"
HOME_URL="https://archlinux.org/"
DOCUMENTATION_URL="https://wiki.archlinux.org/"
SUPPORT_URL="https://bbs.archlinux.org/"
BUG_REPORT_URL="https://gitlab.archlinux.org/groups/archlinux/-/issues"
PRIVACY_POLICY_URL="https://terms.archlinux.org/docs/privacy-policy/"
LOGO=archlinux-logo
`,
		programs: []string{"pacman", "ln"},
		installed: []Package{
			{"bash", "5.2.037-1", "x86_64"}, {"curl", "8.11.0-1", "x86_64"},
			{"glibc", "2.40+r16+gaa533d58ee-2", "x86_64"}, {"linux", "6.12.1.arch1-1", "x86_64"},
			{"openssh", "9.9p1-2", "x86_64"}, {"openssl", "3.4.0-1", "x86_64"},
			{"pacman", "7.0.0.r3.g7736133-1", "x86_64"}, {"sudo", "1.9.16-1", "x86_64"},
			{"tzdata", "2024b-1", "x86_64"},
		},
		updates: []Update{
			{Name: "curl", Version: "8.11.1-2", Arch: "x86_64", Repo: "core"},
			{Name: "linux", Version: "6.12.4.arch1-1", Arch: "x86_64", Repo: "core", Reboot: true, Kernel: "6.12.4-arch1-1"},
			{Name: "openssh", Version: "9.9p1-3", Arch: "x86_64", Repo: "core"},
			{Name: "openssl", Version: "3.4.1-1", Arch: "x86_64", Repo: "core"},
			{Name: "tzdata", Version: "2024b-2", Arch: "x86_64", Repo: "core"},
		},
		kernels: []string{"6.12.1-arch1-1"},
		repos: map[string]repoInfo{
			"core":  {URL: "https://geo.mirror.pkgbuild.com/core/os/x86_64"},
			"extra": {URL: "https://geo.mirror.pkgbuild.com/extra/os/x86_64"},
		},
	}
}
