// Package estate is the data every report format renders: the selected
// runs with each host's result, updates and timeline, the management
// figures of the estate as of the newest selected run (compliance,
// pending security updates by age and by OS, reboots, failures), a trend
// over the last runs and what changed since each host's previous run.
// Load builds it from a history.Store; the formats (HTML, JUnit, CSV,
// Markdown, JSON, metrics) only render it.
package estate

import (
	"time"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/report"
)

// Report is what a report shows.
type Report struct {
	// AsOf is the time the figures describe: the end of the newest
	// selected run (its start if it has no end).
	AsOf       time.Time  `json:"as_of"`
	Runs       []Run      `json:"runs"` // oldest first
	Management Management `json:"management"`
	Trend      []Point    `json:"trend"` // oldest first, ending with the newest selected run
	Changes    Changes    `json:"changes"`
}

// Run is one selected run and its hosts' results.
type Run struct {
	ID        string         `json:"run_id"`
	Command   report.Command `json:"command"`
	DryRun    bool           `json:"dry_run,omitempty"`
	StartedAt time.Time      `json:"started_at"`
	EndedAt   *time.Time     `json:"ended_at"` // nil: the run has no end record
	State     string         `json:"state"`    // finished | interrupted
	ExitCode  *int           `json:"exit_code"`
	HaltedBy  string         `json:"halted_by,omitempty"`
	Counts    report.Summary `json:"summary"`
	Hosts     []Host         `json:"hosts"` // by name
}

// Host is one host's result in one run.
type Host struct {
	Name           string        `json:"name"`
	Address        string        `json:"address,omitempty"`
	Transport      string        `json:"transport,omitempty"`
	OS             string        `json:"os,omitempty"`
	PackageManager string        `json:"package_manager,omitempty"`
	Groups         []string      `json:"groups,omitempty"`
	Status         report.Status `json:"status"`
	ErrorKind      string        `json:"error_kind,omitempty"`
	Error          string        `json:"error,omitempty"`
	FailedPhase    report.Phase  `json:"failed_phase,omitempty"`
	// Output is a bounded excerpt of what the host printed (the failing
	// step's output, else the last install round's).
	Output        string     `json:"output,omitempty"`
	Rebooted      bool       `json:"rebooted"`
	RebootPending bool       `json:"reboot_pending"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	Installed     []Update   `json:"installed"` // installed by this run
	Pending       []Update   `json:"pending"`   // listed and not installed
	Timeline      []Segment  `json:"timeline"`  // phases, in order
}

// Class is what a host is filed under (a JUnit classname): its first
// inventory group, else its OS, else "hosts".
func (h Host) Class() string {
	switch {
	case len(h.Groups) > 0:
		return h.Groups[0]
	case h.OS != "":
		return h.OS
	}
	return "hosts"
}

// Update is one update a host listed.
type Update struct {
	Name           string   `json:"name"`
	Arch           string   `json:"arch,omitempty"`
	Current        string   `json:"current,omitempty"`
	Available      string   `json:"available,omitempty"`
	KB             string   `json:"kb,omitempty"`
	Security       bool     `json:"security"`
	Severity       string   `json:"severity,omitempty"`
	CVEs           []string `json:"cves,omitempty"`
	KnownExploited bool     `json:"known_exploited,omitempty"`
	Selected       bool     `json:"selected"`
	Error          string   `json:"error,omitempty"`
}

// Segment is a stretch of a host's run in one phase (history.Segment).
type Segment = history.Segment

// Management is the estate's figures as of Report.AsOf, over the hosts
// of the selected runs (each as its newest selected result left it).
type Management struct {
	Hosts int `json:"hosts"`
	// Compliant hosts have been scanned (a scan or patch reached them by
	// then) and have no security update pending.
	Compliant int `json:"compliant"`
	// Unscanned hosts were never reached by a scan or a patch: their
	// updates are unknown, so they are not counted compliant.
	Unscanned int `json:"unscanned"`
	// CompliancePercent is Compliant / Hosts × 100, rounded down to a
	// tenth (0 with no hosts).
	CompliancePercent float64 `json:"compliance_percent"`
	PendingSecurity   int     `json:"pending_security"`
	// AgeBands counts the pending security updates by days since each
	// was first seen pending: 0–7, 8–14, 15–30, over 30.
	AgeBands []AgeBand `json:"age_bands"`
	ByOS     []OSCount `json:"by_os"` // by OS name; "unknown" for hosts never reached
	// RebootNeeded are hosts whose last result needs a reboot that was
	// not done.
	RebootNeeded []string `json:"reboot_needed"`
	// Failures are hosts whose last result failed or was unreachable.
	Failures []Failure `json:"failures"`
}

// AgeBand is one band of pending security updates by age in days.
type AgeBand struct {
	Label   string `json:"label"`    // "0-7", "8-14", "15-30", ">30"
	MinDays int    `json:"min_days"` // inclusive
	MaxDays int    `json:"max_days"` // inclusive; -1: no upper bound
	Updates int    `json:"updates"`
}

// OSCount is the hosts of one OS and the security updates pending on them.
type OSCount struct {
	OS              string `json:"os"`
	Hosts           int    `json:"hosts"`
	PendingSecurity int    `json:"pending_security"`
}

// Failure is a host that did not end ok in its last selected result.
type Failure struct {
	Host      string        `json:"host"`
	RunID     string        `json:"run_id"`
	Status    report.Status `json:"status"`
	ErrorKind string        `json:"error_kind,omitempty"`
	Error     string        `json:"error,omitempty"`
}

// Point is one run of the trend: its counts and the compliance of its
// hosts as of its end.
type Point struct {
	RunID           string         `json:"run_id"`
	Command         report.Command `json:"command"`
	At              time.Time      `json:"at"`
	Hosts           int            `json:"hosts"`
	OK              int            `json:"ok"`
	Failed          int            `json:"failed"`
	Unreachable     int            `json:"unreachable"`
	Skipped         int            `json:"skipped"`
	Compliant       int            `json:"compliant"`
	PendingSecurity int            `json:"pending_security"`
}

// Changes is how the newest selected run's hosts differ from their own
// previous result (in any earlier run).
type Changes struct {
	// NewlyFailing: failed or unreachable now, ok the time before.
	NewlyFailing []Change `json:"newly_failing"`
	// NewlyCompliant: no security update pending now, some the time
	// before.
	NewlyCompliant []Change `json:"newly_compliant"`
}

// Change is one host's change and the run it is compared with.
type Change struct {
	Host          string `json:"host"`
	PreviousRunID string `json:"previous_run_id"`
	Before        string `json:"before"` // "ok", "3 security updates pending"
	After         string `json:"after"`
}
