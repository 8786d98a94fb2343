// Package estatetest builds a fixed history for report tests: four
// deterministic runs of four hosts (journals written with the journal
// package, imported into a history database), so every report format
// renders the same figures from it on every machine.
package estatetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// T0 is when the fixture's first run starts.
var T0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// The fixture's run ids, oldest first: a scan of every host (day 0), a
// patch (day 20), a scan of win1 only (day 35), a scan of every host
// (day 45, the newest).
const (
	RunScan1 = "20261101T080000Z-0001"
	RunPatch = "20261121T080000Z-0002"
	RunScan2 = "20261206T080000Z-0003"
	RunLast  = "20261216T080000Z-0004"
)

// What the fixture's figures are, as of the newest run (RunLast), for
// tests that assert them:
//
//   - 4 hosts: web1, web2 (debian 12, group web), db1 (rocky 9.3, group
//     db), win1 (Windows Server 2022, group windows).
//   - Compliant 2 (web1, web2): 50%. Pending security updates 4: db1's
//     openssl-libs (45 days, band >30), win1's KB5031000 (25 days, 15-30),
//     KB5032000 (10 days, 8-14), KB5033000 (0 days, 0-7).
//   - Needing a reboot: win1. Failures: db1 (unreachable).
//   - Changed since the previous run: db1 newly failing (ok in the patch
//     run); web2 newly compliant (curl was pending after the failed
//     patch).
const (
	Hosts             = 4
	Compliant         = 2
	PendingSecurity   = 4
	CompliancePercent = 50.0
)

// Fixture writes the fixture's journals into a new state directory,
// imports them into its history database and returns both; the store
// is closed when the test ends.
func Fixture(t testing.TB) (stateDir string, st history.Store) {
	t.Helper()
	dir := t.TempDir()
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := history.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := history.Sync(ctx, st, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) > 0 {
		t.Fatal(res.Skipped[0])
	}
	return dir, st
}

var groups = map[string][]string{"web1": {"web"}, "web2": {"web"}, "db1": {"db"}, "win1": {"windows"}}

type fixHost struct {
	name, os, pm string
	status       report.Status
	errKind, err string
	phase        report.Phase
	ups          []report.Update
	reboot       bool // needs a reboot after the run
	rebooted     bool
	batch, wave  int
	output       string
	phases       []report.Phase
}

func deb(name string) fixHost {
	return fixHost{name: name, os: "debian 12", pm: "apt", status: report.StatusOK}
}
func rock(name string) fixHost {
	return fixHost{name: name, os: "rocky 9.3", pm: "dnf", status: report.StatusOK}
}
func win(name string) fixHost {
	return fixHost{name: name, os: "Windows Server 2022", pm: "windows-update", status: report.StatusOK}
}

func up(name, cur, avail string, sec bool, sev string, installed bool, cves ...string) report.Update {
	return report.Update{Update: patch.Update{Name: name, Current: cur, Available: avail, Arch: "amd64", Security: sec,
		Severity: sev, CVEs: cves, Installed: installed}, Selected: installed}
}

func kb(kbid, title string, sev string, installed bool) report.Update {
	return report.Update{Update: patch.Update{Name: title, KB: kbid, Security: true, Severity: sev, Installed: installed}, Selected: installed}
}

var scanPhases = []report.Phase{report.PhaseConnecting, report.PhaseFacts, report.PhaseScanning}

