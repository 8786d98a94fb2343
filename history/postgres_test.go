package history

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/pgtest"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// A run imported again (resumed, or re-imported by a rebuild of a shared
// database) reuses the update entries it opened: none is opened twice,
// and one it installed, or a later run closed, stays closed.
func TestReimportedRunDoesNotReopenOrDuplicateEntries(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		dir, db := t.TempDir(), e.fresh(t)
		scan := writeRun(t, dir, report.CmdScan, t0, host{"web1", report.StatusOK, []patch.Update{sslSec, curl}, false})
		pt := writeRun(t, dir, report.CmdPatch, t0.Add(time.Hour), host{"web1", report.StatusOK, []patch.Update{installed(sslSec), curl}, false})
		st, _ := sync1(t, dir, db)
		ctx := context.Background()
		for _, id := range []string{pt, scan} {
			r, err := journal.Open(dir, id)
			if err != nil {
				t.Fatal(err)
			}
			src, err := FromJournal(r)
			if err != nil {
				t.Fatal(err)
			}
			src.Info.Segments++ // as if resumed since its import
			if ok, err := st.Import(ctx, src.Info, src.Results); err != nil || !ok {
				t.Fatalf("re-import %s: %v, %v", id, ok, err)
			}
		}
		w := hostsOf(t, st)["web1"]
		var entries int
		sqlDB(t, st).QueryRow(`SELECT COUNT(*) FROM updates WHERE host = 'web1'`).Scan(&entries)
		if w.Security != 0 || w.Pending != 1 || entries != 2 {
			t.Fatalf("after re-importing both runs: pending %d (security %d), %d entries; want 1 (0), 2: openssl installed, curl pending", w.Pending, w.Security, entries)
		}
	})
}

// Many machines, each with its own state directory, report into one
// PostgreSQL database. A rebuild (a migration that needs the journals, or
// an emptied database) from one machine re-imports its own runs and keeps
// every other machine's.
func TestSharedDatabaseRebuildKeepsOtherStateDirectoriesRuns(t *testing.T) {
	e := postgresEngine(t)
	db := e.fresh(t)
	ctx := context.Background()
	cron, laptop := t.TempDir(), t.TempDir()
	writeRun(t, cron, report.CmdScan, t0, host{"web1", report.StatusOK, []patch.Update{sslSec}, false})
	writeRun(t, laptop, report.CmdPatch, t0.Add(time.Hour), host{"db1", report.StatusOK, []patch.Update{installed(curl)}, false})
	cronStore, res := sync1(t, cron, db)
	if !res.Rebuilt || res.Imported != 1 {
		t.Fatalf("cron box's first sync = %+v, want its 1 run", res)
	}
	laptopStore, res := sync1(t, laptop, db)
	if res.Rebuilt || res.Imported != 1 {
		t.Fatalf("laptop's sync into the shared database = %+v, want its 1 run imported, no rebuild", res)
	}
	if h := hostsOf(t, cronStore); h["db1"].LastPatched == nil || h["web1"].Security != 1 {
		t.Fatalf("the estate seen from the cron box = %+v, want both machines' hosts", h)
	}
	// The cron box rebuilds from its journals.
	ids, _ := journal.IDs(cron)
	r, err := journal.Open(cron, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	src, err := FromJournal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := cronStore.Rebuild(ctx, []RunSource{src}); err != nil {
		t.Fatal(err)
	}
	imported, err := laptopStore.Imported(ctx)
	if err != nil || len(imported) != 2 {
		t.Fatalf("runs after the cron box's rebuild = %v (%v), want both machines' 2", imported, err)
	}
	h := hostsOf(t, laptopStore)
	var entries int
	sqlDB(t, cronStore).QueryRow(`SELECT COUNT(*) FROM updates`).Scan(&entries)
	if h["db1"].LastPatched == nil || h["web1"].Security != 1 || entries != 2 {
		t.Fatalf("estate after the rebuild = %+v with %d update entries, want db1 patched, web1's openssl pending, 2 entries", h, entries)
	}
}

func TestPostgresErrorsNeverShowThePassword(t *testing.T) {
	ctx := context.Background()
	t.Setenv("PGPASSWORD", "env-Secret-9")
	for _, c := range []struct{ dsn, shown string }{
		// Nothing listens on port 1: the connection is refused.
		{"postgres://alice:url-Secret-1@127.0.0.1:1/estate?sslmode=disable", "postgres://alice@127.0.0.1:1/estate?sslmode=disable"},
		{"postgresql://alice@127.0.0.1:1/estate?password=query-Secret-2&sslmode=disable", "postgresql://alice@127.0.0.1:1/estate?sslmode=disable"},
		{"postgres://alice@127.0.0.1:1/estate?sslmode=disable", "postgres://alice@127.0.0.1:1/estate?sslmode=disable"},
		// pgx cannot parse it.
		{"postgres://alice:url-Secret-3@127.0.0.1:notaport/estate", "(hidden)"},
	} {
		_, err := OpenDB(ctx, t.TempDir(), c.dsn)
		if err == nil {
			t.Fatalf("%s: opened", c.shown)
		}
		msg := err.Error()
		if strings.Contains(msg, "Secret") || !strings.Contains(msg, c.shown) {
			t.Errorf("error = %q, want it to name %s and hold no password", msg, c.shown)
		}
	}
	_, err := OpenDB(ctx, t.TempDir(), "mysql://bob:my-Secret-4@db/estate")
	if err == nil || strings.Contains(err.Error(), "Secret") || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("another scheme: %v", err)
	}
}

