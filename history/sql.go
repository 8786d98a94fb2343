package history

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/patchrun/patchrun/report"
)

// dialect is what differs between SQL engines: the placeholder syntax
// (queries are written with ?), the column types of the migrations (they
// are written once, in SQLite's types), what a write transaction does
// first, and whether the database is shared by many state directories.
type dialect struct {
	name   string
	rebind func(string) string
	// ddl translates a migration statement; nil: as written.
	ddl func(string) string
	// begin are run first in every write transaction (PostgreSQL: one
	// writer at a time).
	begin []string
	// shared: many state directories (machines) write into this database,
	// so a rebuild re-imports the runs it is given and keeps the others.
	shared     bool
	migrations []migration
}

// migration takes the schema from version-1 to version. rebuild: the new
// schema holds what only the journals can fill, so the database is
// rebuilt from them after migrating.
type migration struct {
	version int
	rebuild bool
	stmts   []string
}

// sqlStore is a Store over database/sql.
type sqlStore struct {
	db      *sql.DB
	d       dialect
	path    string
	rebuild bool
}

func (s *sqlStore) NeedsRebuild() bool { return s.rebuild }
func (s *sqlStore) Close() error       { return s.db.Close() }

// current is the schema version this patchrun writes.
func (d dialect) current() int { return d.migrations[len(d.migrations)-1].version }

// importedSchemaSince is the version that added runs.imported_schema.
const importedSchemaSince = 4

// fullSince is the last version that needs the journals (a rebuild): a
// run imported under an older schema lacks what it added.
func (d dialect) fullSince() int {
	v := 0
	for _, m := range d.migrations {
		if m.rebuild {
			v = m.version
		}
	}
	return v
}

// migrate brings the schema to the current version in one write
// transaction (so two processes opening an old database at once migrate
// it once), and reports whether a migration asks for a rebuild (a new
// database always does).
func (s *sqlStore) migrate(ctx context.Context) (rebuild bool, err error) {
	// A database already at this version is only read: no write
	// transaction, so a read-only role (reports from a manager's
	// machine) can open a shared one, and opening never queues behind a
	// writer.
	var v int
	if s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v) == nil && v == s.d.current() {
		return false, nil
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		v := 0
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
			return err
		}
		if cur := s.d.current(); v > cur {
			hint := "upgrade patchrun, or move the file away: it is rebuilt from the run journals; --no-history skips it"
			if s.d.shared {
				hint = "upgrade patchrun: every machine writing into a shared database needs one that knows its schema; --no-history skips it"
			}
			return fmt.Errorf("%w: it is version %d, this patchrun knows up to %d (hint: %s)", ErrNewerSchema, v, cur, hint)
		}
		for _, m := range s.d.migrations {
			if m.version <= v {
				continue
			}
			for _, st := range m.stmts {
				if s.d.ddl != nil {
					st = s.d.ddl(st)
				}
				if _, err := tx.ExecContext(ctx, st); err != nil {
					return fmt.Errorf("migration to version %d: %w", m.version, err)
				}
			}
			rebuild = rebuild || m.rebuild || v == 0
		}
		// A shared database migrated to a schema that needs the journals:
		// every run is stale until the machine holding its journal imports
		// it again (this one does right away, by rebuilding).
		if s.d.shared && rebuild && v > 0 && s.d.current() >= importedSchemaSince {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET imported_schema = 0`); err != nil {
				return err
			}
		}
		if v < s.d.current() {
			if _, err := tx.ExecContext(ctx, `DELETE FROM schema_version`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_version (version) VALUES (?)`), s.d.current()); err != nil {
				return err
			}
		}
		return nil
	})
	return rebuild, err
}