// Write writes the fixture's four journals into stateDir.
func Write(stateDir string) error {
	day := func(n int) time.Time { return T0.Add(time.Duration(n) * 24 * time.Hour) }
	unreachable := func(h fixHost) fixHost {
		h.os, h.pm, h.status, h.errKind, h.phase = "", "", report.StatusUnreachable, "unreachable", report.PhaseConnecting
		h.err = "dial tcp 10.0.0.40:5986: connect: no route to host"
		h.phases = []report.Phase{report.PhaseConnecting}
		return h
	}
	// Day 0: a scan; win1 is unreachable.
	w1, w2, d1 := deb("web1"), deb("web2"), rock("db1")
	w1.ups = []report.Update{up("openssl", "3.0.11-1", "3.0.13-1", true, "critical", false, "CVE-2024-0727"),
		up("curl", "7.88.1-10", "7.88.1-10+deb12u5", true, "important", false, "CVE-2023-38545")}
	w1.ups[0].KnownExploited = true
	w2.ups = []report.Update{up("curl", "7.88.1-10", "7.88.1-10+deb12u5", true, "important", false, "CVE-2023-38545")}
	d1.ups = []report.Update{up("kernel", "5.14.0-362", "5.14.0-427", true, "important", false, "CVE-2024-1086"),
		up("openssl-libs", "3.0.7-24", "3.0.7-27", true, "moderate", false, "CVE-2023-5678"),
		up("tzdata", "2023c-1", "2024a-1", false, "", false)}
	if err := writeRun(stateDir, RunScan1, report.CmdScan, day(0), "", w1, w2, d1, unreachable(win("win1"))); err != nil {
		return err
	}
	// Day 20: a patch. web1 installs both and reboots (batch 1, wave 1);
	// web2 fails its install; db1 installs its kernel (openssl-libs
	// excluded) and is left needing a reboot; win1 installs one KB.
	w1, w2, d1, wn := deb("web1"), deb("web2"), rock("db1"), win("win1")
	w1.ups = []report.Update{up("openssl", "3.0.11-1", "3.0.13-1", true, "critical", true, "CVE-2024-0727"),
		up("curl", "7.88.1-10", "7.88.1-10+deb12u5", true, "important", true, "CVE-2023-38545")}
	w1.ups[0].KnownExploited = true
	w1.rebooted, w1.batch, w1.wave = true, 1, 1
	w1.phases = []report.Phase{report.PhaseConnecting, report.PhaseFacts, report.PhaseScanning, report.PhaseInstalling,
		report.PhaseAwaitBatch, report.PhaseRebooting, report.PhaseWaitingDown, report.PhaseWaitingUp, report.PhaseVerifying}
	w2.ups = []report.Update{up("curl", "7.88.1-10", "7.88.1-10+deb12u5", true, "important", false, "CVE-2023-38545")}
	w2.ups[0].Selected, w2.ups[0].Error = true, "dpkg returned an error code (1)"
	w2.status, w2.errKind, w2.phase, w2.wave = report.StatusFailed, "install", report.PhaseInstalling, 1
	w2.err = "install: apt-get exited 100"
	w2.output = "E: Sub-process /usr/bin/dpkg returned an error code (1)\ndpkg: error processing package curl (--configure)"
	w2.phases = []report.Phase{report.PhaseConnecting, report.PhaseFacts, report.PhaseScanning, report.PhaseInstalling}
	d1.ups = []report.Update{up("kernel", "5.14.0-362", "5.14.0-427", true, "important", true, "CVE-2024-1086"),
		up("openssl-libs", "3.0.7-24", "3.0.7-27", true, "moderate", false, "CVE-2023-5678"),
		up("tzdata", "2023c-1", "2024a-1", false, "", false)}
	d1.reboot, d1.wave = true, 2
	d1.phases = []report.Phase{report.PhaseConnecting, report.PhaseFacts, report.PhaseScanning, report.PhaseInstalling}
	wn.ups = []report.Update{kb("KB5030211", "2023-09 Cumulative Update for Windows Server 2022", "critical", true),
		kb("KB5031000", "2023-10 .NET Framework Security Update", "important", false)}
	wn.wave = 2
	wn.phases = []report.Phase{report.PhaseConnecting, report.PhaseFacts, report.PhaseScanning, report.PhaseInstalling}
	if err := writeRun(stateDir, RunPatch, report.CmdPatch, day(20), report.HaltFailures, w1, w2, d1, wn); err != nil {
		return err
	}
	// Day 35: a scan of win1 finds one more KB.
	wn = win("win1")
	wn.ups = []report.Update{kb("KB5031000", "2023-10 .NET Framework Security Update", "important", false),
		kb("KB5032000", "2023-11 Cumulative Update for Windows Server 2022", "critical", false)}
	if err := writeRun(stateDir, RunScan2, report.CmdScan, day(35), "", wn); err != nil {
		return err
	}
	// Day 45: web1 clean; web2's curl was installed by someone else
	// (gone); db1 unreachable; win1 one more KB and a pending reboot.
	w1, w2, wn = deb("web1"), deb("web2"), win("win1")
	wn.ups = []report.Update{kb("KB5031000", "2023-10 .NET Framework Security Update", "important", false),
		kb("KB5032000", "2023-11 Cumulative Update for Windows Server 2022", "critical", false),
		kb("KB5033000", "2023-12 Cumulative Update for Windows Server 2022", "critical", false)}
	wn.reboot = true
	d1 = unreachable(rock("db1"))
	d1.err = "dial tcp 10.0.0.30:22: i/o timeout"
	return writeRun(stateDir, RunLast, report.CmdScan, day(45), "", w1, w2, d1, wn)
}

