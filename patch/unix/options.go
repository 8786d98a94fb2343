package unix

import "time"

// Options tune the Linux backends for one host. The zero value is usable.
type Options struct {
	// Sudo prefixes privileged commands with "sudo -n " when the login
	// user is not root (learned from `id -u` at Detect).
	Sudo bool
	// ReadyCommand is the post-reboot readiness probe; exit 0 means ready.
	// Empty means DefaultReadyCommand ("true").
	ReadyCommand string
	// RebootDelay is the time between issuing a reboot and the reboot, so
	// the command can return first (the inventory's reboot_delay). 0 means
	// DefaultRebootDelay. It is rounded to whole milliseconds.
	RebootDelay time.Duration
	// JobDir holds the files of detached install and refresh jobs on the
	// host; empty means DefaultJobDir.
	JobDir string
	// JobWait is how many seconds one wait for a running job lasts on the
	// host before it answers "running" (0 means 20).
	JobWait int
}

// Bounds of the zypper retry loops: "zypper updated itself, run again"
// (exit 103) and "locked" (exit 7, after ZYPP_LOCK_TIMEOUT already waited).
const (
	maxZypperReruns  = 3
	maxZypperLockTry = 3
)

// DefaultRebootDelay is short: the reboot command (a transient systemd timer
// or a detached sleep) returns at once, and if the host goes down before its
// exit status arrives the lost connection counts as "reboot under way"; the
// boot id decides either way. Every millisecond of it is paid once per
// reboot batch. A host that needs longer (an abort should still be able to
// cancel the reboot, say) sets reboot_delay.
const DefaultRebootDelay = 50 * time.Millisecond

func (o Options) withDefaults() Options {
	if o.ReadyCommand == "" {
		o.ReadyCommand = DefaultReadyCommand
	}
	if o.RebootDelay <= 0 {
		o.RebootDelay = DefaultRebootDelay
	}
	if o.JobDir == "" {
		o.JobDir = DefaultJobDir
	}
	if o.JobWait <= 0 {
		o.JobWait = defaultJobWait
	}
	return o
}
