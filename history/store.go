// Package history is patchrun's history database: the runs recorded in a
// state directory, folded into an estate (hosts as last seen, the updates
// each has pending and since when) that `patchrun hosts` reads without
// contacting any host.
//
// The journals under <state-dir>/runs are the source of truth; the
// database is filled from them at the end of every run and rebuilt from
// them when it is missing or of an older schema. Store is the interface
// the rest of patchrun uses; the SQLite engine (Open) implements it over
// database/sql with a dialect, so another SQL engine is a new dialect
// (its DDL and placeholders), not new import or query code.
package history

import (
	"context"
	"errors"
	"time"

	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
)

// FileName is the SQLite database's name in the state directory.
const FileName = "patchrun.db"

// Store is a history database.
type Store interface {
	// Import records run (its header, end, counts and every host's result,
	// streamed by results) in one transaction. A run already imported with
	// as many segments is left alone (imported = false); one that was
	// resumed since, or imported under a schema that lacks what the
	// journals hold (a shared database's runs after such a migration), is
	// imported again.
	Import(ctx context.Context, run RunInfo, results Results) (imported bool, err error)
	// Rebuild imports runs, oldest first, in one transaction. A database
	// of one state directory (SQLite) is emptied first; a shared one
	// (PostgreSQL) keeps every other run: those of other machines.
	Rebuild(ctx context.Context, runs []RunSource) error
	// Imported lists the imported runs, run id → segments; runs imported
	// under a schema that lacks what the journals hold are left out.
	Imported(ctx context.Context) (map[string]int, error)
	// Hosts is the estate as last seen, by host name.
	Hosts(ctx context.Context) ([]Host, error)
	// Runs lists the imported runs, oldest first.
	Runs(ctx context.Context) ([]Run, error)
	// RunHosts is every host's result in run runID, by host name, with
	// its updates and timeline.
	RunHosts(ctx context.Context, runID string) ([]RunHost, error)
	// PendingAt is every update that was pending on a host at t: first
	// seen pending by then and not closed by then.
	PendingAt(ctx context.Context, t time.Time) ([]PendingUpdate, error)
	// HostStatuses is each host's status in every run started by until,
	// oldest run first.
	HostStatuses(ctx context.Context, until time.Time) ([]HostStatus, error)
	// NeedsRebuild: the database was just created or migrated from an
	// older schema, so it must be rebuilt from the journals.
	NeedsRebuild() bool
	Close() error
}

// Results streams a run's host results to fn, one at a time.
type Results func(fn func(report.HostResult) error) error

// RunSource is one run to import: what it is and its results.
type RunSource struct {
	Info    RunInfo
	Results Results
}

// RunInfo is a run as the runs table holds it.
type RunInfo struct {
	ID        string
	Command   report.Command
	DryRun    bool
	StartedAt time.Time
	EndedAt   time.Time // zero: no end record (interrupted by a crash)
	State     journal.State
	ExitCode  *int
	Segments  int // 1 + times resumed
	Counts    report.Summary
	// HaltedBy names the budget that halted the run, if one did.
	HaltedBy string
	// Groups are each host's inventory groups (hosts without any are
	// not in it).
	Groups map[string][]string
	// Timeline is each host's phases as its events tell them.
	Timeline map[string][]Segment
}

// FromJournal is the RunInfo and results of a journal read back; its
// events are read (once) for the hosts' timelines.
func FromJournal(r *journal.Run) (RunSource, error) {
	info := RunInfo{
		ID: r.ID, Command: r.Header.Command, DryRun: r.Header.DryRun,
		StartedAt: r.Header.StartedAt, State: r.State, Segments: 1 + len(r.Resumes),
		Counts: r.Counts(), Groups: r.Header.Groups,
	}
	if r.End != nil {
		info.EndedAt = r.End.Time
		code := r.End.ExitCode
		info.ExitCode = &code
		info.HaltedBy = r.End.HaltedBy
	}
	tl := newTimeline()
	if err := r.Events(tl.add); err != nil {
		return RunSource{}, err
	}
	info.Timeline = tl.done(info.EndedAt)
	// A host belongs to one rollout wave: its checkpoints name it even
	// where its events do not (a wave's hosts are not listed in events).
	for h, segs := range info.Timeline {
		if c, ok := r.LastCheckpoint(h); ok && c.Wave > 0 {
			for i := range segs {
				if segs[i].Wave == 0 {
					segs[i].Wave = c.Wave
				}
			}
		}
	}
	hosts := r.Header.Hosts
	return RunSource{Info: info, Results: func(fn func(report.HostResult) error) error {
		return r.Results(hosts, fn)
	}}, nil
}

// Host is one host as last seen.
type Host struct {
	Name           string        `json:"name"`
	Address        string        `json:"address,omitempty"`
	Transport      string        `json:"transport,omitempty"`
	OS             string        `json:"os,omitempty"`
	PackageManager string        `json:"package_manager,omitempty"`
	LastSeen       *time.Time    `json:"last_seen"`    // last run that reached it; nil: never reached
	LastPatched    *time.Time    `json:"last_patched"` // last patch that installed something on it
	LastRunID      string        `json:"last_run_id"`
	LastStatus     report.Status `json:"last_status"` // in the last run that included it
	LastError      string        `json:"last_error,omitempty"`
	// Pending counts the updates pending at its last scan; Security those
	// of them that are security updates.
	Pending  int `json:"pending"`
	Security int `json:"pending_security"`
	// OldestSecurity is when the oldest pending security update was first
	// seen pending; nil when none is.
	OldestSecurity *time.Time `json:"oldest_security_since"`
	RebootRequired bool       `json:"reboot_required"`
	RebootReasons  []string   `json:"reboot_reasons,omitempty"`
}

// ErrNewerSchema is returned by Open for a database written by a newer
// patchrun.
var ErrNewerSchema = errors.New("history database schema is newer than this patchrun")
