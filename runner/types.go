package runner

import (
	"context"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// Dialer opens a transport to a host. Dial honours ctx's deadline as the
// connect timeout. It is called from many workers at once and must be safe
// for concurrent use.
type Dialer interface {
	Dial(ctx context.Context, h inventory.Host) (transport.Transport, error)
}

// DetectFunc chooses the backend for a host over an open transport (probing
// the OS and package manager). Safe for concurrent use.
type DetectFunc func(ctx context.Context, h inventory.Host, t transport.Transport) (patch.Backend, error)

// RebootPolicy says when a patched host is rebooted.
type RebootPolicy string

const (
	RebootIfRequired RebootPolicy = "if-required"
	RebootAlways     RebootPolicy = "always"
	RebootNever      RebootPolicy = "never"
)

// Plan is everything a run needs to know, built by cmd from flags.
type Plan struct {
	Command report.Command
	Hosts   []inventory.Host
	// RunID names the run (journal, host leases, report); empty for runs
	// that are not recorded (tests, demo).
	RunID string

	Forks          int           // parallel workers for per-host phases
	ConnectTimeout time.Duration // per dial
	StepTimeout    time.Duration // per host phase (scan, install, …)

	Refresh   bool // refresh package metadata before scanning
	Selection patch.Selection
	// OrderRisk (--order risk): hosts are contacted in the given order
	// (their risk is known only once scanned), but the reboot batches,
	// which make the fixes take effect, take the highest-risk hosts first
	// (report.Risk).
	OrderRisk bool
	// Planned, when not nil, replaces Selection for `patch`: each host
	// installs its entry's updates at their planned versions, and a host
	// without an entry is skipped (see planned.go).
	Planned map[string]PlannedHost
	// StrictPlan fails a host whose pending updates differ from its plan
	// (ErrorKindPlanDrift) instead of installing what still matches.
	StrictPlan bool
	DryRun     bool

	Reboot         RebootPolicy
	OnlyIfRequired bool // `reboot --only-if-required`
	// Batches sizes the reboot batches; empty means DefaultBatches().
	Batches Batches
	// MaxFailures is the failure budget: once more hosts than this have
	// failed, no new batch starts. The zero Budget allows no failure;
	// Budget{Unlimited: true} never halts.
	MaxFailures Budget
	// MaxUnreachable is the unreachable budget, counted apart from
	// failures: once more hosts than this were unreachable, no new batch
	// starts. nil never halts (a powered-off machine does not stop a run).
	MaxUnreachable *Budget
	RebootTimeout  time.Duration
	// Wake: a host that does not answer its first connect and has a MAC
	// address in the inventory is sent a Wake-on-LAN magic packet, once,
	// and redialled until its reboot timeout before it counts unreachable.
	Wake bool
	// Rolling makes each batch run the whole host lifecycle (install,
	// reboot if needed, verify) before the next batch starts: a batch ramp
	// becomes a canary that gates installs. Batch sizes then count every
	// host of the run, not only those that need a reboot. Without it,
	// every host installs in parallel and only the reboots are batched.
	Rolling bool
	// Waves orders the hosts: every host of the first wave ends before any
	// host of the second starts, and so on; hosts in no wave form a last
	// wave; a host in two waves belongs to the first. Budgets are shared
	// across waves: once one is spent, no later wave starts.
	Waves []Wave
	// WindowEnd, when not zero, is the end of the maintenance window:
	// after it no host starts installing and no new batch or wave starts;
	// hosts in flight finish, the rest end skipped (ErrorKindWindowClosed).
	// A WindowEnd already past when the run starts is refused.
	WindowEnd time.Time
	// MaxRounds caps install → reboot → rescan rounds (Windows often needs
	// several); 0 means DefaultMaxRounds.
	MaxRounds int

	ExecCommand string // for report.CmdExec
	// ExecMaxOutput caps the bytes of stdout and of stderr kept per host for
	// report.CmdExec (0 means DefaultExecMaxOutput), so a chatty command on a large
	// fleet cannot exhaust memory.
	ExecMaxOutput int

	// Resume, when set, continues an earlier run of this plan that was
	// interrupted: see ResumeState.
	Resume *ResumeState

	// Timing knobs for the reboot wait; zero values get defaults. Tests set
	// them short.
	Timing Timing

	// Lock configures the lease taken on each host (see LockPlan).
	Lock LockPlan

	// Steps around each patched host's change (patch only): see Steps.
	Steps Steps
}

// Steps are the commands run around each host's change by `patch`: hooks
// before its first install and after it is healthy, and the health check
// once it is verified (runner/hooks.go, runner/health.go). Remote commands
// run over the host's transport: SSH through the login shell, WinRM as
// PowerShell. Local ones run on the workstation through its shell.
type Steps struct {
	// PreCmd, HealthCmd and PostCmd, when set, replace each host's own
	// (inventory.Host.PreCmd, …).
	PreCmd, HealthCmd, PostCmd string
	// PreLocal and PostLocal are command lines run on the workstation
	// before the host's pre_cmd and after its post_cmd, with PATCHRUN_HOST,
	// PATCHRUN_ADDRESS, PATCHRUN_GROUPS, PATCHRUN_RUN_ID (and for
	// PostLocal PATCHRUN_STATUS) in their environment.
	PreLocal, PostLocal string
	// HealthTimeout bounds the health check, all attempts together
	// (0 means DefaultHealthTimeout); HealthInterval is the pause between
	// two attempts (0 means DefaultHealthInterval).
	HealthTimeout, HealthInterval time.Duration
	// HookTimeout bounds each hook (0 means DefaultHookTimeout).
	HookTimeout time.Duration
}

// Timing holds the reboot orchestrator's tunables.
type Timing struct {
	PollInterval time.Duration // first redial delay while waiting for a host (default 2s)
	PollMax      time.Duration // cap of the backoff (default 5s)
	ProbeTimeout time.Duration // one redial attempt (default 5s)
}

// EventKind says what an Event reports.
type EventKind int

const (
	EventPhase        EventKind = iota // a host entered report.Phase
	EventHostEnd                       // a host reached its final report.Status
	EventLog                           // detail for -v (a remote command and its exit code)
	EventBatch                         // a batch starts (Batch, Detail = host names): its reboots, or with Rolling its hosts' whole lifecycle
	EventHalt                          // the failure budget is spent; no new batch starts
	EventInterrupt                     // first Ctrl-C: no new work is scheduled
	EventLock                          // a host's lease: waiting for it, taken over, lost, not released (Detail)
	EventWaveStart                     // a wave starts (Wave, Detail = its name and host count)
	EventWaveEnd                       // every host of a wave has ended (Wave, Detail = its outcome)
	EventWindowClosed                  // the maintenance window closed: no new host, batch or wave starts
)

// Wave is one ordered group of hosts (Plan.Waves).
type Wave struct {
	Name  string   // as the user gave it: a group name or a --limit pattern
	Hosts []string // the names of its hosts
}

// Event is one thing that happened in a run. Events are the only source for
// progress, logs and results: nothing renders from ad-hoc prints.
type Event struct {
	Time   time.Time
	Kind   EventKind
	Host   string // empty for run-level events
	Phase  report.Phase
	Status report.Status // for EventHostEnd
	Batch  int           // reboot batch number (1-based) where relevant
	Wave   int           // wave number (1-based) for wave events
	Detail string
	Err    error
	// Output, on an EventLog only, is a bounded tail of remote output
	// (at most 40 lines and 4 KiB; stderr's last lines first, then
	// stdout's): on a command that exited non-zero or lost its exit status
	// (outside an install step), on every install step (the round's
	// output) and every hook (its output, also a local hook's), and on a
	// failed step whose failing command did not show it already.
	// Successful commands carry none. It is exactly what the remote side
	// (or the local hook) printed: it never holds anything patchrun sent.
	Output string
}

// Observer receives events. The runner calls Event from one goroutine at a
// time (it serialises), so an Observer needs no locking of its own, but it
// must not block for long.
type Observer interface {
	Event(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

func (f ObserverFunc) Event(e Event) { f(e) }