// writeRun writes one finished run: every host's phases one minute
// apart (in host order, a minute after the previous host started), its
// result, and the end record.
func writeRun(stateDir, id string, cmd report.Command, at time.Time, haltedBy string, hosts ...fixHost) error {
	names := make([]string, len(hosts))
	runGroups := map[string][]string{}
	for i, h := range hosts {
		names[i] = h.name
		runGroups[h.name] = groups[h.name]
	}
	w, err := journal.Create(stateDir, journal.Header{RunID: id, Command: cmd, Hosts: names, Groups: runGroups,
		StartedAt: at, Inventory: "/etc/patchrun/hosts.yaml"})
	if err != nil {
		return err
	}
	defer w.Close()
	end := at
	for i, h := range hosts {
		t := at.Add(time.Duration(i) * time.Minute)
		start := t
		phases := h.phases
		if phases == nil {
			phases = scanPhases
		}
		for _, p := range phases {
			if p == report.PhaseAwaitBatch {
				if err := w.Event(event{Time: t, Event: "batch.start", Batch: h.batch, Wave: h.wave, Detail: h.name}); err != nil {
					return err
				}
			}
			if err := w.Event(event{Time: t, Event: "host.phase", Host: h.name, Phase: string(p), Wave: h.wave}); err != nil {
				return err
			}
			t = t.Add(time.Minute)
		}
		ev := event{Time: t, Event: "host.done", Host: h.name, Phase: "done", Status: string(h.status), Error: h.err, Batch: h.batch}
		if err := w.Event(ev); err != nil {
			return err
		}
		r := report.HostResult{Name: h.name, Address: h.name + ".example.net", Transport: "ssh", OS: h.os, PackageManager: h.pm,
			Status: h.status, Error: h.err, ErrorKind: h.errKind, Phase: h.phase, Updates: h.ups,
			RebootRequired: h.reboot || h.rebooted, Rebooted: h.rebooted, RebootBatch: h.batch, StartedAt: start, FinishedAt: t}
		if h.pm == "windows-update" {
			r.Transport = "winrm"
		}
		if r.Updates == nil {
			r.Updates = []report.Update{}
		}
		if h.output != "" {
			r.Output = []report.StepOutput{{Step: "install round 1: 1 update", Command: "apt-get install -y curl", ExitCode: 100, Output: h.output}}
		}
		if err := w.Result(r); err != nil {
			return err
		}
		if t.After(end) {
			end = t
		}
	}
	if err := w.End(journal.End{State: journal.StateFinished, ExitCode: exitOf(hosts), Time: end.Add(time.Minute), HaltedBy: haltedBy}); err != nil {
		return fmt.Errorf("run %s: %w", id, err)
	}
	return nil
}

func exitOf(hosts []fixHost) int {
	for _, h := range hosts {
		if h.status != report.StatusOK {
			return 2
		}
	}
	return 0
}

// event is an --events line as the journal holds it.
type event struct {
	Time   time.Time `json:"time"`
	Event  string    `json:"event"`
	Host   string    `json:"host,omitempty"`
	Phase  string    `json:"phase,omitempty"`
	Status string    `json:"status,omitempty"`
	Batch  int       `json:"batch,omitempty"`
	Wave   int       `json:"wave,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Error  string    `json:"error,omitempty"`
}
