// Package patch defines what an OS backend does for patchrun (detect, scan,
// install, reboot, tell the boot identity) and the shapes those steps return.
// Backends live in patch/unix and patch/windows; the runner only sees this
// interface, so it never knows which package manager it is driving.
package patch

import (
	"context"
	"errors"
	"time"

	"github.com/patchrun/patchrun/transport"
)

// Update is one pending (or just installed) update. Linux packages fill Name,
// Current, Available, Security; Windows updates also fill KB, Severity,
// Categories and ID, and Name is the update's title.
type Update struct {
	Name       string   `json:"name"`
	Current    string   `json:"current,omitempty"`
	Available  string   `json:"available,omitempty"`
	Arch       string   `json:"arch,omitempty"`
	Repo       string   `json:"repo,omitempty"`
	Security   bool     `json:"security"`
	Installed  bool     `json:"installed"`
	KB         string   `json:"kb,omitempty"`
	Categories []string `json:"categories,omitempty"`
	ID         string   `json:"id,omitempty"`
	Optional   bool     `json:"optional,omitempty"` // Windows BrowseOnly
	SizeBytes  int64    `json:"size_bytes,omitempty"`
	// RebootRequired: installing this update is known to need a reboot.
	RebootRequired bool `json:"reboot_required,omitempty"`
	// Error is set when this update was selected but did not install
	// (e.g. "0x80240016 install not allowed: reboot pending").
	Error string `json:"error,omitempty"`

	// Risk data (docs/advisories.md): from the host's own tools (dnf/yum
	// updateinfo, zypper patches, Windows Update) or from the advisory,
	// KEV and EPSS files given to the run. All optional.
	Advisory string   `json:"advisory,omitempty"` // "RHSA-2024:1234", "openSUSE-SU-2024:0123-1", "DSA-5678-1"
	CVEs     []string `json:"cves,omitempty"`     // sorted, unique
	// Severity is normalised (see NormalizeSeverity); VendorSeverity is
	// the source's own word ("Important", "medium", "7.5").
	Severity       string     `json:"severity,omitempty"`
	VendorSeverity string     `json:"vendor_severity,omitempty"`
	Issued         *time.Time `json:"issued,omitempty"` // when the advisory was issued
	// KnownExploited: the update fixes a CVE in the known-exploited list
	// given with --kev; KEVDue is that entry's due date (YYYY-MM-DD).
	KnownExploited bool   `json:"known_exploited,omitempty"`
	KEVDue         string `json:"kev_due,omitempty"`
	// EPSS is the highest EPSS score among its CVEs (0–1), from --epss.
	EPSS float64 `json:"epss,omitempty"`
	// Source is the source package the update is built from, when it is
	// known and differs from Name (read with --advisories: Debian's and
	// Ubuntu's advisories name source packages).
	Source string `json:"source,omitempty"`
}

// Facts is what a backend learns about a host before scanning.
type Facts struct {
	OS             string    // "debian 12", "rocky 9.3", "Windows Server 2022 Datacenter 20348"
	Family         string    // "debian", "rhel", "suse", "windows", …
	Kernel         string    // running kernel / build
	PackageManager string    // "apt", "dnf", "yum", "zypper", "windows-update"
	BootID         string    // identity of the current boot
	LastBoot       time.Time // zero if unknown
	RebootRequired bool
	RebootReasons  []string // which signals said so ("/run/reboot-required", "CBS RebootPending", …)

	OSName    string        // the OS's own name: "Debian GNU/Linux", "Microsoft Windows Server 2022 Datacenter"
	OSVersion string        // "12", "9.3", "10.0.20348"
	Arch      string        // "x86_64", "aarch64", "AMD64"
	Uptime    time.Duration // how long the host had been up when the facts were read; 0 if unknown
	// LastUpdated is when packages or updates were last installed on the
	// host (dpkg log, rpm install times, Windows hotfix history); zero if
	// unknown.
	LastUpdated time.Time
	// Addresses are the host's own global IP addresses with their prefix
	// length ("192.0.2.10/24", "2001:db8::10/64"); loopback and link-local
	// ones are left out.
	Addresses []string
}

// Selection says which pending updates to install.
type Selection struct {
	SecurityOnly bool
	// Include and Exclude hold patterns matched against the update's name,
	// KB and title: shell globs ("openssl*", "KB50*"), or a regular
	// expression written as /re/. An empty Include means "all".
	Include []string
	Exclude []string
	// SkipOptional skips Windows BrowseOnly updates.
	SkipOptional bool

	// Risk policy (docs/advisories.md). MinSeverity is a normalised
	// severity: only updates at least that severe. CVEs: only updates
	// fixing at least one of these ids. KnownExploited: only updates
	// fixing a known-exploited CVE. MinAge: only updates whose advisory
	// was issued at least this long before Now (the zero Now means the
	// time of the call); an update without an issue date is held back.
	MinSeverity    string
	CVEs           []string
	KnownExploited bool
	MinAge         time.Duration
	Now            time.Time
}

// InstallResult is what an Install produced. Updates carries every update
// that was asked for, with Installed or Error set.
type InstallResult struct {
	Updates []Update
	// RebootRequired: the installer itself said a reboot is needed (its
	// exit code, or an installed update known to need one). The host's
	// pending-reboot signals are the caller's to read, with
	// Backend.RebootRequired, once per install.
	RebootRequired bool
	// Output is a bounded excerpt of the package manager's output, for logs.
	Output string
}

