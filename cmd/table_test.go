package cmd

import (
	"bytes"
	"fmt"
	"github.com/patchrun/patchrun/report"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/patch"
)

// demoReport is a patch run like the demo's: Linux and Windows hosts, all
// rebooted; failed adds a host with a long error.
func demoReport(failed bool) report.Report {
	r := report.Report{Command: report.CmdPatch}
	upd := []report.Update{{Update: patch.Update{Name: "openssl", Security: true, Installed: true}}, {Update: patch.Update{Name: "curl", Installed: true}}}
	for i := range 12 {
		r.Hosts = append(r.Hosts, report.HostResult{Name: fmt.Sprintf("debian-%03d", i+1), Status: report.StatusOK, OS: "opensuse-leap 15.5",
			Updates: upd, Rebooted: true, RebootBatch: i/4 + 1,
			BootIDBefore: "32b13fbe-0d5c-4e8e-9d4f-2f0c1a7e9b11", BootIDAfter: "6032b84c-7a1e-4c55-8f0e-5b2d9e3c4a22"})
	}
	for i := range 4 {
		r.Hosts = append(r.Hosts, report.HostResult{Name: fmt.Sprintf("win-%03d", i+1), Status: report.StatusOK,
			OS: "Microsoft Windows Server 2022 Datacenter 20348", Updates: upd, Rebooted: true, RebootBatch: 4,
			BootIDBefore: "2026-12-02T16:37:33.1234567Z", BootIDAfter: "2026-12-05T16:37:39.7654321Z"})
	}
	if failed {
		r.Hosts = append(r.Hosts, report.HostResult{Name: "rocky-001", Status: report.StatusFailed, OS: "rocky 9.6", Updates: upd,
			Error: "install: dnf: exit status 1: Error: Transaction test error: file /usr/lib64/libfoo.so.1 conflicts between attempted installs of foo-1.2 and bar-3.4"})
	}
	return r
}

func tableLines(text string) []string {
	head, _, _ := strings.Cut(text, "\n\n")
	return strings.Split(head, "\n")
}

// On an 80-, 100- or 200-column terminal the table fits, shortening what
// it must; everything is still in -o wide and under the table.
func TestTableFitsTheTerminal(t *testing.T) {
	for _, failed := range []bool{false, true} {
		for _, width := range []int{80, 100, 200} {
			var out bytes.Buffer
			if err := writeText(&out, demoReport(failed), layout{width: width}); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, line := range tableLines(text) {
				if n := utf8.RuneCountInString(line); n > width {
					t.Errorf("width %d, failed host %v: a %d-column row:\n%s", width, failed, n, text)
					break
				}
			}
			if !strings.Contains(text, "Windows Server 2022 DC") && width >= 100 {
				t.Errorf("width %d: Windows not shortened to its product and edition:\n%s", width, text)
			}
			if strings.Contains(text, "Microsoft") || strings.Contains(text, "32b13fbe-") {
				t.Errorf("width %d: long OS names or boot ids in the table:\n%s", width, text)
			}
			if !failed && strings.Contains(tableLines(text)[0], "ERROR") {
				t.Errorf("width %d: an ERROR column with no error:\n%s", width, text)
			}
			if failed && !strings.Contains(text, "rocky-001 failed: install: dnf: exit status 1: Error: Transaction test error: file /usr/lib64/libfoo.so.1 conflicts between attempted installs of foo-1.2 and bar-3.4") {
				t.Errorf("width %d: the full error is not under the table:\n%s", width, text)
			}
			if width == 200 && (!strings.Contains(tableLines(text)[0], "SECURITY") || (!failed && strings.Contains(text, "…"))) {
				t.Errorf("width 200: headers shortened or cells cut though the table fits:\n%s", text)
			}
		}
	}

	var out bytes.Buffer
	if err := writeText(&out, demoReport(true), layout{width: 80, wide: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Microsoft Windows Server 2022 Datacenter 20348", "32b13fbe-0d5c-4e8e-9d4f-2f0c1a7e9b11→6032b84c-7a1e-4c55-8f0e-5b2d9e3c4a22",
		"2026-12-02T16:37:33.1234567Z→2026-12-05T16:37:39.7654321Z", "ERROR"} {
		if !strings.Contains(tableLines(out.String())[0]+out.String(), want) {
			t.Errorf("-o wide lacks %q:\n%s", want, out.String())
		}
	}
}

// Through the CLI: COLUMNS sets the width when stdout is not a terminal,
// and -o wide is a format.
func TestTextWidthFromCOLUMNS(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 4})
	r := runCLI(t, map[string]string{"COLUMNS": "40"}, "scan", "-i", inv)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, line := range tableLines(r.stdout) {
		if utf8.RuneCountInString(line) > 40 {
			t.Errorf("COLUMNS=40: row %q is wider", line)
		}
	}
	if r := runCLI(t, nil, "scan", "-i", inv, "-o", "wide"); r.code != ExitOK || !strings.Contains(r.stdout, "SECURITY") {
		t.Errorf("-o wide: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
