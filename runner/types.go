package runner

import (
	"context"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
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

// Command names a run's job.
type Command string

const (
	CmdScan   Command = "scan"
	CmdPatch  Command = "patch"
	CmdReboot Command = "reboot"
	CmdExec   Command = "exec"
)

// RebootPolicy says when a patched host is rebooted.
type RebootPolicy string

const (
	RebootIfRequired RebootPolicy = "if-required"
	RebootAlways     RebootPolicy = "always"
	RebootNever      RebootPolicy = "never"
)

// Budget is a count or a percentage of hosts ("3" or "10%").
type Budget struct {
	N       int
	Percent bool
}

// Of resolves the budget against a total (a percentage rounds down, but a
// non-zero percentage of a non-empty set is at least 1).
func (b Budget) Of(total int) int {
	if !b.Percent {
		return b.N
	}
	n := total * b.N / 100
	if n == 0 && b.N > 0 && total > 0 {
		n = 1
	}
	return n
}

// Plan is everything a run needs to know, built by cmd from flags.
type Plan struct {
	Command Command
	Hosts   []inventory.Host

	Forks          int           // parallel workers for per-host phases
	ConnectTimeout time.Duration // per dial
	StepTimeout    time.Duration // per host phase (scan, install, …)

	Refresh   bool // refresh package metadata before scanning
	Selection patch.Selection
	DryRun    bool

	Reboot         RebootPolicy
	OnlyIfRequired bool   // `reboot --only-if-required`
	Batch          Budget // hosts rebooted at once; zero means 1
	// Ramp, when set, gives the sizes of the first batches in order (a
	// canary then a ramp: 1, 10%, 25%); its last size repeats for the
	// rest. Batch is ignored then.
	Ramp          []Budget
	MaxFailures   Budget // failure budget; past it, no new batch starts; N < 0 means unlimited
	RebootTimeout time.Duration
	// MaxRounds caps install → reboot → rescan rounds (Windows often needs
	// several); 0 means DefaultMaxRounds.
	MaxRounds int

	ExecCommand string // for CmdExec
	// ExecMaxOutput caps the bytes of stdout and of stderr kept per host for
	// CmdExec (0 means DefaultExecMaxOutput), so a chatty command on a large
	// fleet cannot exhaust memory.
	ExecMaxOutput int

	// Timing knobs for the reboot wait; zero values get defaults. Tests set
	// them short.
	Timing Timing
}

// Timing holds the reboot orchestrator's tunables.
type Timing struct {
	PollInterval time.Duration // first redial delay while waiting for a host (default 2s)
	PollMax      time.Duration // cap of the backoff (default 5s)
	ProbeTimeout time.Duration // one redial attempt (default 5s)
}

// Status is a host's final state.
type Status string

const (
	StatusOK          Status = "ok"
	StatusFailed      Status = "failed"
	StatusUnreachable Status = "unreachable"
	StatusSkipped     Status = "skipped"
)

// Phase is a step of the per-host state machine.
type Phase string

const (
	PhasePending     Phase = "pending"
	PhaseConnecting  Phase = "connecting"
	PhaseFacts       Phase = "facts"
	PhaseScanning    Phase = "scanning"
	PhaseInstalling  Phase = "installing"
	PhaseAwaitBatch  Phase = "awaiting-batch"
	PhaseRebooting   Phase = "rebooting"
	PhaseWaitingDown Phase = "waiting-down"
	PhaseWaitingUp   Phase = "waiting-up"
	PhaseVerifying   Phase = "verifying"
	PhaseExec        Phase = "exec"
	PhaseDone        Phase = "done" // Event.Status says ok/failed/unreachable/skipped
)

// EventKind says what an Event reports.
type EventKind int

const (
	EventPhase     EventKind = iota // a host entered Phase
	EventHostEnd                    // a host reached its final Status
	EventLog                        // detail for -v (a remote command and its exit code)
	EventBatch                      // a reboot batch starts (Batch, Detail = host names)
	EventHalt                       // the failure budget is spent; no new batch starts
	EventInterrupt                  // first Ctrl-C: no new work is scheduled
)

// Event is one thing that happened in a run. Events are the only source for
// progress, logs and results: nothing renders from ad-hoc prints.
type Event struct {
	Time   time.Time
	Kind   EventKind
	Host   string // empty for run-level events
	Phase  Phase
	Status Status // for EventHostEnd
	Batch  int    // reboot batch number (1-based) where relevant
	Detail string
	Err    error
	// Output, on an EventLog only, is a bounded tail of remote output
	// (at most 40 lines and 4 KiB; stderr's last lines first, then
	// stdout's): on a command that exited non-zero or lost its exit status
	// (outside an install step), on every install step (the round's
	// output), and on a failed step whose failing command did not show it
	// already. Successful commands carry none. It is exactly what the
	// remote side printed: it never holds anything patchrun sent.
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

// ExecResult is one host's `exec` outcome.
type ExecResult struct {
	ExitCode  int    `json:"exit_code"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Truncated bool   `json:"truncated,omitempty"`
}

// StepOutput is a bounded tail of what one step's remote command printed,
// kept in the report so it says why a host failed without a re-run.
type StepOutput struct {
	// Step names the step as the -v log does ("install round 1: 3
	// updates", "scan", "readiness probe").
	Step string `json:"step"`
	// Command is the first line of the command the tail belongs to, cut
	// to 160 characters (as logged); empty when no command was seen (a
	// backend that reported output of its own without running one).
	Command string `json:"command,omitempty"`
	// ExitCode is the command's exit status; -1 when it had none (the
	// connection was lost or the step timed out) or no command was seen.
	ExitCode int `json:"exit_code"`
	// Output is the tail: at most 40 lines and 4 KiB. For an install round
	// it is the backend's own excerpt when it gave one (e.g. Windows
	// Update's per-update results), else the install command's stderr's
	// last lines followed by its stdout's.
	Output string `json:"output"`
	// Truncated: earlier output was left out.
	Truncated bool `json:"truncated,omitempty"`
}

// HostResult is one host's outcome, in the JSON shape docs/report.md describes.
type HostResult struct {
	Name           string         `json:"name"`
	Address        string         `json:"address"`
	Transport      string         `json:"transport"`
	OS             string         `json:"os,omitempty"`
	PackageManager string         `json:"package_manager,omitempty"`
	Status         Status         `json:"status"`
	Error          string         `json:"error,omitempty"`
	ErrorKind      string         `json:"error_kind,omitempty"`   // unreachable | auth | host-key | connection-lost | reboot-timeout | …
	Phase          Phase          `json:"failed_phase,omitempty"` // where a failure happened
	Updates        []patch.Update `json:"updates"`
	RebootRequired bool           `json:"reboot_required"`
	RebootReasons  []string       `json:"reboot_reasons,omitempty"`
	Rebooted       bool           `json:"rebooted"`
	RebootBatch    int            `json:"reboot_batch,omitempty"`
	BootIDBefore   string         `json:"boot_id_before,omitempty"`
	BootIDAfter    string         `json:"boot_id_after,omitempty"`
	Rounds         int            `json:"rounds,omitempty"`
	WouldReboot    bool           `json:"would_reboot,omitempty"`  // --dry-run
	WouldInstall   []string       `json:"would_install,omitempty"` // --dry-run: names of the selected updates
	Exec           *ExecResult    `json:"exec,omitempty"`
	// Output holds bounded output tails: one per install round, then the
	// step that failed the host (if a remote command ran in it), oldest
	// first, at most MaxStepOutputs entries (the oldest are dropped).
	Output     []StepOutput `json:"output,omitempty"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt time.Time    `json:"finished_at"`
}

// Summary counts a run's results.
type Summary struct {
	Hosts            int `json:"hosts"`
	OK               int `json:"ok"`
	Failed           int `json:"failed"`
	Unreachable      int `json:"unreachable"`
	Skipped          int `json:"skipped"`
	UpdatesFound     int `json:"updates_found"`
	UpdatesInstalled int `json:"updates_installed"`
	Rebooted         int `json:"rebooted"`
}

// Report is a whole run's outcome: the `-o json` document.
type Report struct {
	Command     Command      `json:"command"`
	DryRun      bool         `json:"dry_run,omitempty"`
	StartedAt   time.Time    `json:"started_at"`
	FinishedAt  time.Time    `json:"finished_at"`
	Hosts       []HostResult `json:"hosts"`
	Summary     Summary      `json:"summary"`
	Halted      bool         `json:"halted,omitempty"`      // failure budget spent
	Interrupted bool         `json:"interrupted,omitempty"` // Ctrl-C
}
