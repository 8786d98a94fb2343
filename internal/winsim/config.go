package winsim

import (
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

// Config describes one simulated Windows host. The zero value plus a Name
// is usable: Windows Server 2022 with DefaultUpdates and short timings.
type Config struct {
	// Name is the computer name (also the inventory name).
	Name string
	// Users maps user name to password (default {"Administrator": DefaultPassword}).
	Users map[string]string
	// FilteredUsers are local administrators other than the built-in one:
	// over WinRM they get a filtered token (no LocalAccountTokenFilterPolicy),
	// so they are not administrators and Windows Update denies them.
	FilteredUsers []string

	Caption string // default "Microsoft Windows Server 2022 Datacenter"
	Version string // default "10.0.20348"
	Build   string // default "20348"

	// Updates are the host's updates; nil means DefaultUpdates().
	Updates []UpdateSpec
	// Signals are the pending-reboot signals set at start.
	Signals Signals

	// RebootDelay is the wall time from shutdown.exe to going down
	// (default 20ms; a real host waits the /t seconds).
	RebootDelay time.Duration
	// DownTime is how long the host refuses connections while rebooting
	// (default 50ms).
	DownTime time.Duration
	// ServicingAfterBoot keeps the servicing stack busy this long after the
	// host is back (default 0).
	ServicingAfterBoot time.Duration
	// StepTime is the wall time the installer spends per update per phase
	// (download, install); default 10ms. It also paces the heartbeat.
	StepTime time.Duration

	// TLS serves HTTPS with a self-signed CA (CACertPEM); otherwise HTTP,
	// where clients use NTLM with message encryption.
	TLS bool
	// AllowUnencrypted mirrors the WinRM service setting.
	AllowUnencrypted bool

	Faults Faults

	// PowerShell answers PowerShell scripts other than patchrun's own, by
	// their exact text (without the transport's progress prelude): an
	// inventory's ready_command, for instance. Any other script fails.
	PowerShell map[string]PSAnswer
}

// PSAnswer is what a PowerShell script in Config.PowerShell prints and
// exits with.
type PSAnswer struct {
	Stdout, Stderr string
	Exit           int
}

// DefaultPassword is the built-in Administrator's password when Users is nil.
const DefaultPassword = "Sim-Passw0rd!"

// UpdateSpec is one update the host can be offered.
type UpdateSpec struct {
	ID         string // Identity.UpdateID (a GUID)
	Title      string
	KB         string // digits only, as KBArticleIDs holds them
	Severity   string // MsrcSeverity: Critical, Important, Moderate, Low or ""
	Categories []string
	CVEs       []string  // CveIDs
	Released   time.Time // LastDeploymentChangeTime; zero prints none
	BrowseOnly bool      // optional update
	SizeBytes  int64
	// RebootBehavior is InstallationBehavior.RebootBehavior: 0 never,
	// 1 always requires, 2 can request a reboot.
	RebootBehavior int
	// AfterBoots: the update is applicable only once the host has rebooted
	// this many times (1: it appears after the first round's reboot).
	AfterBoots int
	// FailHResult, when non-zero, makes its install fail (result code 4)
	// with this HResult.
	FailHResult uint32
	// Loop: the update reports success but is offered again after every
	// reboot (a classic Windows Update loop).
	Loop bool
}

// Signals are the pending-reboot signals the facts script reads.
type Signals struct {
	WURebootRequired  bool // Auto Update\RebootRequired key
	CBSRebootPending  bool // Component Based Servicing\RebootPending key
	PendingFileRename bool // PendingFileRenameOperations (soft)
	UpdateExeVolatile bool // UpdateExeVolatile non-zero
}

// Faults are failures the host shows on demand (Config.Faults, SetFaults).
// Counters count down as they fire.
type Faults struct {
	// DropDuringInstall: the next N install-status polls made while the
	// installer runs lose their connection (the task keeps running). The
	// installer does not finish before those polls have come, so the drops
	// happen however slowly the client polls.
	DropDuringInstall int
	// StaleInstaller: the installer hangs once it starts installing; its
	// heartbeat stops.
	StaleInstaller bool
	// NeverReturn: the host goes down on reboot and never comes back.
	NeverReturn bool
	// ShutdownScheduled: another shutdown is already scheduled, so the first
	// shutdown.exe /r answers 1190 until shutdown /a.
	ShutdownScheduled bool
	// ShutdownInProgress: shutdown.exe answers 1115 (the host is already
	// shutting down, and does reboot).
	ShutdownInProgress bool
	// WinRM are the emulator's own faults (auth rejected, MaxShellsPerUser,
	// slow or dropped Receives, access denied).
	WinRM winrmemu.Faults
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "WIN-SIM"
	}
	if c.Users == nil {
		c.Users = map[string]string{"Administrator": DefaultPassword}
	}
	if c.Caption == "" {
		c.Caption = "Microsoft Windows Server 2022 Datacenter"
	}
	if c.Version == "" {
		c.Version = "10.0.20348"
	}
	if c.Build == "" {
		c.Build = "20348"
	}
	if c.Updates == nil {
		c.Updates = DefaultUpdates()
	}
	if c.RebootDelay <= 0 {
		c.RebootDelay = 20 * time.Millisecond
	}
	if c.DownTime <= 0 {
		c.DownTime = 50 * time.Millisecond
	}
	if c.StepTime <= 0 {
		c.StepTime = 10 * time.Millisecond
	}
	return c
}

