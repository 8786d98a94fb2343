package cmd

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

func TestScanThenHostsShowsTheEstateFromTheHistory(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 4})
	dir := t.TempDir()
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--state-dir", dir)
	if r.code != ExitOK {
		t.Fatalf("scan exit %d:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	if _, err := os.Stat(filepath.Join(dir, history.FileName)); err != nil {
		t.Fatalf("the scan did not fill the history database: %v", err)
	}
	h := runCLI(t, nil, "hosts", "--state-dir", dir, "-o", "json")
	if h.code != ExitOK {
		t.Fatalf("hosts exit %d:\n%s", h.code, h.stderr)
	}
	var hosts []history.Host
	if err := json.Unmarshal([]byte(h.stdout), &hosts); err != nil {
		t.Fatalf("hosts -o json: %v\n%s", err, h.stdout)
	}
	if len(hosts) != len(rep.Hosts) {
		t.Fatalf("hosts lists %d hosts, the scan had %d", len(hosts), len(rep.Hosts))
	}
	for _, got := range hosts {
		want := hostByName(t, rep, got.Name)
		sec := 0
		for _, u := range want.Updates {
			if u.Security {
				sec++
			}
		}
		if got.Pending != len(want.Updates) || got.Security != sec || got.OS != want.OS || got.LastSeen == nil || got.LastStatus != report.StatusOK {
			t.Errorf("%s: %+v; the scan found %d updates (%d security) on %s", got.Name, got, len(want.Updates), sec, want.OS)
		}
		if sec > 0 && got.OldestSecurity == nil {
			t.Errorf("%s: pending security updates with no first-seen time", got.Name)
		}
	}
	text := runCLI(t, nil, "hosts", "--state-dir", dir, "-l", hosts[0].Name)
	if text.code != ExitOK || !strings.Contains(text.stdout, "LAST SEEN") || !strings.Contains(text.stdout, hosts[0].Name) || strings.Contains(text.stdout, hosts[1].Name) {
		t.Errorf("hosts -l %s:\n%s%s", hosts[0].Name, text.stdout, text.stderr)
	}
	c := runCLI(t, nil, "hosts", "--state-dir", dir, "-o", "csv", "--stale", "7d")
	recs, err := csv.NewReader(strings.NewReader(c.stdout)).ReadAll()
	if c.code != ExitOK || err != nil || len(recs) != 1 || recs[0][0] != "name" {
		t.Errorf("hosts --stale 7d -o csv (all seen just now): %q %v %s", recs, err, c.stderr)
	}
	bad := runCLI(t, nil, "hosts", "--state-dir", dir, "--older-than", "two weeks")
	if bad.code != 1 || !strings.Contains(bad.stderr, "--older-than") {
		t.Errorf("bad --older-than: exit %d, %s", bad.code, bad.stderr)
	}
}

func TestNoHistoryAndABrokenDatabaseDoNotFailTheRun(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 2})
	dir := t.TempDir()
	r := runCLI(t, nil, "scan", "-i", inv, "--state-dir", dir, "--no-history")
	if r.code != ExitOK {
		t.Fatalf("scan --no-history exit %d:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, history.FileName)); !os.IsNotExist(err) {
		t.Fatalf("--no-history wrote the history database (%v)", err)
	}
	// A database that cannot be opened: the run still succeeds, with a warning.
	os.WriteFile(filepath.Join(dir, history.FileName), []byte("not a database, just text long enough to be read as a header"), 0o600)
	r = runCLI(t, nil, "scan", "-i", inv, "--state-dir", dir)
	if r.code != ExitOK || !strings.Contains(r.stderr, "warning: history database not updated") {
		t.Fatalf("scan with a broken database: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
