package windows

import "time"

// Options tune the backend for one host. The zero value is usable; tests
// set short durations.
type Options struct {
	// PollInterval is the pause between two reads of the installer's
	// status. Default 5s.
	PollInterval time.Duration
	// InstallTimeout bounds a whole Install (start, poll, cleanup), besides
	// the caller's ctx. Default 3h.
	InstallTimeout time.Duration
	// StaleAfter fails an install whose heartbeat is older than this (the
	// installer died without writing a final status). Default 5m; the
	// installer beats every 15s.
	StaleAfter time.Duration
	// RetryMax caps the backoff between polls that failed because the
	// connection dropped or the host was unreachable. Default 30s.
	RetryMax time.Duration
	// ReadyPause is the pause between the two readiness probes that Ready
	// requires to succeed. Default 5s.
	ReadyPause time.Duration
	// CleanupTimeout bounds the best-effort removal of the task and its
	// files, which runs even when ctx has ended. Default 30s.
	CleanupTimeout time.Duration
	// ReadyCommand, when set, is a PowerShell script that must exit 0 before
	// a rebooted host counts as ready, run after the servicing stack is idle
	// (powershell.exe -NoProfile -NonInteractive, like patchrun's own
	// scripts). It says "not yet" with `exit 1`, a failing last statement
	// or an uncaught error. Empty: servicing idle alone means ready.
	ReadyCommand string
	// SweepAfter is how long an earlier run's installer task must have
	// been finished and silent before Install removes it with its work
	// directory (what a run killed before its cleanup leaves). A running
	// task is never removed. Default DefaultSweepAfter.
	SweepAfter time.Duration
	// RebootDelay is the time from the reboot command to the reboot
	// (shutdown /t, whole seconds rounded up; the inventory's reboot_delay).
	// Default DefaultRebootDelay. The command returns at once; a shutdown
	// can be aborted (shutdown /a) within it.
	RebootDelay time.Duration
	// NewRunID names an install's task and work directory; nil means a
	// random id. Tests may fix it.
	NewRunID func() (string, error)
}

// Defaults for zero Options fields.
const (
	DefaultPollInterval   = 5 * time.Second
	DefaultInstallTimeout = 3 * time.Hour
	DefaultStaleAfter     = 5 * time.Minute
	DefaultRetryMax       = 30 * time.Second
	DefaultReadyPause     = 5 * time.Second
	DefaultCleanupTimeout = 30 * time.Second
	DefaultRebootDelay    = time.Second
	// DefaultSweepAfter is twice DefaultInstallTimeout: a live run gives up
	// on its installer (and cleans up itself) long before.
	DefaultSweepAfter = 2 * DefaultInstallTimeout
)

func (o Options) withDefaults() Options {
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.RebootDelay <= 0 {
		o.RebootDelay = DefaultRebootDelay
	}
	if o.InstallTimeout <= 0 {
		o.InstallTimeout = DefaultInstallTimeout
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.ReadyPause <= 0 {
		o.ReadyPause = DefaultReadyPause
	}
	if o.CleanupTimeout <= 0 {
		o.CleanupTimeout = DefaultCleanupTimeout
	}
	if o.SweepAfter <= 0 {
		o.SweepAfter = DefaultSweepAfter
	}
	if o.NewRunID == nil {
		o.NewRunID = randomRunID
	}
	return o
}