// A PostgreSQL error raised by the server reaches the caller (errors.Is
// and As still work) with the password masked.
func TestRedactKeepsTheErrorChain(t *testing.T) {
	base := errors.New(`connect to postgres://u:pa%2Fss@h/db failed: password "pa/ss" rejected`)
	err := redact(base, secrets("postgres://u:pa%2Fss@h/db", nil))
	if strings.Contains(err.Error(), "pa/ss") || strings.Contains(err.Error(), "pa%2Fss") || !errors.Is(err, base) {
		t.Fatalf("redacted = %q (is base: %v)", err, errors.Is(err, base))
	}
}

func TestDollarPlaceholdersSkipStringLiterals(t *testing.T) {
	got := dollarPlaceholders(`UPDATE t SET a = ?, b = 'why?' WHERE c = ?`)
	if want := `UPDATE t SET a = $1, b = 'why?' WHERE c = $2`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// A migration that needs the journals, on a shared database: the machine
// that migrates it re-imports its own runs at once; another machine's
// runs are stale until that machine imports them again from its journals
// (its next run or `patchrun hosts`), and then not again.
func TestSharedDatabaseMigrationReimportsEachMachinesOwnRuns(t *testing.T) {
	e := postgresEngine(t)
	db := e.fresh(t)
	ctx := context.Background()
	cron, laptop := t.TempDir(), t.TempDir()
	writeRun(t, cron, report.CmdScan, t0, host{"web1", report.StatusOK, []patch.Update{sslSec}, false})
	writeRun(t, laptop, report.CmdScan, t0.Add(time.Hour), host{"db1", report.StatusOK, []patch.Update{curl}, false})
	for _, dir := range []string{cron, laptop} {
		st, _ := sync1(t, dir, db)
		st.Close()
	}
	// A later patchrun whose version 99 needs the journals.
	next := append(append([]migration(nil), sqliteDialect.migrations...),
		migration{version: 99, rebuild: true, stmts: []string{`ALTER TABLE hosts ADD COLUMN extra TEXT NOT NULL DEFAULT ''`}})
	syncAt := func(dir string) SyncResult {
		t.Helper()
		st, err := e.openAt(ctx, dir, db, next)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		res, err := Sync(ctx, st, dir, "")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := syncAt(cron); !res.Rebuilt || res.Imported != 1 {
		t.Fatalf("the migrating machine's sync = %+v, want its own 1 run rebuilt", res)
	}
	if res := syncAt(laptop); res.Rebuilt || res.Imported != 1 {
		t.Fatalf("the other machine's sync = %+v, want its stale run imported again", res)
	}
	for _, dir := range []string{cron, laptop} {
		if res := syncAt(dir); res.Imported != 0 {
			t.Fatalf("a second sync imported %d runs again", res.Imported)
		}
	}
	st, err := e.openAt(ctx, cron, db, next)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var runs, stale int
	sqlDB(t, st).QueryRow(`SELECT COUNT(*), COUNT(CASE WHEN imported_schema < 99 THEN 1 END) FROM runs`).Scan(&runs, &stale)
	if runs != 2 || stale != 0 || len(hostsOf(t, st)) != 2 {
		t.Fatalf("runs %d (stale %d), hosts %+v; want both machines' 2 runs, none stale", runs, stale, hostsOf(t, st))
	}
}

// Version 4 only adds the schema each run was imported under: the runs a
// version 3 database holds are complete and not imported again.
func TestVersion3RunsAreNotImportedAgainAfterVersion4(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		dir, db := t.TempDir(), e.fresh(t)
		id := writeRun(t, dir, report.CmdScan, t0, host{"web1", report.StatusOK, []patch.Update{sslSec}, false})
		old, err := e.openAt(context.Background(), dir, db, sqliteDialect.migrations[:3])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sqlDB(t, old).Exec(`INSERT INTO runs (run_id, command, dry_run, started_at, state, hosts, ok, failed, unreachable, skipped)
			VALUES ('` + id + `', 'scan', 0, 0, 'finished', 1, 1, 0, 0, 0)`); err != nil {
			t.Fatal(err)
		}
		old.Close()
		if _, res := sync1(t, dir, db); res.Rebuilt || res.Imported != 0 {
			t.Fatalf("sync after migrating 3 to 4 = %+v, want nothing imported again", res)
		}
	})
}

