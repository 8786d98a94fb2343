package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

func TestTextShowsBootIDChangeAndErrors(t *testing.T) {
	r := report.Report{
		Command: report.CmdPatch,
		Hosts: []report.HostResult{
			{Name: "web1", Status: report.StatusOK, OS: "debian 12",
				Facts:    &report.Facts{Arch: "x86_64", UptimeSeconds: 7200, Addresses: []string{"192.0.2.5/24"}},
				Updates:  []report.Update{{Update: patch.Update{Name: "openssl", Security: true, Installed: true}}, {Update: patch.Update{Name: "curl", Installed: true}}},
				Rebooted: true, RebootBatch: 2, BootIDBefore: "11111111-aaaa", BootIDAfter: "22222222-bbbb"},
			{Name: "win1", Status: report.StatusOK, Rebooted: true,
				BootIDBefore: "2026-11-19T17:33:04.6640580Z", BootIDAfter: "2026-11-22T17:33:12.0065627Z"},
			{Name: "web2", Status: report.StatusFailed, Error: "reboot: host did not come back within 10m0s\nlast error: refused"},
		},
		Summary: report.Summary{Hosts: 2, OK: 1, Failed: 1, UpdatesFound: 2, UpdatesInstalled: 2, Rebooted: 1},
	}
	var out bytes.Buffer
	if err := writeText(&out, r, layout{wide: true}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"11111111-aaaa→22222222-bbbb",                               // the proof of the reboot
		"2026-11-19T17:33:04.6640580Z→2026-11-22T17:33:12.0065627Z", // Windows' LastBootUpTime
		"reboot: host did not come back within 10m0s …",             // multi-line error kept on one row
		"2 hosts: 1 ok, 1 failed, 0 unreachable, 0 skipped; 2 updates found, 2 installed; 1 rebooted",
		"ARCH", "x86_64", "2h0m", "192.0.2.5/24", // -o wide adds the facts
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "web2 ") && strings.Contains(line, "last error") {
			t.Errorf("second error line leaked into the table row: %q", line)
		}
	}
	// The default table keeps to its columns; only -o wide adds the facts.
	var narrow bytes.Buffer
	if err := writeText(&narrow, r, layout{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(narrow.String(), "ARCH") || strings.Contains(narrow.String(), "192.0.2.5") {
		t.Errorf("facts columns in the default table:\n%s", narrow.String())
	}
	// The whole error is still shown, under the table.
	if !strings.Contains(text, "web2 failed: reboot: host did not come back within 10m0s\nlast error: refused") {
		t.Errorf("full error of a failed host missing below the table:\n%s", text)
	}
}

func TestDryRunListsWhatWouldBeInstalled(t *testing.T) {
	r := report.Report{
		Command: report.CmdPatch, DryRun: true,
		Hosts: []report.HostResult{{
			Name: "web1", Status: report.StatusOK,
			Updates:      []report.Update{{Update: patch.Update{Name: "openssl", Current: "3.0.11-1", Available: "3.0.13-1", Security: true}}, {Update: patch.Update{Name: "curl", Current: "7.88.1-10", Available: "7.88.1-11"}}},
			WouldInstall: []string{"openssl"}, WouldReboot: true,
		}},
		Summary: report.Summary{Hosts: 1, OK: 1, UpdatesFound: 2},
	}
	var out bytes.Buffer
	if err := writeText(&out, r, layout{}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "openssl  3.0.11-1 → 3.0.13-1  [would install, security]") {
		t.Errorf("dry run does not mark the selected update:\n%s", text)
	}
	if strings.Contains(text, "curl  7.88.1-10 → 7.88.1-11  [would install") {
		t.Errorf("dry run marks an unselected update:\n%s", text)
	}
	if !strings.Contains(text, "would reboot") || !strings.Contains(text, "1 of 2 updates would be installed, 1 hosts would reboot; nothing changed") {
		t.Errorf("dry run output should say which hosts would reboot and that nothing changed:\n%s", text)
	}
}

func TestUnscannedHostsShowNoCounts(t *testing.T) {
	r := report.Report{
		Command: report.CmdScan,
		Hosts: []report.HostResult{
			{Name: "gone", Status: report.StatusUnreachable, Phase: report.PhaseConnecting, Error: "connect: refused"},
			{Name: "clean", Status: report.StatusOK, OS: "debian 12"},
			{Name: "drained", Status: report.StatusFailed, Phase: report.PhaseHooks, ErrorKind: "hook", OS: "debian 12"},
		},
	}
	var out bytes.Buffer
	if err := writeText(&out, r, layout{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(strings.Join(strings.Fields(lines[1]), " "), "gone unreachable - - -") {
		t.Errorf("an unscanned host must not show 0 updates (reads as clean): %q", lines[1])
	}
	if !strings.HasPrefix(strings.Join(strings.Fields(lines[2]), " "), "clean ok debian 12 0 0") {
		t.Errorf("a scanned clean host shows 0 updates: %q", lines[2])
	}
	// A host that failed in a hook or its health check was scanned first.
	if !strings.HasPrefix(strings.Join(strings.Fields(lines[3]), " "), "drained failed debian 12 0 0") {
		t.Errorf("a host failed in its pre hook after a clean scan shows 0 updates: %q", lines[3])
	}
}

func TestRebootDryRunSaysNothingChanged(t *testing.T) {
	r := report.Report{Command: report.CmdReboot, DryRun: true,
		Hosts:   []report.HostResult{{Name: "a", Status: report.StatusOK, WouldReboot: true}, {Name: "b", Status: report.StatusOK}},
		Summary: report.Summary{Hosts: 2, OK: 2}}
	var out bytes.Buffer
	if err := writeText(&out, r, layout{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run: 1 hosts would reboot; nothing changed") {
		t.Errorf("reboot --dry-run summary reads like a real run:\n%s", out.String())
	}
}

func TestPendingListTagsOptionalAndShowsKBOnce(t *testing.T) {
	r := report.Report{Command: report.CmdScan, Hosts: []report.HostResult{{
		Name: "win1", Status: report.StatusOK,
		Updates: []report.Update{
			{Update: patch.Update{Name: "2024-01 Cumulative Update for Windows Server 2022 (KB5034129)", KB: "KB5034129", Security: true, Severity: "Critical"}},
			{Update: patch.Update{Name: "Preview of .NET", KB: "KB5034613", Optional: true}},
		},
	}}}
	var out bytes.Buffer
	if err := writeText(&out, r, layout{}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if strings.Count(text, "KB5034129") != 1 {
		t.Errorf("KB repeated:\n%s", text)
	}
	if !strings.Contains(text, "KB5034613 Preview of .NET  [optional]") {
		t.Errorf("optional update not tagged:\n%s", text)
	}
}

func TestFailedHostShowsItsLastOutput(t *testing.T) {
	r := report.Report{Command: report.CmdPatch, Hosts: []report.HostResult{{
		Name: "web1", Status: report.StatusFailed, OS: "debian 12",
		Error: "install: apt-get: exit status 100: E: Packages need to be removed but remove is disabled.",
		Output: []report.StepOutput{{Step: "install round 1: 2 updates", Command: "apt-get -y -q --no-remove … dist-upgrade",
			ExitCode: 100, Output: "The following packages will be REMOVED:\n  libfoo1\nE: Packages need to be removed but remove is disabled."}},
	}}}
	var out bytes.Buffer
	if err := writeText(&out, r, layout{}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"web1 failed: install: apt-get: exit status 100: E: Packages need to be removed but remove is disabled.",
		"  install round 1: 2 updates: apt-get -y -q --no-remove … dist-upgrade (exit 100)",
		"    The following packages will be REMOVED:",
		"      libfoo1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("failure footnote lacks %q:\n%s", want, text)
		}
	}
}

// Every format the registry offers (and so the flag accepts) has a writer.
func TestEveryRegisteredFormatRenders(t *testing.T) {
	for _, f := range report.Formats() {
		var out bytes.Buffer
		a := &app{streams: Streams{Out: &out, Getenv: func(string) string { return "" }, Width: func(any) int { return 0 }}}
		if err := a.render(string(f), report.New(report.CmdScan, false, time.Unix(0, 0))); err != nil || out.Len() == 0 {
			t.Errorf("format %s: %v, %d bytes", f, err, out.Len())
		}
	}
}

// Updates whose install outcome is unknown are not silently "0 installed".
func TestSummarySaysWhenInstallOutcomeIsUnknown(t *testing.T) {
	r := report.New(report.CmdPatch, false, time.Unix(0, 0))
	r.Finish([]report.HostResult{{Name: "a", Status: report.StatusFailed, Error: "install: connection lost; whether 2 updates were installed is unknown",
		Updates: []report.Update{{Selected: true, OutcomeUnknown: true}, {Selected: true, OutcomeUnknown: true}}}}, time.Unix(1, 0))
	var out bytes.Buffer
	if err := writeText(&out, r, layout{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 updates found, 0 installed, 2 of unknown outcome") {
		t.Errorf("text output:\n%s", out.String())
	}
}