// tx runs fn in one write transaction, one writer at a time (SQLite:
// BEGIN IMMEDIATE; PostgreSQL: an advisory lock taken first), so a second
// writer waits for the busy timeout instead of failing mid-way.
func (s *sqlStore) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, st := range s.d.begin {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) Imported(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT run_id, segments FROM runs WHERE imported_schema >= ?`), s.d.fullSince())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		m[id] = n
	}
	return m, rows.Err()
}

func (s *sqlStore) Import(ctx context.Context, run RunInfo, results Results) (imported bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var segs, schema int
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT segments, imported_schema FROM runs WHERE run_id = ?`), run.ID).Scan(&segs, &schema)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return err
		case segs >= run.Segments && schema >= s.d.fullSince():
			return nil
		}
		imported = true
		return s.importTx(ctx, tx, run, results)
	})
	return imported, err
}

// Rebuild: a database of one state directory (SQLite) is emptied and
// filled with runs. A shared one (PostgreSQL) holds other machines' runs
// too, which this state directory has no journal of: it is not emptied;
// runs are imported again, replacing their own rows and nothing else.
func (s *sqlStore) Rebuild(ctx context.Context, runs []RunSource) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range []string{"run_phases", "run_updates", "run_hosts", "updates", "hosts", "runs"} {
			if s.d.shared {
				break
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		for _, r := range runs {
			if err := s.importTx(ctx, tx, r.Info, r.Results); err != nil {
				return fmt.Errorf("run %s: %w", r.Info.ID, err)
			}
		}
		return nil
	})
	if err == nil {
		s.rebuild = false
	}
	return err
}