// Backend drives one host's package manager. Methods run remote commands over
// the transport they are given; a Backend value belongs to one host and one
// worker at a time.
//
// Errors: a transport error is returned wrapped (errors.Is still sees
// transport.ErrConnLost etc.). A package manager that ran and failed returns
// a *CommandError (errors.Is(err, ErrCommandFailed) holds): one line of
// text, the output's tail in its Output field.
type Backend interface {
	// Name is the package manager's name ("apt", "dnf", "windows-update").
	Name() string
	// RecoveryHint says how an operator checks or repairs this host's
	// package manager after an install was cut short (one line, e.g. "run
	// dpkg --audit, then dpkg --configure -a"): the runner adds it to an
	// interrupted install's message.
	RecoveryHint() string
	Facts(ctx context.Context, t transport.Transport) (Facts, error)
	// Refresh updates package metadata (apt-get update, dnf makecache, …).
	Refresh(ctx context.Context, t transport.Transport) error
	// Scan lists pending updates. It changes nothing on the host.
	Scan(ctx context.Context, t transport.Transport) ([]Update, error)
	// Install installs updates (already selected from Scan's result) in one
	// of two modes, and reports each of them Installed or with an Error:
	//
	//   - full false: exactly the given updates at exactly their Available
	//     versions, named on the command line (apt-get install
	//     --only-upgrade NAME=VERSION, dnf/yum upgrade
	//     NAME-[EPOCH:]VERSION-RELEASE.ARCH, zypper install NAME=VERSION), so
	//     a newer version published since the scan is never installed
	//     instead. An update that cannot be named (a new apt
	//     package, pulled in only as a dependency) is reported not installed.
	//   - full true: the updates are everything Scan found, and the tool's
	//     host-wide upgrade runs instead (apt-get dist-upgrade, which may add
	//     new dependencies but never removes a package; dnf/yum upgrade and
	//     zypper update with no names), so new dependencies and obsoletes are
	//     handled as the tool intends. Pass true only when updates is all of
	//     Scan's result: anything else pending is upgraded too.
	//
	// Windows installs exactly the given update ids in both modes.
	Install(ctx context.Context, t transport.Transport, updates []Update, full bool) (InstallResult, error)
	// RebootRequired checks every pending-reboot signal the OS has.
	RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error)
	// BootID returns the identity of the running boot (Linux boot_id,
	// Windows LastBootUpTime, BSD kern.boottime).
	BootID(ctx context.Context, t transport.Transport) (string, error)
	// Reboot issues a detached reboot. A nil error or a lost connection both
	// mean "maybe started": the caller confirms by a changed BootID.
	Reboot(ctx context.Context, t transport.Transport) error
	// CancelReboot cancels the reboot this Backend's last Reboot scheduled,
	// if it has not begun (a run aborted while waiting for it). nil means
	// it was cancelled and will not happen; ErrRebootNotPending that none
	// was found waiting (it may already be under way, or was never
	// scheduled); any other error that it may still happen.
	CancelReboot(ctx context.Context, t transport.Transport) error
	// Ready runs the readiness probe after a reboot (e.g. `true`, or
	// `systemctl is-system-running --wait`; on Windows: servicing idle).
	Ready(ctx context.Context, t transport.Transport) error
}

// ErrCommandFailed wraps a package-manager command that ran and exited with a
// failure code.
var ErrCommandFailed = errors.New("command failed")

// ErrRebootNotPending: CancelReboot found no scheduled reboot of ours still
// waiting.
var ErrRebootNotPending = errors.New("no scheduled reboot is waiting")

// ErrUnsupported: the host has no package manager patchrun can drive.
var ErrUnsupported = errors.New("unsupported host")

// BootState is a boot id read together with the host's pending-reboot
// signals. Signals false means only the id was read: the signals are the
// caller's to read with Backend.RebootRequired. Scanned means Updates is
// the host's rescan (what Backend.Scan returns, without a refresh), read
// in the same command, or ScanErr says why that scan failed (the boot id
// read itself did not); otherwise the caller scans if it needs to.
type BootState struct {
	ID             string
	Signals        bool
	RebootRequired bool
	RebootReasons  []string
	Scanned        bool
	Updates        []Update
	ScanErr        error
}

// BootQuery says what a BootState read may add to the boot id. Scan asks
// for the rescan too, but only when the host runs another boot than
// Before: a host still in its old boot is not rescanned for nothing.
type BootQuery struct {
	Scan   bool
	Before string
}

// BootStater is implemented by backends that read the boot id and every
// pending-reboot signal in one remote command (and, when asked, the
// rescan). The runner uses it to look at a host that may have rebooted:
// when the id is new and Signals (Scanned) is set, the check (the rescan)
// after the reboot costs no further round trip. A backend sets Signals and
// Scanned only when nothing it runs before the host counts as ready can
// change them (its readiness probe runs no command).
type BootStater interface {
	BootState(ctx context.Context, t transport.Transport, q BootQuery) (BootState, error)
}

// BootIDRebooter is implemented by backends that can issue the reboot on
// condition that the host still runs a given boot, in one command: the
// boot id read before a reboot then costs no round trip of its own when the
// caller already knows it. RebootIfBoot returns an error wrapping
// ErrBootChanged when the host runs another boot (nothing was scheduled);
// otherwise what Reboot returns for the same outcome.
type BootIDRebooter interface {
	RebootIfBoot(ctx context.Context, t transport.Transport, bootID string) error
}

// ErrBootChanged: RebootIfBoot found another boot than the one named.
var ErrBootChanged = errors.New("the host runs another boot than expected")
