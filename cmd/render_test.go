package cmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/runner"
)

func TestTextShowsBootIDChangeAndErrors(t *testing.T) {
	r := runner.Report{
		Command: runner.CmdPatch,
		Hosts: []runner.HostResult{
			{Name: "web1", Status: runner.StatusOK, OS: "debian 12",
				Updates:  []patch.Update{{Name: "openssl", Security: true, Installed: true}, {Name: "curl", Installed: true}},
				Rebooted: true, RebootBatch: 2, BootIDBefore: "11111111-aaaa", BootIDAfter: "22222222-bbbb"},
			{Name: "win1", Status: runner.StatusOK, Rebooted: true,
				BootIDBefore: "2026-11-19T17:33:04.6640580Z", BootIDAfter: "2026-11-22T17:33:12.0065627Z"},
			{Name: "web2", Status: runner.StatusFailed, Error: "reboot: host did not come back within 10m0s\nlast error: refused"},
		},
		Summary: runner.Summary{Hosts: 2, OK: 1, Failed: 1, UpdatesFound: 2, UpdatesInstalled: 2, Rebooted: 1},
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
	// The whole error is still shown, under the table.
	if !strings.Contains(text, "web2 failed: reboot: host did not come back within 10m0s\nlast error: refused") {
		t.Errorf("full error of a failed host missing below the table:\n%s", text)
	}
}

func TestDryRunListsWhatWouldBeInstalled(t *testing.T) {
	r := runner.Report{
		Command: runner.CmdPatch, DryRun: true,
		Hosts: []runner.HostResult{{
			Name: "web1", Status: runner.StatusOK,
			Updates:      []patch.Update{{Name: "openssl", Current: "3.0.11-1", Available: "3.0.13-1", Security: true}, {Name: "curl", Current: "7.88.1-10", Available: "7.88.1-11"}},
			WouldInstall: []string{"openssl"}, WouldReboot: true,
		}},
		Summary: runner.Summary{Hosts: 1, OK: 1, UpdatesFound: 2},
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
	r := runner.Report{
		Command: runner.CmdScan,
		Hosts: []runner.HostResult{
			{Name: "gone", Status: runner.StatusUnreachable, Phase: runner.PhaseConnecting, Error: "connect: refused"},
			{Name: "clean", Status: runner.StatusOK, OS: "debian 12"},
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
}

func TestRebootDryRunSaysNothingChanged(t *testing.T) {
	r := runner.Report{Command: runner.CmdReboot, DryRun: true,
		Hosts:   []runner.HostResult{{Name: "a", Status: runner.StatusOK, WouldReboot: true}, {Name: "b", Status: runner.StatusOK}},
		Summary: runner.Summary{Hosts: 2, OK: 2}}
	var out bytes.Buffer
	if err := writeText(&out, r, layout{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run: 1 hosts would reboot; nothing changed") {
		t.Errorf("reboot --dry-run summary reads like a real run:\n%s", out.String())
	}
}

func TestPendingListTagsOptionalAndShowsKBOnce(t *testing.T) {
	r := runner.Report{Command: runner.CmdScan, Hosts: []runner.HostResult{{
		Name: "win1", Status: runner.StatusOK,
		Updates: []patch.Update{
			{Name: "2024-01 Cumulative Update for Windows Server 2022 (KB5034129)", KB: "KB5034129", Security: true, Severity: "Critical"},
			{Name: "Preview of .NET", KB: "KB5034613", Optional: true},
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
	r := runner.Report{Command: runner.CmdPatch, Hosts: []runner.HostResult{{
		Name: "web1", Status: runner.StatusFailed, OS: "debian 12",
		Error: "install: apt-get: exit status 100: E: Packages need to be removed but remove is disabled.",
		Output: []runner.StepOutput{{Step: "install round 1: 2 updates", Command: "apt-get -y -q --no-remove … dist-upgrade",
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
