package unix

// Options tune the Linux backends for one host. The zero value is usable.
type Options struct {
	// Sudo prefixes privileged commands with "sudo -n " when the login
	// user is not root (learned from `id -u` at Detect).
	Sudo bool
	// ReadyCommand is the post-reboot readiness probe; exit 0 means ready.
	// Empty means DefaultReadyCommand ("true").
	ReadyCommand string
	// RebootDelay is the number of seconds between issuing a reboot and the
	// reboot, so the command can return first. 0 means 5.
	RebootDelay int
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
	maxZypperReruns    = 3
	maxZypperLockTry   = 3
	defaultRebootDelay = 5
)

func (o Options) withDefaults() Options {
	if o.ReadyCommand == "" {
		o.ReadyCommand = DefaultReadyCommand
	}
	if o.RebootDelay <= 0 {
		o.RebootDelay = defaultRebootDelay
	}
	if o.JobDir == "" {
		o.JobDir = DefaultJobDir
	}
	if o.JobWait <= 0 {
		o.JobWait = defaultJobWait
	}
	return o
}