// patchTuesday is when the default updates were published (January 2024).
var patchTuesday = time.Date(2024, 1, 9, 18, 0, 0, 0, time.UTC)

// DefaultUpdates is a realistic mix: two security updates (one needing a
// reboot), a non-security update, an optional (BrowseOnly) one, and a
// servicing stack follow-up that is offered only after the first reboot.
// The security ones carry CVE ids; the optional preview and the servicing
// stack update have no publication date (nothing to age).
func DefaultUpdates() []UpdateSpec {
	return []UpdateSpec{
		{ID: "3c0e4d1f-2a8b-4f6e-9d51-7a1b2c3d4e01", KB: "5034439",
			Title:    "2024-01 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5034439)",
			Severity: "Critical", Categories: []string{"Security Updates"}, SizeBytes: 412 << 20, RebootBehavior: 1,
			CVEs: []string{"CVE-2024-20674", "CVE-2024-20666"}, Released: patchTuesday},
		{ID: "6f2a9b7c-1d3e-4a5b-8c6d-7e8f9a0b1c02", KB: "5034685",
			Title:    "2024-01 Security Update for .NET Framework 4.8 for Microsoft server operating system version 21H2 for x64 (KB5034685)",
			Severity: "Important", Categories: []string{"Security Updates"}, SizeBytes: 68 << 20, RebootBehavior: 2,
			CVEs: []string{"CVE-2024-0056"}, Released: patchTuesday},
		{ID: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c03", KB: "890830",
			Title:      "Windows Malicious Software Removal Tool x64 - v5.120 (KB890830)",
			Categories: []string{"Update Rollups"}, SizeBytes: 73 << 20, Released: patchTuesday},
		{ID: "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d04", KB: "5034613",
			Title:      "2024-01 Cumulative Update Preview for .NET Framework 3.5 and 4.8 (KB5034613)",
			Categories: []string{"Updates"}, BrowseOnly: true, SizeBytes: 51 << 20, RebootBehavior: 2},
		{ID: "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f05", KB: "5034862",
			Title:    "2024-01 Servicing Stack Update for Microsoft server operating system version 21H2 (KB5034862)",
			Severity: "Critical", Categories: []string{"Security Updates"}, SizeBytes: 14 << 20,
			RebootBehavior: 1, AfterBoots: 1},
	}
}
