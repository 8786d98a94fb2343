package history

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/patchrun/patchrun/report"
)

// Run is one imported run as the runs table holds it.
type Run struct {
	ID        string
	Command   report.Command
	DryRun    bool
	StartedAt time.Time
	EndedAt   time.Time // zero: it has no end record
	State     string
	ExitCode  *int
	HaltedBy  string
	Counts    report.Summary // hosts, ok, failed, unreachable, skipped
}

// RunHost is one host's result in one run, with the updates it listed
// and its phases.
type RunHost struct {
	Name, Address, Transport, OS, PackageManager string
	Groups                                       []string
	Status                                       report.Status
	ErrorKind, Error                             string
	FailedPhase                                  report.Phase
	Output                                       string // see OutputExcerpt
	Rebooted, RebootPending                      bool
	StartedAt, FinishedAt                        time.Time // zero if unknown
	Updates                                      []RunUpdate
	Timeline                                     []Segment
}

// RunUpdate is one update a host listed in a run, with what the run did
// about it.
type RunUpdate struct {
	Name, Arch, Current, Available, KB, Severity string
	Security, KnownExploited                     bool
	CVEs                                         []string
	Selected, Installed                          bool
	Error                                        string
}

// PendingUpdate is an update pending on a host at some time, with when
// it was first seen pending.
type PendingUpdate struct {
	Host, Name, Arch, Severity string
	Security                   bool
	FirstSeen                  time.Time
}

// HostStatus is a host's status in one run (HostStatuses).
type HostStatus struct {
	Host      string
	RunID     string
	Command   report.Command
	DryRun    bool
	StartedAt time.Time // the run's start
	Status    report.Status
	// FailedPhase is where a host that did not end ok stopped.
	FailedPhase report.Phase
}

// maxOutputExcerpt bounds the output kept per host result.
const maxOutputExcerpt = 4096

// OutputExcerpt is what a host printed that best says how it ended: the
// last step output its result kept (the failing step, else the last
// install round), else an exec's stderr then stdout; at most 4 KiB, its
// end kept.
func OutputExcerpt(h report.HostResult) string {
	var s string
	if n := len(h.Output); n > 0 {
		s = h.Output[n-1].Output
	} else if h.Exec != nil {
		s = strings.TrimSpace(strings.TrimSpace(h.Exec.Stderr) + "\n" + strings.TrimSpace(h.Exec.Stdout))
	}
	if len(s) > maxOutputExcerpt {
		s = s[len(s)-maxOutputExcerpt:]
	}
	return strings.ToValidUTF8(s, "")
}

