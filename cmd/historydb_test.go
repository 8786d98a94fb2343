package cmd

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/internal/pgtest"
	"github.com/patchrun/patchrun/report"
)

// Two CI runners, each with its own state directory, scan their shard of
// the hosts into one PostgreSQL database (one with --db, one with
// PATCHRUN_DB); the estate shown from a third is every host. The password in the URL is in
// no output and no journal.
func TestScansFromTwoStateDirsShareOnePostgresEstate(t *testing.T) {
	db := pgtest.Fresh(t)
	u, _ := url.Parse(db)
	password, _ := u.User.Password()
	_, inv := startFleet(t, fleet.Config{Count: 5})
	dirA, dirB := t.TempDir(), t.TempDir()
	a := runCLI(t, nil, "scan", "-i", inv, "--shard", "1/2", "-o", "json", "--state-dir", dirA, "--db", db)
	md := filepath.Join(t.TempDir(), "run.md")
	b := runCLI(t, map[string]string{history.EnvDB: db}, "scan", "-i", inv, "--shard", "2/2", "-o", "json", "--state-dir", dirB, "--report", md)
	for _, r := range []cliResult{a, b} {
		if r.code != ExitOK || strings.Contains(r.stderr, "warning") {
			t.Fatalf("scan into PostgreSQL: exit %d\n%s", r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dirA, history.FileName)); !os.IsNotExist(err) {
		t.Errorf("a scan with --db also wrote patchrun.db (%v)", err)
	}
	h := runCLI(t, nil, "hosts", "--state-dir", t.TempDir(), "--db", db, "-o", "json")
	var hosts []history.Host
	if err := json.Unmarshal([]byte(h.stdout), &hosts); h.code != ExitOK || err != nil {
		t.Fatalf("hosts --db: exit %d, %v\n%s", h.code, err, h.stderr)
	}
	if na, nb := len(decodeReport(t, a).Hosts), len(decodeReport(t, b).Hosts); len(hosts) != 5 || na+nb != 5 {
		t.Fatalf("hosts --db lists %d hosts, the two shards' scans had %d and %d of the 5", len(hosts), na, nb)
	}
	// Reports read the shared database too: as the run ends (--report),
	// and from any machine (report --db).
	runB := decodeReport(t, b).RunID
	if data, err := os.ReadFile(md); err != nil || !strings.Contains(string(data), runB) {
		t.Errorf("--report %s with PATCHRUN_DB: %v\n%s", md, err, data)
	}
	rep := runCLI(t, nil, "report", "--last", "-o", "md", "--state-dir", t.TempDir(), "--db", db)
	if rep.code != ExitOK || !strings.Contains(rep.stdout, runB) {
		t.Errorf("report --last --db: exit %d, want the newest run %s:\n%s%s", rep.code, runB, rep.stdout, rep.stderr)
	}
	if password == "" {
		return
	}
	for _, r := range []cliResult{a, b, h, rep} {
		if strings.Contains(r.stdout+r.stderr, password) {
			t.Errorf("the database password reached the output:\n%s", r.stderr)
		}
	}
	for _, dir := range []string{dirA, dirB} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), password) {
					t.Errorf("%s holds the database password", p)
				}
			}
			return nil
		})
	}
}

