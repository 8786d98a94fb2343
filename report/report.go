// Package report is the shape of a run's result: the document `-o json`
// writes (Report, HostResult, Summary and what they hold), the words it is
// written in (Command, Status, Phase), its schema version, the summary
// counts, and the registry of output formats. The runner produces results
// in these types; this package shapes them and writes them.
package report

import (
	"time"

	"github.com/patchrun/patchrun/patch"
)

// SchemaVersion is the version of the JSON document, written in every
// report as "schema_version". It goes up by one whenever a field changes
// meaning or disappears; adding a field does not change it, so a consumer
// checks it and ignores fields it does not know.
const SchemaVersion = 1

// Command names a run's job.
type Command string

const (
	CmdScan   Command = "scan"
	CmdPatch  Command = "patch"
	CmdReboot Command = "reboot"
	CmdExec   Command = "exec"
	// CmdFacts reads each host's facts and nothing else.
	CmdFacts Command = "facts"
)

// Status is a host's final state.
type Status string

const (
	StatusOK          Status = "ok"
	StatusFailed      Status = "failed"
	StatusUnreachable Status = "unreachable"
	StatusSkipped     Status = "skipped"
)

// Phase is a step of a host's journey through a run (the failed_phase of a
// result, the phase of an event).
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
	PhaseHealth      Phase = "health" // the health check after a host is verified
	PhaseHooks       Phase = "hook"   // a pre or post hook (remote or on the workstation)
	PhaseExec        Phase = "exec"
	PhaseDone        Phase = "done" // an event's Status says ok/failed/unreachable/skipped
)

// AfterScan says a host that stopped in phase p had been scanned first: its
// pending updates are known even though it did not end ok.
func (p Phase) AfterScan() bool {
	switch p {
	case PhaseInstalling, PhaseAwaitBatch, PhaseRebooting, PhaseWaitingDown,
		PhaseWaitingUp, PhaseVerifying, PhaseHealth, PhaseHooks:
		return true
	}
	return false
}

// Report is a whole run's outcome: the `-o json` document. Build one with
// New so it carries the schema version.
type Report struct {
	SchemaVersion int `json:"schema_version"`
	// RunID names the run when it is recorded for resuming; empty
	// otherwise.
	RunID      string       `json:"run_id,omitempty"`
	Command    Command      `json:"command"`
	DryRun     bool         `json:"dry_run,omitempty"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt time.Time    `json:"finished_at"`
	Hosts      []HostResult `json:"hosts"`
	Summary    Summary      `json:"summary"`
	Halted     bool         `json:"halted,omitempty"` // a budget was spent
	// HaltedBy names the budget that halted the run (HaltFailures or
	// HaltUnreachable) when Halted is set.
	HaltedBy    string `json:"halted_by,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"` // Ctrl-C or a termination signal
	// WindowClosed says the maintenance window (--window-end) closed
	// before every host had started: those hosts are skipped with
	// ErrorKind "window-closed".
	WindowClosed bool `json:"window_closed,omitempty"`
	// JournalError is the first failure to write the run journal: the
	// journal is incomplete from there (a resume cannot trust it). Empty
	// when the journal is whole or the run is not recorded.
	JournalError string `json:"journal_error,omitempty"`
}

// The budgets that can halt a run (Report.HaltedBy).
const (
	HaltFailures    = "failures"    // --max-failures: hosts that failed
	HaltUnreachable = "unreachable" // --max-unreachable: hosts that could not be reached
)

// New starts a report of this schema version with no hosts yet.
func New(cmd Command, dryRun bool, startedAt time.Time) Report {
	return Report{SchemaVersion: SchemaVersion, Command: cmd, DryRun: dryRun,
		StartedAt: startedAt, FinishedAt: startedAt, Hosts: []HostResult{}}
}

// Finish records the hosts' results (in inventory order), counts them and
// stamps the end time.
func (r *Report) Finish(hosts []HostResult, finishedAt time.Time) {
	r.Hosts = hosts
	if r.Hosts == nil {
		r.Hosts = []HostResult{}
	}
	r.Summary = Summarize(r.Hosts)
	r.FinishedAt = finishedAt
}

// HostResult is one host's outcome.
type HostResult struct {
	Name           string   `json:"name"`
	Address        string   `json:"address"`
	Transport      string   `json:"transport"`
	OS             string   `json:"os,omitempty"`
	PackageManager string   `json:"package_manager,omitempty"`
	Status         Status   `json:"status"`
	Error          string   `json:"error,omitempty"`
	ErrorKind      string   `json:"error_kind,omitempty"`   // unreachable | auth | host-key | connection-lost | reboot-timeout | …
	Phase          Phase    `json:"failed_phase,omitempty"` // where a failure happened
	Updates        []Update `json:"updates"`
	RebootRequired bool     `json:"reboot_required"`
	RebootReasons  []string `json:"reboot_reasons,omitempty"`
	Rebooted       bool     `json:"rebooted"`
	RebootBatch    int      `json:"reboot_batch,omitempty"`
	// Wave is the host's wave (1-based) when the run had waves.
	Wave         int    `json:"wave,omitempty"`
	BootIDBefore string `json:"boot_id_before,omitempty"`
	BootIDAfter  string `json:"boot_id_after,omitempty"`
	// Vulnerable lists installed packages that the advisory files
	// (--advisories) say are vulnerable with no pending update, as found
	// by the host's first scan.
	Vulnerable []patch.Vulnerable `json:"vulnerable,omitempty"`
	// RebootCancel says, for a run aborted after this host's reboot was
	// scheduled but before it was seen to happen, what became of it (see
	// the RebootCancel* values); Error says why.
	RebootCancel string   `json:"reboot_cancel,omitempty"`
	Rounds       int      `json:"rounds,omitempty"`
	WouldReboot  bool     `json:"would_reboot,omitempty"`  // --dry-run
	WouldInstall []string `json:"would_install,omitempty"` // --dry-run: names of the selected updates
	// WouldRun, with --dry-run, lists the hooks and the health check the
	// host would run, in order, as "pre_cmd: <command>".
	WouldRun []string    `json:"would_run,omitempty"`
	Exec     *ExecResult `json:"exec,omitempty"`
	// Output holds bounded output tails: one per install round and per
	// hook, the last health check if it never passed, then the step that
	// failed the host (if a remote command ran in it), oldest first, at most MaxStepOutputs entries (the oldest are dropped).
	Output     []StepOutput `json:"output,omitempty"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt time.Time    `json:"finished_at"`
	// PlanDrift, with `patch --plan`, is how the host's pending updates
	// differ from its plan; nil when they match.
	PlanDrift *PlanDrift `json:"plan_drift,omitempty"`
	// Facts is what was learned about the host before anything else was
	// done on it; nil when the run did not get that far.
	Facts *Facts `json:"facts,omitempty"`
}

