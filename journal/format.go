// Package journal is the run journal: an append-only JSON-lines file,
// runs/<run-id>/journal.jsonl in the state directory, that records a run
// as it happens so that a later process can list it (`patchrun runs`),
// continue it (`patchrun resume`) and stream its report without holding
// every host's result in memory.
//
// Every record is one JSON object on one line, written with a single write
// call on a file opened O_APPEND, so a process killed mid-write loses at
// most the line in flight; readers ignore a torn last line and report any
// other bad line as corruption. Checkpoints, results, the header and the
// end record are fsynced before the call returns; plain events are not.
//
// A Writer implements runner.Journal. Open and Latest read a journal back;
// Append continues one (a resumed run) after a "resumed" record. The file
// format is documented in docs/journal.md.
package journal

import (
	"encoding/json"
	"time"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// FormatVersion is the journal's format version, in its header. It goes
// up when a record changes meaning; new fields do not change it.
const FormatVersion = 1

// File names inside a run's directory.
const (
	FileName = "journal.jsonl"
	// LockName is held (flock / LockFileEx) by the process writing the
	// journal for as long as it runs; the operating system drops it when
	// that process dies, so a held lock means a live run.
	LockName = "lock"
)

// Record types (the "type" member of every line).
const (
	TypeHeader     = "header"
	TypeEvent      = "event"
	TypeCheckpoint = "checkpoint"
	TypeResult     = "result"
	TypeEnd        = "end"
	TypeResumed    = "resumed"
)

// Header is a journal's first record: what was asked for, of which hosts,
// by whom.
type Header struct {
	Format  int            `json:"format"`
	RunID   string         `json:"run_id"`
	Command report.Command `json:"command"`
	DryRun  bool           `json:"dry_run,omitempty"`
	// Argv is the command line as given (without the program name), with
	// the inventory path made absolute, so it can be run again from any
	// directory.
	Argv []string `json:"argv"`
	// Inventory is the absolute inventory path; InventorySHA256 the hex
	// digest of its content when the run started (a resume reports a
	// changed file).
	Inventory       string `json:"inventory"`
	InventorySHA256 string `json:"inventory_sha256"`
	// Hosts are the selected hosts' names in the run's order.
	Hosts []string `json:"hosts"`
	// Flags are the flags set on the command line (name → value as
	// pflag prints it), among them the selection flags (--limit,
	// --shard, --order, --security-only, --include, …).
	Flags map[string]string `json:"flags,omitempty"`
	// Groups are the inventory groups of each selected host that has
	// any (host name → groups, in inventory order).
	Groups     map[string][]string `json:"groups,omitempty"`
	Controller Controller          `json:"controller"`
	StartedAt  time.Time           `json:"started_at"`
}

// Controller says which process on which machine wrote a segment.
type Controller struct {
	Hostname string `json:"hostname"`
	User     string `json:"user"`
	PID      int    `json:"pid"`
}

// End closes a segment: the run finished (every host has its result) or
// was interrupted (Ctrl-C, a signal), with the exit code the process
// returned.
type End struct {
	State    State     `json:"state"`
	ExitCode int       `json:"exit_code"`
	Time     time.Time `json:"time"`
	// HaltedBy names the budget that halted the run (report.HaltFailures
	// or report.HaltUnreachable); empty when none did.
	HaltedBy string `json:"halted_by,omitempty"`
}

// Resumed starts a new segment of an existing journal: another process
// continues the run.
type Resumed struct {
	Argv            []string   `json:"argv,omitempty"`
	InventorySHA256 string     `json:"inventory_sha256,omitempty"`
	Controller      Controller `json:"controller"`
	Time            time.Time  `json:"time"`
}

// State is a run's state as `patchrun runs` shows it.
type State string

const (
	StateRunning     State = "running"     // its process holds the run's lock
	StateFinished    State = "finished"    // every host ended; an end record says so
	StateInterrupted State = "interrupted" // stopped early, or its process died
)

// record is one line. Exactly one of the payload members is set, the one
// Type names.
type record struct {
	Type       string             `json:"type"`
	Time       time.Time          `json:"time"`
	Header     *Header            `json:"header,omitempty"`
	Event      json.RawMessage    `json:"event,omitempty"`
	Checkpoint *runner.Checkpoint `json:"checkpoint,omitempty"`
	Result     *report.HostResult `json:"result,omitempty"`
	End        *End               `json:"end,omitempty"`
	Resumed    *Resumed           `json:"resumed,omitempty"`
}
