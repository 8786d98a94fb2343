package history

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/state"
)

var t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

type host struct {
	name   string
	status report.Status
	ups    []patch.Update // Installed marks installed ones
	reboot bool
}

// writeRun writes a finished run's journal with the journal package.
func writeRun(t *testing.T, dir string, cmd report.Command, at time.Time, hosts ...host) string {
	t.Helper()
	id := state.NewRunID(at)
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.name
	}
	w, err := journal.Create(dir, journal.Header{RunID: id, Command: cmd, Hosts: names, StartedAt: at, Inventory: "/inv"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, h := range hosts {
		for i, ph := range []string{"connecting", "scanning", "done"} {
			ev := map[string]any{"time": at.Add(time.Duration(i) * 30 * time.Second), "event": "host.phase", "host": h.name, "phase": ph}
			if err := w.Event(ev); err != nil {
				t.Fatal(err)
			}
		}
		r := report.HostResult{Name: h.name, Address: h.name + ".lan", Transport: "ssh", Status: h.status,
			RebootRequired: h.reboot, StartedAt: at, FinishedAt: at.Add(time.Minute), Updates: []report.Update{}}
		if h.status != report.StatusUnreachable {
			r.OS, r.PackageManager = "debian 12", "apt"
		}
		for _, u := range h.ups {
			r.Updates = append(r.Updates, report.Update{Update: u, Selected: u.Installed})
		}
		if err := w.Result(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.End(journal.End{State: journal.StateFinished, Time: at.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return id
}

// sync1 opens the database db names (see OpenDB) and syncs it with the
// journals in dir.
func sync1(t *testing.T, dir, db string) (Store, SyncResult) {
	t.Helper()
	st, err := OpenDB(context.Background(), dir, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := Sync(context.Background(), st, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return st, res
}

func hostsOf(t *testing.T, st Store) map[string]Host {
	t.Helper()
	hs, err := st.Hosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Host{}
	for _, h := range hs {
		m[h.Name] = h
	}
	return m
}

var (
	sslSec = patch.Update{Name: "openssl", Available: "3.0.15", Security: true}
	curl   = patch.Update{Name: "curl", Available: "7.88"}
)

func installed(u patch.Update) patch.Update { u.Installed = true; return u }

func TestRebuildFromJournalsThenIncrementalAndIdempotent(t *testing.T) {
	forEachEngine(t, testRebuildFromJournalsThenIncrementalAndIdempotent)
}

func testRebuildFromJournalsThenIncrementalAndIdempotent(t *testing.T, e engine) {
	dir, db := t.TempDir(), e.fresh(t)
	writeRun(t, dir, report.CmdScan, t0, host{"web1", report.StatusOK, []patch.Update{sslSec, curl}, false}, host{"db1", report.StatusUnreachable, nil, false})
	st, res := sync1(t, dir, db)
	if !res.Rebuilt || res.Imported != 1 {
		t.Fatalf("first sync = %+v, want a rebuild importing 1 run", res)
	}
	if db == "" {
		fi, err := os.Stat(filepath.Join(dir, FileName))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("patchrun.db mode = %v (%v), want 0600", fi.Mode(), err)
		}
	}
	h := hostsOf(t, st)
	if w := h["web1"]; w.Pending != 2 || w.Security != 1 || w.OldestSecurity == nil || !w.OldestSecurity.Equal(t0.Add(time.Minute)) || w.OS != "debian 12" || w.LastStatus != report.StatusOK {
		t.Fatalf("web1 = %+v", w)
	}
	if d := h["db1"]; d.LastSeen != nil || d.LastStatus != report.StatusUnreachable {
		t.Fatalf("db1 (never reached) = %+v", d)
	}
	st.Close()

	// Another run, then syncing twice: imported once.
	writeRun(t, dir, report.CmdScan, t0.Add(24*time.Hour), host{"db1", report.StatusOK, nil, true})
	st2, res := sync1(t, dir, db)
	if res.Rebuilt || res.Imported != 1 {
		t.Fatalf("second sync = %+v, want 1 run imported, no rebuild", res)
	}
	if _, res = sync1(t, dir, db); res.Imported != 0 {
		t.Fatalf("third sync imported %d runs again", res.Imported)
	}
	if d := hostsOf(t, st2)["db1"]; d.LastSeen == nil || !d.RebootRequired {
		t.Fatalf("db1 after its scan = %+v", d)
	}
	var n int
	if err := sqlDB(t, st2).QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("runs rows = %d (%v), want 2", n, err)
	}

	// The database removed: rebuilt from the journals, same estate.
	st2.Close()
	e.drop(t, dir, db)
	st3, res := sync1(t, dir, db)
	if !res.Rebuilt || res.Imported != 2 || hostsOf(t, st3)["web1"].Security != 1 {
		t.Fatalf("rebuild after removal = %+v, %+v", res, hostsOf(t, st3)["web1"])
	}
}

func TestAgeingFirstSeenSurvivesAndReofferedIsNewEntry(t *testing.T) {
	forEachEngine(t, testAgeingFirstSeenSurvivesAndReofferedIsNewEntry)
}

func testAgeingFirstSeenSurvivesAndReofferedIsNewEntry(t *testing.T, e engine) {
	dir, db := t.TempDir(), e.fresh(t)
	day := 24 * time.Hour
	writeRun(t, dir, report.CmdScan, t0, host{"web1", report.StatusOK, []patch.Update{sslSec, curl}, false})
	writeRun(t, dir, report.CmdScan, t0.Add(10*day), host{"web1", report.StatusOK, []patch.Update{sslSec, curl}, false})
	st, _ := sync1(t, dir, db)
	if w := hostsOf(t, st)["web1"]; !w.OldestSecurity.Equal(t0.Add(time.Minute)) {
		t.Fatalf("first seen after a second scan = %v, want the first scan's %v", w.OldestSecurity, t0.Add(time.Minute))
	}
	st.Close()
	// Patched: openssl installed; curl left pending.
	writeRun(t, dir, report.CmdPatch, t0.Add(11*day), host{"web1", report.StatusOK, []patch.Update{installed(sslSec), curl}, false})
	st, _ = sync1(t, dir, db)
	w := hostsOf(t, st)["web1"]
	if w.Security != 0 || w.Pending != 1 || w.OldestSecurity != nil || w.LastPatched == nil || !w.LastPatched.Equal(t0.Add(11*day+time.Minute)) {
		t.Fatalf("after the patch = %+v", w)
	}
	st.Close()
	// openssl offered again (a new version): a new entry, aged from now.
	writeRun(t, dir, report.CmdScan, t0.Add(20*day), host{"web1", report.StatusOK, []patch.Update{sslSec}, false})
	st, _ = sync1(t, dir, db)
	w = hostsOf(t, st)["web1"]
	if w.Security != 1 || w.Pending != 1 || !w.OldestSecurity.Equal(t0.Add(20*day+time.Minute)) {
		t.Fatalf("re-offered = %+v, want one pending security update first seen on day 20 (curl gone)", w)
	}
	var entries, closedInstalled, gone int
	sqlDB(t, st).QueryRow(`SELECT COUNT(*), COUNT(CASE WHEN closed_how='installed' THEN 1 END), COUNT(CASE WHEN closed_how='gone' THEN 1 END) FROM updates WHERE host='web1'`).Scan(&entries, &closedInstalled, &gone)
	if entries != 3 || closedInstalled != 1 || gone != 1 {
		t.Fatalf("update entries = %d (installed %d, gone %d), want 3 (openssl installed, curl gone, openssl again)", entries, closedInstalled, gone)
	}
}

func TestOlderSchemaIsMigratedAndRebuiltNewerIsRefused(t *testing.T) {
	forEachEngine(t, testOlderSchemaIsMigratedAndRebuiltNewerIsRefused)
}

func testOlderSchemaIsMigratedAndRebuiltNewerIsRefused(t *testing.T, e engine) {
	dir, db := t.TempDir(), e.fresh(t)
	writeRun(t, dir, report.CmdScan, t0, host{"web1", report.StatusOK, []patch.Update{sslSec}, false})
	// An older (version 1) database, with a host the journals do not hold
	// and web1 as version 1 knew it (no transport column).
	old, err := e.openAt(context.Background(), dir, db, sqliteDialect.migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB(t, old).Exec(`INSERT INTO hosts (name, last_run_id, last_run_at, last_status) VALUES ('ghost', 'x', 0, 'ok')`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	st, res := sync1(t, dir, db)
	if !res.Rebuilt {
		t.Fatal("a version 1 database was not rebuilt")
	}
	h := hostsOf(t, st)
	if h["web1"].Transport != "ssh" {
		t.Fatalf("after migration: %+v, want web1 from the journal with its version 2 column (transport)", h)
	}
	// A database of one state directory is rebuilt whole; a shared one
	// keeps what other state directories' journals put in it.
	if _, ok := h["ghost"]; ok == !e.shared {
		t.Fatalf("after migration: ghost kept = %v, want %v (shared database: %v)", ok, e.shared, e.shared)
	}
	var v int
	sqlDB(t, st).QueryRow(`SELECT version FROM schema_version`).Scan(&v)
	if v != sqliteDialect.current() {
		t.Fatalf("schema version = %d, want %d", v, sqliteDialect.current())
	}
	sqlDB(t, st).Exec(`UPDATE schema_version SET version = 99`)
	st.Close()
	_, err = OpenDB(context.Background(), dir, db)
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") || !strings.Contains(err.Error(), "upgrade patchrun") {
		t.Fatalf("newer schema: %v", err)
	}
}

func TestConcurrentWritersDoNotCorrupt(t *testing.T) {
	forEachEngine(t, testConcurrentWritersDoNotCorrupt)
}

func testConcurrentWritersDoNotCorrupt(t *testing.T, e engine) {
	dir, db := t.TempDir(), e.fresh(t)
	const n = 8
	for i := range n {
		writeRun(t, dir, report.CmdScan, t0.Add(time.Duration(i)*time.Hour),
			host{fmt.Sprintf("h%d", i), report.StatusOK, []patch.Update{sslSec}, false}, host{"shared", report.StatusOK, []patch.Update{curl}, false})
	}
	// n processes' worth of connections (separate *sql.DB) syncing at once.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			st, err := OpenDB(context.Background(), dir, db)
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			if _, err := Sync(context.Background(), st, dir, ""); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, _ := sync1(t, dir, db)
	sdb := sqlDB(t, st)
	var runs, shared, runHosts int
	sdb.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&runs)
	sdb.QueryRow(`SELECT COUNT(*) FROM updates WHERE host='shared'`).Scan(&shared)
	sdb.QueryRow(`SELECT COUNT(*) FROM run_hosts`).Scan(&runHosts)
	check := "ok"
	if db == "" {
		sdb.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	}
	if runs != n || runHosts != 2*n || shared != 1 || check != "ok" || len(hostsOf(t, st)) != n+1 {
		t.Fatalf("runs=%d run_hosts=%d shared curl entries=%d integrity=%s hosts=%d; want %d, %d, 1, ok, %d", runs, runHosts, shared, check, len(hostsOf(t, st)), n, 2*n, n+1)
	}
}

func TestHostsFiltersAndFormats(t *testing.T) {
	now := t0.Add(30 * 24 * time.Hour)
	at := func(d int) *time.Time { x := now.Add(-time.Duration(d) * 24 * time.Hour); return &x }
	hosts := []Host{
		{Name: "web1", OS: "debian 12", LastSeen: at(1), Pending: 3, Security: 2, OldestSecurity: at(20), LastStatus: "ok"},
		{Name: "web2", OS: "debian 12", LastSeen: at(10), LastPatched: at(10), LastStatus: "ok"},
		{Name: "db1", OS: "rocky \x1b[31m9", LastSeen: at(2), Pending: 1, Security: 1, OldestSecurity: at(3), RebootRequired: true, LastStatus: "failed"},
		{Name: "old", LastStatus: "unreachable"},
	}
	names := func(f Filter) string {
		sel, err := f.Select(hosts, now)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, h := range sel {
			s = append(s, h.Name)
		}
		return strings.Join(s, ",")
	}
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "web1,web2,db1,old"},
		{Filter{Limit: "web*"}, "web1,web2"},
		{Filter{Limit: "all,!web2"}, "web1,db1,old"},
		{Filter{Stale: 7 * 24 * time.Hour}, "web2,old"},
		{Filter{MissingSecurity: true}, "web1,db1"},
		{Filter{OlderThan: 14 * 24 * time.Hour}, "web1"},
	} {
		if got := names(c.f); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
	if _, err := (Filter{Limit: "nope*"}).Select(hosts, now); err == nil || !strings.Contains(err.Error(), "nope*") {
		t.Errorf("a limit matching nothing: %v", err)
	}
	var b bytes.Buffer
	WriteText(&b, hosts, now)
	text := b.String()
	for _, want := range []string{"HOST", "web1  debian 12", "1d ago", "3 (2)", "20d", "never", "yes"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b") {
		t.Errorf("remote text reached the terminal unescaped:\n%q", text)
	}
	b.Reset()
	WriteCSV(&b, hosts, now)
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 5 || recs[0][0] != "name" || recs[1][9] != "20" || recs[3][2] != "rocky \x1b[31m9" {
		t.Errorf("csv = %q (%v)", recs, err)
	}
	for _, c := range []struct {
		in   string
		want time.Duration
	}{{"7d", 7 * 24 * time.Hour}, {"36h", 36 * time.Hour}} {
		if d, err := ParseAge(c.in); err != nil || d != c.want {
			t.Errorf("ParseAge(%s) = %v, %v", c.in, d, err)
		}
	}
	if _, err := ParseAge("7x"); err == nil || !strings.Contains(err.Error(), "7d") {
		t.Errorf("ParseAge(7x): %v", err)
	}
}

func TestVersion2IsMigratedAndRebuiltWithTimelinesAndRunUpdates(t *testing.T) {
	forEachEngine(t, testVersion2IsMigratedAndRebuiltWithTimelinesAndRunUpdates)
}

func testVersion2IsMigratedAndRebuiltWithTimelinesAndRunUpdates(t *testing.T, e engine) {
	dir, db := t.TempDir(), e.fresh(t)
	id := writeRun(t, dir, report.CmdPatch, t0, host{"web1", report.StatusOK, []patch.Update{sslSecInstalled()}, true})
	old, err := e.openAt(context.Background(), dir, db, sqliteDialect.migrations[:2])
	if err != nil {
		t.Fatal(err)
	}
	// A version 2 database that has imported the run (as version 2 did).
	if _, err := sqlDB(t, old).Exec(`INSERT INTO runs (run_id, command, dry_run, started_at, state, hosts, ok, failed, unreachable, skipped)
		VALUES ('` + id + `', 'patch', 0, 0, 'finished', 1, 1, 0, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	st, res := sync1(t, dir, db)
	if !res.Rebuilt {
		t.Fatal("a version 2 database was not rebuilt")
	}
	hs, err := st.RunHosts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || len(hs[0].Updates) != 1 || !hs[0].Updates[0].Installed || hs[0].Updates[0].Name != sslSec.Name {
		t.Fatalf("run hosts after migration: %+v, want web1 with its installed update", hs)
	}
	if len(hs[0].Timeline) != 2 || hs[0].Timeline[0].Phase != report.PhaseConnecting || hs[0].Timeline[1].End.IsZero() {
		t.Fatalf("timeline %+v, want connecting then scanning from the journal's events", hs[0].Timeline)
	}
}

func sslSecInstalled() patch.Update {
	u := sslSec
	u.Installed = true
	return u
}