func (s *sqlStore) Runs(ctx context.Context) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, command, dry_run, started_at, ended_at, state, exit_code,
		hosts, ok, failed, unreachable, skipped, halted_by FROM runs ORDER BY started_at, run_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var cmd string
		var dry int
		var start int64
		var end, code sql.NullInt64
		c := &r.Counts
		if err := rows.Scan(&r.ID, &cmd, &dry, &start, &end, &r.State, &code, &c.Hosts, &c.OK, &c.Failed, &c.Unreachable, &c.Skipped, &r.HaltedBy); err != nil {
			return nil, err
		}
		r.Command, r.DryRun, r.StartedAt = report.Command(cmd), dry != 0, time.UnixMilli(start).UTC()
		if end.Valid {
			r.EndedAt = time.UnixMilli(end.Int64).UTC()
		}
		if code.Valid {
			n := int(code.Int64)
			r.ExitCode = &n
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqlStore) RunHosts(ctx context.Context, runID string) ([]RunHost, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT host, address, transport, os, package_manager, groups, status, error_kind, error,
		failed_phase, output, rebooted, reboot_pending, started_at, finished_at FROM run_hosts WHERE run_id = ? ORDER BY host`), runID)
	if err != nil {
		return nil, err
	}
	var out []RunHost
	idx := map[string]int{}
	for rows.Next() {
		var h RunHost
		var groups, status, phase string
		var rebooted, pending int
		var start, end sql.NullInt64
		if err := rows.Scan(&h.Name, &h.Address, &h.Transport, &h.OS, &h.PackageManager, &groups, &status, &h.ErrorKind, &h.Error,
			&phase, &h.Output, &rebooted, &pending, &start, &end); err != nil {
			rows.Close()
			return nil, err
		}
		h.Status, h.FailedPhase, h.Rebooted, h.RebootPending = report.Status(status), report.Phase(phase), rebooted != 0, pending != 0
		if groups != "" {
			h.Groups = strings.Split(groups, "\n")
		}
		if start.Valid {
			h.StartedAt = time.UnixMilli(start.Int64).UTC()
		}
		if end.Valid {
			h.FinishedAt = time.UnixMilli(end.Int64).UTC()
		}
		idx[h.Name] = len(out)
		out = append(out, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.runUpdates(ctx, runID, out, idx); err != nil {
		return nil, err
	}
	return out, s.runPhases(ctx, runID, out, idx)
}

func (s *sqlStore) runUpdates(ctx context.Context, runID string, hosts []RunHost, idx map[string]int) error {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT host, name, arch, current_version, available, kb, security, severity, cves,
		known_exploited, selected, installed, error FROM run_updates WHERE run_id = ? ORDER BY host, seq`), runID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var host, cves string
		var u RunUpdate
		var sec, kev, sel, inst int
		if err := rows.Scan(&host, &u.Name, &u.Arch, &u.Current, &u.Available, &u.KB, &sec, &u.Severity, &cves, &kev, &sel, &inst, &u.Error); err != nil {
			return err
		}
		u.Security, u.KnownExploited, u.Selected, u.Installed = sec != 0, kev != 0, sel != 0, inst != 0
		u.CVEs = strings.Fields(cves)
		if i, ok := idx[host]; ok {
			hosts[i].Updates = append(hosts[i].Updates, u)
		}
	}
	return rows.Err()
}

func (s *sqlStore) runPhases(ctx context.Context, runID string, hosts []RunHost, idx map[string]int) error {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT host, phase, started_at, ended_at, batch, wave FROM run_phases WHERE run_id = ? ORDER BY host, seq`), runID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var host, phase string
		var start, end int64
		var sg Segment
		if err := rows.Scan(&host, &phase, &start, &end, &sg.Batch, &sg.Wave); err != nil {
			return err
		}
		sg.Phase, sg.Start, sg.End = report.Phase(phase), time.UnixMilli(start).UTC(), time.UnixMilli(end).UTC()
		if i, ok := idx[host]; ok {
			hosts[i].Timeline = append(hosts[i].Timeline, sg)
		}
	}
	return rows.Err()
}

func (s *sqlStore) PendingAt(ctx context.Context, at time.Time) ([]PendingUpdate, error) {
	t := at.UnixMilli()
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT host, name, arch, severity, security, first_seen FROM updates
		WHERE first_seen <= ? AND (closed_at IS NULL OR closed_at > ?) ORDER BY host, name, arch`), t, t)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingUpdate
	for rows.Next() {
		var u PendingUpdate
		var sec int
		var first int64
		if err := rows.Scan(&u.Host, &u.Name, &u.Arch, &u.Severity, &sec, &first); err != nil {
			return nil, err
		}
		u.Security, u.FirstSeen = sec != 0, time.UnixMilli(first).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *sqlStore) HostStatuses(ctx context.Context, until time.Time) ([]HostStatus, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT rh.host, rh.run_id, r.command, r.dry_run, r.started_at, rh.status, rh.failed_phase
		FROM run_hosts rh JOIN runs r ON r.run_id = rh.run_id WHERE r.started_at <= ? ORDER BY r.started_at, r.run_id, rh.host`), until.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HostStatus
	for rows.Next() {
		var h HostStatus
		var cmd, status, phase string
		var dry int
		var start int64
		if err := rows.Scan(&h.Host, &h.RunID, &cmd, &dry, &start, &status, &phase); err != nil {
			return nil, err
		}
		h.Command, h.DryRun, h.StartedAt, h.Status = report.Command(cmd), dry != 0, time.UnixMilli(start).UTC(), report.Status(status)
		h.FailedPhase = report.Phase(phase)
		out = append(out, h)
	}
	return out, rows.Err()
}