// ms is t in Unix milliseconds; nil for the zero time.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// importTx writes run and folds each host result into the estate.
func (s *sqlStore) importTx(ctx context.Context, tx *sql.Tx, run RunInfo, results Results) error {
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, s.d.rebind(q), args...)
		return err
	}
	for _, t := range []string{"run_phases", "run_updates", "run_hosts"} {
		if err := exec(`DELETE FROM `+t+` WHERE run_id = ?`, run.ID); err != nil {
			return err
		}
	}
	if err := exec(`DELETE FROM runs WHERE run_id = ?`, run.ID); err != nil {
		return err
	}
	var code any
	if run.ExitCode != nil {
		code = *run.ExitCode
	}
	c := run.Counts
	if err := exec(`INSERT INTO runs (run_id, command, dry_run, started_at, ended_at, state, exit_code, hosts, ok, failed, unreachable, skipped, segments, halted_by, imported_schema)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		run.ID, string(run.Command), b2i(run.DryRun), run.StartedAt.UnixMilli(), ms(run.EndedAt), string(run.State), code,
		c.Hosts, c.OK, c.Failed, c.Unreachable, c.Skipped, run.Segments, run.HaltedBy, s.d.current()); err != nil {
		return err
	}
	return results(func(h report.HostResult) error {
		return s.foldHost(ctx, tx, run, h)
	})
}

// foldHost records one host's result of run: its run_hosts row, its
// hosts row (as last seen) and, for a scan or patch that reached it, its
// pending and installed updates.
func (s *sqlStore) foldHost(ctx context.Context, tx *sql.Tx, run RunInfo, h report.HostResult) error {
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, s.d.rebind(q), args...)
		return err
	}
	at := h.FinishedAt
	if at.IsZero() {
		at = run.StartedAt
	}
	installed := 0
	for _, u := range h.Updates {
		if u.Installed {
			installed++
		}
	}
	pendingReboot := h.RebootRequired && !h.Rebooted
	if err := exec(`INSERT INTO run_hosts (run_id, host, status, error_kind, error, failed_phase, updates, installed, rebooted, started_at, finished_at,
		address, transport, os, package_manager, groups, reboot_pending, output)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		run.ID, h.Name, string(h.Status), h.ErrorKind, h.Error, string(h.Phase), len(h.Updates), installed, b2i(h.Rebooted), ms(h.StartedAt), ms(h.FinishedAt),
		h.Address, h.Transport, h.OS, h.PackageManager, strings.Join(run.Groups[h.Name], "\n"), b2i(pendingReboot), OutputExcerpt(h)); err != nil {
		return err
	}
	for i, u := range h.Updates {
		if err := exec(`INSERT INTO run_updates (run_id, host, seq, name, arch, current_version, available, kb, security, severity, cves, known_exploited, selected, installed, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			run.ID, h.Name, i, u.Name, u.Arch, u.Current, u.Available, u.KB, b2i(u.Security), u.Severity, strings.Join(u.CVEs, " "),
			b2i(u.KnownExploited), b2i(u.Selected), b2i(u.Installed), u.Error); err != nil {
			return err
		}
	}
	for i, sg := range run.Timeline[h.Name] {
		if err := exec(`INSERT INTO run_phases (run_id, host, seq, phase, started_at, ended_at, batch, wave) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			run.ID, h.Name, i, string(sg.Phase), sg.Start.UnixMilli(), sg.End.UnixMilli(), sg.Batch, sg.Wave); err != nil {
			return err
		}
	}
	reached := h.Status == report.StatusOK || (h.Status == report.StatusFailed && h.OS != "")
	// The host row: created on first sight; the last-run columns follow
	// the newest run; the facts follow the newest run that reached it.
	if err := exec(`INSERT INTO hosts (name, last_run_id, last_run_at, last_status) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, h.Name, run.ID, run.StartedAt.UnixMilli(), string(h.Status)); err != nil {
		return err
	}
	if err := exec(`UPDATE hosts SET last_run_id = ?, last_run_at = ?, last_status = ?, last_error = ?
		WHERE name = ? AND last_run_at <= ?`,
		run.ID, run.StartedAt.UnixMilli(), string(h.Status), h.Error, h.Name, run.StartedAt.UnixMilli()); err != nil {
		return err
	}
	if !reached {
		return nil
	}
	reasons := ""
	if pendingReboot {
		reasons = strings.Join(h.RebootReasons, "\n")
	}
	if err := exec(`UPDATE hosts SET os = ?, package_manager = ?, address = ?, transport = ?, last_seen = ?, reboot_required = ?, reboot_reasons = ?
		WHERE name = ? AND (last_seen IS NULL OR last_seen <= ?)`,
		h.OS, h.PackageManager, h.Address, h.Transport, at.UnixMilli(), b2i(pendingReboot), reasons, h.Name, at.UnixMilli()); err != nil {
		return err
	}
	if run.Command == report.CmdPatch && !run.DryRun && installed > 0 {
		if err := exec(`UPDATE hosts SET last_patched = ? WHERE name = ? AND (last_patched IS NULL OR last_patched < ?)`,
			at.UnixMilli(), h.Name, at.UnixMilli()); err != nil {
			return err
		}
	}
	// Updates: only a scan or a patch lists what the host has pending.
	if run.Command != report.CmdScan && run.Command != report.CmdPatch {
		return nil
	}
	return s.foldUpdates(ctx, tx, run, h, at)
}

// foldUpdates ages the host's updates. A pending update keeps the entry
// (and first_seen) it had while it stays pending; an installed one closes
// it; one no longer listed by a complete scan closes as "gone" (installed
// outside patchrun, or superseded). An update offered again after its
// entry closed gets a new entry.
func (s *sqlStore) foldUpdates(ctx context.Context, tx *sql.Tx, run RunInfo, h report.HostResult, at time.Time) error {
	open, err := s.entries(ctx, tx, `SELECT id, name, arch FROM updates WHERE host = ? AND closed_at IS NULL`, h.Name)
	if err != nil {
		return err
	}
	// Entries this run opened or closed in an earlier import of it (it is
	// imported again when resumed, or by a rebuild of a shared database):
	// never opened twice, nor reopened once closed.
	own, err := s.entries(ctx, tx, `SELECT id, name, arch FROM updates WHERE host = ? AND (first_run_id = ? OR closed_run_id = ?)`, h.Name, run.ID, run.ID)
	if err != nil {
		return err
	}
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, s.d.rebind(q), args...)
		return err
	}
	t := at.UnixMilli()
	seen := map[key]bool{}
	for _, u := range h.Updates {
		k := key{u.Name, u.Arch}
		seen[k] = true
		id, isOpen := open[k]
		if _, ours := own[k]; !isOpen && ours {
			continue
		}
		if !isOpen {
			if err := exec(`INSERT INTO updates (host, name, arch, available, security, severity, kb, first_seen, first_run_id, last_seen)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				h.Name, u.Name, u.Arch, u.Available, b2i(u.Security), u.Severity, u.KB, t, run.ID, t); err != nil {
				return err
			}
			if !u.Installed {
				continue
			}
			if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT MAX(id) FROM updates WHERE host = ? AND name = ? AND arch = ?`), h.Name, u.Name, u.Arch).Scan(&id); err != nil {
				return err
			}
		}
		if u.Installed {
			if err := exec(`UPDATE updates SET last_seen = ?, closed_at = ?, closed_run_id = ?, closed_how = 'installed' WHERE id = ?`, t, t, run.ID, id); err != nil {
				return err
			}
			continue
		}
		if isOpen {
			if err := exec(`UPDATE updates SET last_seen = ?, available = ?, security = ?, severity = ?, kb = ? WHERE id = ? AND last_seen <= ?`,
				t, u.Available, b2i(u.Security), u.Severity, u.KB, id, t); err != nil {
				return err
			}
		}
	}
	// A failed host may have stopped before its scan finished: only a
	// host that ended ok vouches that what it did not list is not pending.
	if h.Status != report.StatusOK {
		return nil
	}
	for k, id := range open {
		if seen[k] {
			continue
		}
		if err := exec(`UPDATE updates SET closed_at = ?, closed_run_id = ?, closed_how = 'gone' WHERE id = ? AND first_seen <= ?`, t, run.ID, id, t); err != nil {
			return err
		}
	}
	return nil
}

// key is an update entry's update on its host.
type key struct{ name, arch string }

// entries runs q (selecting id, name, arch from updates) in tx: entry id
// by update.
func (s *sqlStore) entries(ctx context.Context, tx *sql.Tx, q string, args ...any) (map[key]int64, error) {
	rows, err := tx.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[key]int64{}
	for rows.Next() {
		var id int64
		var k key
		if err := rows.Scan(&id, &k.name, &k.arch); err != nil {
			return nil, err
		}
		m[k] = id
	}
	return m, rows.Err()
}

func (s *sqlStore) Hosts(ctx context.Context) ([]Host, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT h.name, h.address, h.transport, h.os, h.package_manager, h.last_seen, h.last_patched,
		h.last_run_id, h.last_status, h.last_error, h.reboot_required, h.reboot_reasons,
		(SELECT COUNT(*) FROM updates u WHERE u.host = h.name AND u.closed_at IS NULL),
		(SELECT COUNT(*) FROM updates u WHERE u.host = h.name AND u.closed_at IS NULL AND u.security <> 0),
		(SELECT MIN(u.first_seen) FROM updates u WHERE u.host = h.name AND u.closed_at IS NULL AND u.security <> 0)
		FROM hosts h ORDER BY h.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Host
	for rows.Next() {
		var h Host
		var seen, patched, oldest sql.NullInt64
		var reboot int
		var reasons, status string
		if err := rows.Scan(&h.Name, &h.Address, &h.Transport, &h.OS, &h.PackageManager, &seen, &patched,
			&h.LastRunID, &status, &h.LastError, &reboot, &reasons, &h.Pending, &h.Security, &oldest); err != nil {
			return nil, err
		}
		h.LastStatus = report.Status(status)
		h.LastSeen, h.LastPatched, h.OldestSecurity = msTime(seen), msTime(patched), msTime(oldest)
		h.RebootRequired = reboot != 0
		if reasons != "" {
			h.RebootReasons = strings.Split(reasons, "\n")
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func msTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}