// The password kept out of the URL: PostgreSQL's password file
// (PGPASSFILE, host:port:database:user:password) supplies it.
func TestPostgresPasswordFromPGPASSFILE(t *testing.T) {
	db := pgtest.Fresh(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	password, ok := u.User.Password()
	if !ok {
		t.Skip("the test database's URL has no password to move into a password file")
	}
	u.User = url.User(u.User.Username())
	pass := filepath.Join(t.TempDir(), "pgpass")
	line := strings.Join([]string{u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), u.User.Username(), password}, ":")
	if u.Port() == "" {
		line = strings.Replace(line, "::", ":*:", 1)
	}
	if err := os.WriteFile(pass, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", pass)
	st, err := OpenDB(context.Background(), t.TempDir(), u.String())
	if err != nil {
		t.Fatalf("open %s with the password from PGPASSFILE: %v", u.Redacted(), err)
	}
	st.Close()
	os.WriteFile(pass, []byte(strings.TrimSuffix(line, password)+"wrong-Secret\n"), 0o600)
	_, err = OpenDB(context.Background(), t.TempDir(), u.String())
	if err == nil || strings.Contains(err.Error(), "Secret") || strings.Contains(err.Error(), password) {
		t.Fatalf("a wrong password from the password file: %v", err)
	}
}

// A read-only role (here: every transaction read-only) can open a shared
// database that is up to date and read the estate: opening writes nothing.
func TestReadOnlyRoleReadsAnUpToDateSharedDatabase(t *testing.T) {
	e := postgresEngine(t)
	db := e.fresh(t)
	dir := t.TempDir()
	writeRun(t, dir, report.CmdScan, t0, host{"web1", report.StatusOK, []patch.Update{sslSec}, false})
	st, _ := sync1(t, dir, db)
	st.Close()
	ro := db + "&default_transaction_read_only=on"
	st, res := sync1(t, dir, ro)
	if res.Imported != 0 || hostsOf(t, st)["web1"].Security != 1 {
		t.Fatalf("read-only sync = %+v, estate %+v", res, hostsOf(t, st))
	}
}
