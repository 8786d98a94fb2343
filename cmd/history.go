package cmd

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/state"
)

// addNoHistoryFlag adds --no-history to a recorded command.
func addNoHistoryFlag(c *cobra.Command, off *bool) {
	c.Flags().BoolVar(off, "no-history", false, "do not record the run in the history database (patchrun.db in the state directory, or --db; the journal is still written)")
}

// addDBFlag adds --db to a command that uses the history database.
func addDBFlag(c *cobra.Command, db *string) {
	c.Flags().StringVar(db, "db", "", "history database: a postgres://user@host/db URL shared by many machines (password from PGPASSWORD or ~/.pgpass, not the URL; add sslmode=verify-full), default $"+history.EnvDB+", else patchrun.db in the state directory")
}

// historyDB is the history database to use: --db, else $PATCHRUN_DB, else
// "" (the SQLite file in the state directory). A value that is not a
// postgres:// URL is refused, never shown (it may hold a password).
func (a *app) historyDB(flag string) (string, error) {
	db, from := flag, "--db"
	if db == "" {
		db, from = a.streams.Getenv(history.EnvDB), history.EnvDB
	}
	if db != "" && !history.IsPostgres(db) {
		return "", fmt.Errorf("%s: want a postgres://user@host/dbname URL, or unset for patchrun.db in the state directory (the value is not shown: it may hold a password)", from)
	}
	return db, nil
}

// historyTimeout bounds the end-of-run import: a database held by a
// stuck process must not hold the run's exit.
const historyTimeout = time.Minute

// recordHistory imports the run that just ended (its results read back
// from its journal), and any earlier run not imported yet, into the
// history database. A failure is a warning on stderr: the run's result
// and exit code stand, and the next run or `patchrun hosts` imports it
// from the journal.
func (a *app) recordHistory(o *commonOptions, rec *recording) {
	if o.noHistory || rec == nil || rec.w == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	runID := filepath.Base(filepath.Dir(rec.w.Path()))
	db, err := a.runDB(o)
	if err == nil {
		err = syncHistory(ctx, rec.stateDir, db, runID, func(res history.SyncResult) {
			a.warnSkippedJournals(res)
		})
	}
	if err != nil {
		fmt.Fprintf(a.streams.Err, "warning: history database not updated (the run's result and exit code are unaffected; the next run imports it from the journal): %v\n", err)
	}
}

// runDB is the history database a run records into (see historyDB).
func (a *app) runDB(o *commonOptions) (string, error) {
	if o.localHistory {
		return "", nil
	}
	return a.historyDB(o.db)
}

// syncHistory opens the history database (db as history.OpenDB takes it)
// and brings it up to date with the state directory's journals
// (rebuilding it if it is missing or of an older schema). self is the
// caller's own run, or "".
func syncHistory(ctx context.Context, dir, db, self string, done func(history.SyncResult)) error {
	st, err := history.OpenDB(ctx, dir, db)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := history.Sync(ctx, st, dir, self)
	if err != nil {
		return err
	}
	done(res)
	return nil
}

func (a *app) warnSkippedJournals(res history.SyncResult) {
	if n := len(res.Skipped); n > 0 {
		fmt.Fprintf(a.streams.Err, "warning: history: %d unreadable run journal(s) not imported (see patchrun runs), first: %v\n", n, res.Skipped[0])
	}
}

// historyDir is --state-dir, else the default state directory, created.
func historyDir(a *app, dir string) (string, error) {
	if dir == "" {
		var err error
		if dir, err = defaultStateDir(a.streams.Getenv); err != nil {
			return "", err
		}
	}
	return dir, state.Ensure(dir)
}
