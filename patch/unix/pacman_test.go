package unix

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
)

// testdata/pacman is real pacman 6.0.2 output (capture-pacman.sh).
func TestParsePacmanQueryUpgrades(t *testing.T) {
	got := parsePacmanQueryUpgrades(capturedFile(t, "pacman/query-upgrades.stdout") + "glibc 2.40+r16-1 -> 2.40+r66-1 [ignored]\n")
	want := []patch.Update{
		{Name: "curl", Current: "8.11.0-1", Available: "8.11.1-2"},
		{Name: "linux", Current: "6.12.1.arch1-1", Available: "6.12.4.arch1-1", RebootRequired: true},
		{Name: "openssl", Current: "3.4.0-1", Available: "3.4.1-1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestPacmanLogTime(t *testing.T) {
	lines := nonEmptyLines(capturedFile(t, "pacman/log.stdout"))
	got, ok := parsePacmanLogTime(lines[0], time.UTC)
	if !ok || got.Year() < 2026 {
		t.Fatalf("%q: %v %v", lines[0], got, ok)
	}
	old, ok := parsePacmanLogTime("[2019-03-01 14:02] [ALPM] upgraded linux (5.0.arch1-1 -> 5.0.1.arch1-1)", parseTZ("+0100"))
	if !ok || !old.Equal(time.Date(2019, 3, 1, 13, 2, 0, 0, time.UTC)) {
		t.Fatalf("old format: %v %v", old, ok)
	}
	f := parseHostFacts(map[string]string{SectionPacmanLast: "[2026-12-06T02:45:23+0100] [ALPM] upgraded openssl (3.4.0-1 -> 3.4.1-1)"})
	if want := time.Date(2026, 12, 6, 1, 45, 23, 0, time.UTC); !f.lastUpdated.Equal(want) {
		t.Fatalf("facts last updated %v, want %v", f.lastUpdated, want)
	}
	if f := parseHostFacts(map[string]string{SectionApkLast: "1733220932"}); !f.lastUpdated.Equal(time.Unix(1733220932, 0)) {
		t.Fatalf("apk last updated %v", f.lastUpdated)
	}
}

func TestPacmanScanInstall(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	b := detectWith(t, f, osArch, "/usr/bin/pacman", Options{})
	f.on(CmdPacmanRefresh, captured(t, "pacman/sync"))
	if err := b.Refresh(ctx, f); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(CmdPacmanRefresh, "--dbpath "+PacmanScanDB) || strings.Contains(CmdPacmanRefresh, "-Syu") {
		t.Fatalf("refresh must sync only the scan database: %s", CmdPacmanRefresh)
	}
	f.on(CmdPacmanScan, captured(t, "pacman/query-upgrades"), captured(t, "pacman/query-upgrades"),
		captured(t, "pacman/query-upgrades"), captured(t, "pacman/query-upgrades-none"))
	ups, err := b.Scan(ctx, f)
	if err != nil || len(ups) != 3 {
		t.Fatalf("scan %v %v", ups, err)
	}

	// A partial selection is refused: nothing is sent.
	res, err := b.Install(ctx, f, ups[:1], false)
	if err != nil {
		t.Fatal(err)
	}
	if _, failed := installedNames(res); len(failed) != 1 || !strings.Contains(failed[0], "only full upgrades") {
		t.Fatalf("partial install: %q", failed)
	}
	if f.count(CmdPacmanUpgradeAll) != 0 {
		t.Fatal("a partial selection ran pacman -Syu")
	}

	// Every pending update, chosen one by one (a saved plan): -Syu.
	f.on(CmdPacmanUpgradeAll, captured(t, "pacman/upgrade"))
	res, err = b.Install(ctx, f, ups, false)
	if err != nil {
		t.Fatal(err)
	}
	if inst, failed := installedNames(res); len(inst) != 3 || failed != nil {
		t.Fatalf("installed %v failed %v", inst, failed)
	}
	if f.count(CmdPacmanUpgradeAll) != 1 {
		t.Fatalf("sent %q", f.sent)
	}
}

func TestPacmanScanErrors(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	b := detectWith(t, f, osArch, "/usr/bin/pacman", Options{})
	f.on(CmdPacmanScan, exit(1, "", "error: failed to initialize alpm library:\n(root: /, dbpath: /var/tmp/patchrun-pacman-db/)\ncould not find or read directory\n"))
	if _, err := b.Scan(ctx, f); err == nil || !strings.Contains(err.Error(), "--no-refresh") {
		t.Fatalf("missing scan database: %v", err)
	}
}