func TestBadOrUnreachableDBNamesItWithoutItsPassword(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 1})
	dir := t.TempDir()
	// Not a postgres:// URL: refused before any host is contacted.
	r := runCLI(t, nil, "scan", "-i", inv, "--state-dir", dir, "--db", "mysql://bob:Secret-1@db/estate")
	if r.code != 1 || !strings.Contains(r.stderr, "--db") || strings.Contains(r.stderr, "Secret") {
		t.Errorf("scan --db mysql://…: exit %d, %s", r.code, r.stderr)
	}
	r = runCLI(t, map[string]string{history.EnvDB: "db.example.com password=Secret-2"}, "hosts", "--state-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, history.EnvDB) || strings.Contains(r.stderr, "Secret") {
		t.Errorf("hosts with a bad %s: exit %d, %s", history.EnvDB, r.code, r.stderr)
	}
	// Nothing listens on port 1: the run keeps its result, with a warning
	// naming the database without its password; hosts fails.
	down := "postgres://alice:Secret-3@127.0.0.1:1/estate?sslmode=disable"
	r = runCLI(t, nil, "scan", "-i", inv, "--state-dir", dir, "--db", down)
	if r.code != ExitOK || !strings.Contains(r.stderr, "warning: history database not updated") ||
		!strings.Contains(r.stderr, "postgres://alice@127.0.0.1:1/estate") || strings.Contains(r.stderr, "Secret") {
		t.Errorf("scan with PostgreSQL down: exit %d, %s", r.code, r.stderr)
	}
	r = runCLI(t, map[string]string{history.EnvDB: down}, "hosts", "--state-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "postgres://alice@127.0.0.1:1/estate") || strings.Contains(r.stderr, "Secret") {
		t.Errorf("hosts with PostgreSQL down: exit %d, %s", r.code, r.stderr)
	}
	// The journal keeps --db without the password.
	runs := runCLI(t, nil, "runs", "--state-dir", dir, "-o", "json")
	if strings.Contains(runs.stdout, "Secret") {
		t.Errorf("patchrun runs shows the database password:\n%s", runs.stdout)
	}
}

// A patch into PostgreSQL killed mid-run, resumed with PATCHRUN_DB (the
// journal keeps --db without its password): the resumed run is what the
// shared estate shows, and the password is in no output.
func TestResumedRunIsImportedIntoPostgres(t *testing.T) {
	db := pgtest.Fresh(t)
	u, _ := url.Parse(db)
	password, _ := u.User.Password()
	_, inv := startFleet(t, fleet.Config{Count: 4, DownTime: 500 * time.Millisecond})
	stateDir := t.TempDir()
	killedPatch(t, inv, stateDir, batchStart(2), "--batch", "2", "--reboot-timeout", "30s", "--db", db)
	r := runCLI(t, map[string]string{history.EnvDB: db}, "resume", "--state-dir", stateDir, "-o", "json", "--no-progress")
	if r.code != ExitOK || strings.Contains(r.stderr, "warning") {
		t.Fatalf("resume exit %d:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	h := runCLI(t, nil, "hosts", "--state-dir", t.TempDir(), "--db", db, "-o", "json")
	var hosts []history.Host
	if err := json.Unmarshal([]byte(h.stdout), &hosts); h.code != ExitOK || err != nil || len(hosts) != 4 {
		t.Fatalf("hosts --db after the resume: exit %d, %v, %d hosts\n%s", h.code, err, len(hosts), h.stderr)
	}
	for _, x := range hosts {
		if x.LastRunID != rep.RunID || x.LastStatus != report.StatusOK || x.LastPatched == nil {
			t.Errorf("%s: last run %s %s, last patched %v; want the resumed run %s, ok, patched", x.Name, x.LastRunID, x.LastStatus, x.LastPatched, rep.RunID)
		}
	}
	if password != "" && strings.Contains(r.stderr+h.stderr, password) {
		t.Errorf("the database password reached the output:\n%s", r.stderr)
	}
}

// The demo's simulated hosts never reach a team's shared estate:
// PATCHRUN_DB is ignored, the demo records into its own state directory.
func TestDemoIgnoresPATCHRUN_DB(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, map[string]string{history.EnvDB: "postgres://alice:Secret-5@127.0.0.1:1/estate?sslmode=disable"},
		"demo", "--hosts", "2", "--windows", "0", "--time-scale", "0.05", "--state-dir", dir, "-o", "json")
	if r.code != ExitOK || strings.Contains(r.stderr, "warning") {
		t.Fatalf("demo with PATCHRUN_DB set: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, history.FileName)); err != nil {
		t.Fatalf("the demo did not record into its own patchrun.db: %v", err)
	}
}