// What became of a scheduled reboot when the run was aborted before the
// host was seen to reboot (HostResult.RebootCancel).
const (
	// RebootCancelled: the scheduled reboot was cancelled; it will not
	// happen.
	RebootCancelled = "cancelled"
	// RebootMayStillHappen: the cancel failed or could not be sent; the
	// host may reboot with nobody watching.
	RebootMayStillHappen = "may-still-happen"
	// RebootAlreadyHappened: the host had already rebooted (a new boot id)
	// when the cancel came.
	RebootAlreadyHappened = "already-rebooted"
)

// Update is one update a scan found on the host, with what the run did
// about it.
type Update struct {
	patch.Update
	// Selected: the run's selection (--security-only, --include, …)
	// picked this update to install. A selected update that is not
	// Installed is still pending (it failed, see Error, or the run stopped
	// before installing it); an unselected one was left alone on purpose.
	Selected bool `json:"selected"`
	// HeldBack says why the selection left this update alone ("no issue
	// date, so its age is unknown (--min-age 7d)"); empty when selected.
	HeldBack string `json:"held_back,omitempty"`
	// OutcomeUnknown: an install of this update was under way when the
	// connection was lost (or the run aborted) and no rescan could tell
	// whether it went in. Installed is false then, but it may be installed.
	OutcomeUnknown bool `json:"outcome_unknown,omitempty"`
}

// ExecResult is one host's `exec` outcome.
type ExecResult struct {
	ExitCode  int    `json:"exit_code"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Truncated bool   `json:"truncated,omitempty"`
}

// MaxStepOutputs caps HostResult.Output: with the default three install
// rounds plus the failing step there is room to spare, and a host's entry
// stays bounded whatever a run asks for.
const MaxStepOutputs = 8

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

// Summary counts a run's results.
type Summary struct {
	Hosts            int `json:"hosts"`
	OK               int `json:"ok"`
	Failed           int `json:"failed"`
	Unreachable      int `json:"unreachable"`
	Skipped          int `json:"skipped"`
	UpdatesFound     int `json:"updates_found"`
	UpdatesInstalled int `json:"updates_installed"`
	// UpdatesUnknown counts updates whose install outcome is unknown
	// (Update.OutcomeUnknown): updates_installed does not count them, and
	// they may be installed.
	UpdatesUnknown int `json:"updates_unknown,omitempty"`
	Rebooted       int `json:"rebooted"`
}

// Summarize counts a run's results: updates_found is every pending update
// any scan found, updates_installed those reported installed, rebooted the
// hosts whose reboot was confirmed by a new boot id.
func Summarize(hosts []HostResult) Summary {
	s := Summary{Hosts: len(hosts)}
	for _, h := range hosts {
		switch h.Status {
		case StatusOK:
			s.OK++
		case StatusFailed:
			s.Failed++
		case StatusUnreachable:
			s.Unreachable++
		case StatusSkipped:
			s.Skipped++
		}
		s.UpdatesFound += len(h.Updates)
		for _, u := range h.Updates {
			switch {
			case u.Installed:
				s.UpdatesInstalled++
			case u.OutcomeUnknown:
				s.UpdatesUnknown++
			}
		}
		if h.Rebooted {
			s.Rebooted++
		}
	}
	return s
}
