package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	// modernc.org/sqlite is SQLite translated to Go: no cgo, so patchrun
	// still cross-builds for Windows and macOS from any machine.
	_ "modernc.org/sqlite"
)

// BusyTimeoutMS is how long a writer waits for another process's write
// transaction before giving up.
const BusyTimeoutMS = 15000

// sqliteDialect is SQLite's DDL: the migrations in order, version 1 first.
var sqliteDialect = dialect{
	name:   "sqlite",
	rebind: func(q string) string { return q },
	migrations: []migration{
		{version: 1, stmts: []string{
			`CREATE TABLE runs (
				run_id TEXT PRIMARY KEY,
				command TEXT NOT NULL,
				dry_run INTEGER NOT NULL,
				started_at INTEGER NOT NULL,
				ended_at INTEGER,
				state TEXT NOT NULL,
				exit_code INTEGER,
				hosts INTEGER NOT NULL,
				ok INTEGER NOT NULL,
				failed INTEGER NOT NULL,
				unreachable INTEGER NOT NULL,
				skipped INTEGER NOT NULL)`,
			`CREATE TABLE hosts (
				name TEXT PRIMARY KEY,
				os TEXT NOT NULL DEFAULT '',
				package_manager TEXT NOT NULL DEFAULT '',
				last_seen INTEGER,
				last_patched INTEGER,
				last_run_id TEXT NOT NULL,
				last_run_at INTEGER NOT NULL,
				last_status TEXT NOT NULL,
				last_error TEXT NOT NULL DEFAULT '',
				reboot_required INTEGER NOT NULL DEFAULT 0)`,
			`CREATE TABLE run_hosts (
				run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
				host TEXT NOT NULL,
				status TEXT NOT NULL,
				error_kind TEXT NOT NULL DEFAULT '',
				error TEXT NOT NULL DEFAULT '',
				updates INTEGER NOT NULL,
				installed INTEGER NOT NULL,
				rebooted INTEGER NOT NULL,
				started_at INTEGER,
				finished_at INTEGER,
				PRIMARY KEY (run_id, host))`,
			`CREATE TABLE updates (
				id INTEGER PRIMARY KEY,
				host TEXT NOT NULL,
				name TEXT NOT NULL,
				arch TEXT NOT NULL DEFAULT '',
				available TEXT NOT NULL DEFAULT '',
				security INTEGER NOT NULL,
				severity TEXT NOT NULL DEFAULT '',
				kb TEXT NOT NULL DEFAULT '',
				first_seen INTEGER NOT NULL,
				first_run_id TEXT NOT NULL,
				last_seen INTEGER NOT NULL,
				closed_at INTEGER,
				closed_run_id TEXT,
				closed_how TEXT)`,
			`CREATE INDEX updates_host ON updates(host, name, arch)`,
		}},
		{version: 2, rebuild: true, stmts: []string{
			`ALTER TABLE hosts ADD COLUMN address TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE hosts ADD COLUMN transport TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE hosts ADD COLUMN reboot_reasons TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE runs ADD COLUMN segments INTEGER NOT NULL DEFAULT 1`,
			`ALTER TABLE run_hosts ADD COLUMN failed_phase TEXT NOT NULL DEFAULT ''`,
		}},
		{version: 3, rebuild: true, stmts: []string{
			`ALTER TABLE runs ADD COLUMN halted_by TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE run_hosts ADD COLUMN address TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE run_hosts ADD COLUMN transport TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE run_hosts ADD COLUMN os TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE run_hosts ADD COLUMN package_manager TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE run_hosts ADD COLUMN groups TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE run_hosts ADD COLUMN reboot_pending INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE run_hosts ADD COLUMN output TEXT NOT NULL DEFAULT ''`,
			`CREATE TABLE run_updates (
				run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
				host TEXT NOT NULL,
				seq INTEGER NOT NULL,
				name TEXT NOT NULL,
				arch TEXT NOT NULL DEFAULT '',
				current_version TEXT NOT NULL DEFAULT '',
				available TEXT NOT NULL DEFAULT '',
				kb TEXT NOT NULL DEFAULT '',
				security INTEGER NOT NULL,
				severity TEXT NOT NULL DEFAULT '',
				cves TEXT NOT NULL DEFAULT '',
				known_exploited INTEGER NOT NULL DEFAULT 0,
				selected INTEGER NOT NULL DEFAULT 0,
				installed INTEGER NOT NULL DEFAULT 0,
				error TEXT NOT NULL DEFAULT '',
				PRIMARY KEY (run_id, host, seq))`,
			`CREATE TABLE run_phases (
				run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
				host TEXT NOT NULL,
				seq INTEGER NOT NULL,
				phase TEXT NOT NULL,
				started_at INTEGER NOT NULL,
				ended_at INTEGER NOT NULL,
				batch INTEGER NOT NULL DEFAULT 0,
				wave INTEGER NOT NULL DEFAULT 0,
				PRIMARY KEY (run_id, host, seq))`,
		}},
		// imported_schema: the schema version a run was imported under. A
		// database shared by many state directories (PostgreSQL) cannot be
		// rebuilt by one machine: after a migration that needs the journals,
		// each machine re-imports its own runs, those imported before it.
		{version: 4, stmts: []string{
			`ALTER TABLE runs ADD COLUMN imported_schema INTEGER NOT NULL DEFAULT 0`,
			`UPDATE runs SET imported_schema = 3`,
		}},
	},
}

// Open opens (creating it 0600 if missing) the SQLite history database
// in stateDir and migrates it to the current schema. A database of a
// newer schema is refused with ErrNewerSchema.
func Open(ctx context.Context, stateDir string) (Store, error) {
	path := filepath.Join(stateDir, FileName)
	return openSQLite(ctx, path, sqliteDialect.migrations)
}

// openSQLite opens path migrated up to the last of migs (tests pass an
// older prefix to make an older database).
func openSQLite(ctx context.Context, path string, migs []migration) (*sqlStore, error) {
	// Created here 0600 (SQLite gives its -wal and -shm files the same
	// mode): the database holds remote errors and host names.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("history database: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("history database %s: %w", path, err)
	}
	d := sqliteDialect
	d.migrations = migs
	s := &sqlStore{db: db, d: d, path: path}
	if s.rebuild, err = s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("history database %s: %w", path, err)
	}
	return s, nil
}
