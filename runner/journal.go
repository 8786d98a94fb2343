package runner

import (
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// Checkpoint is one host's durable state at a phase change: enough for a
// later `resume` to continue the host without repeating anything it did.
// It is written to the run journal, so its JSON names are a file format:
// add fields, never rename them.
type Checkpoint struct {
	Host  string       `json:"host"`
	Phase report.Phase `json:"phase"`
	Round int          `json:"round,omitempty"` // install rounds started so far
	Batch int          `json:"batch,omitempty"` // reboot batch (1-based), once assigned
	Wave  int          `json:"wave,omitempty"`  // rollout wave (1-based), once assigned
	// Selected is what the selection picked from the first scan; Installed
	// is every update installed in any round so far.
	Selected  []patch.Update `json:"selected,omitempty"`
	Installed []patch.Update `json:"installed,omitempty"`
	// BootIDBefore is the boot id read just before the reboot command, so a
	// resumed run can tell "already back" (a different id) from "not yet".
	BootIDBefore string `json:"boot_id_before,omitempty"`
	Reboots      int    `json:"reboots,omitempty"` // verified reboots so far
	// Job names the detached install job still running on the host when
	// the link to it was lost (a Linux install, "patchrun-install-<run>-<n>"):
	// a resume dials the host and re-attaches to it with
	// patch.Reattacher.ReattachInstall instead of installing again.
	Job string `json:"job,omitempty"`
}

// Journal receives a run's durable record. The runner calls it from many
// goroutines; an implementation serialises its writes. A returned error is
// logged on the host and does not stop the run (losing the journal must not
// leave hosts half-patched), but the run's report says the journal is
// incomplete.
type Journal interface {
	// Checkpoint records a host's phase change. It returns only once the
	// record is durable (fsync), because a resume trusts it.
	Checkpoint(Checkpoint) error
	// Result records a host's final result, durably. Once it returns nil
	// the runner keeps only what the summary and text table need in memory;
	// the full result lives in the journal.
	Result(report.HostResult) error
}
