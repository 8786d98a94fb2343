package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"

	"github.com/patchrun/patchrun/estate"
	"github.com/patchrun/patchrun/estate/estatetest"
	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
)

func TestPatchWritesItsReportsAsItEnds(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 3})
	dir, out := t.TempDir(), t.TempDir()
	path := func(n string) string { return filepath.Join(out, n) }
	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--state-dir", dir, "--batch", "3",
		"--report", path("junit.xml"), "--report", path("r.md"), "--report", path("hosts.csv"), "--report", path("r.json"),
		"--report", path("r.html"), "--metrics", path("patchrun.prom"))
	if r.code != ExitOK {
		t.Fatalf("patch exit %d:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	for _, n := range []string{"junit.xml", "r.md", "hosts.csv", "r.json", "r.html", "patchrun.prom"} {
		fi, err := os.Stat(path(n))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want a 0600 file", n, fi, err)
		}
	}
	// A JUnit consumer reads one suite of one case per host, filed
	// under the host's inventory group.
	suites, err := junit.IngestFile(path("junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != 1 || len(suites[0].Tests) != len(rep.Hosts) || suites[0].Totals.Passed != len(rep.Hosts) {
		t.Fatalf("junit: %+v, want one suite of %d passed cases", suites, len(rep.Hosts))
	}
	for _, tc := range suites[0].Tests {
		if tc.Classname == "" || tc.Classname == "hosts" || !strings.HasPrefix(tc.Name, tc.Classname) {
			t.Errorf("case %s: classname %q, want its inventory group", tc.Name, tc.Classname)
		}
	}
	var er estate.Report
	b, _ := os.ReadFile(path("r.json"))
	if err := json.Unmarshal(b, &er); err != nil {
		t.Fatal(err)
	}
	if len(er.Runs) != 1 || er.Runs[0].ID != rep.RunID || len(er.Runs[0].Hosts) != len(rep.Hosts) {
		t.Fatalf("r.json is not this run: %+v", er.Runs)
	}
	for _, h := range er.Runs[0].Hosts {
		if len(h.Timeline) < 5 || len(h.Installed) == 0 || !h.Rebooted {
			t.Errorf("%s: %d segments, %d installed, rebooted %v: want its phases through the reboot and its installs", h.Name, len(h.Timeline), len(h.Installed), h.Rebooted)
		}
	}
	page, _ := os.ReadFile(path("r.html"))
	for _, h := range rep.Hosts {
		if !strings.Contains(string(page), h.Name) {
			t.Errorf("r.html does not show %s", h.Name)
		}
	}
	prom, _ := os.ReadFile(path("patchrun.prom"))
	if !strings.Contains(string(prom), `patchrun_hosts{status="ok"} 3`) || !strings.Contains(string(prom), `patchrun_last_success_timestamp_seconds{command="patch"}`) {
		t.Fatalf("metrics:\n%s", prom)
	}
}

func TestReportCommandRendersTheHistory(t *testing.T) {
	dir := t.TempDir()
	if err := estatetest.Write(dir); err != nil {
		t.Fatal(err)
	}
	md := runCLI(t, nil, "report", "--state-dir", dir, "-o", "md")
	want, err := os.ReadFile(filepath.Join("..", "estate", "testdata", "last.md"))
	if err != nil {
		t.Fatal(err)
	}
	if md.code != ExitOK || md.stdout != string(want) {
		t.Fatalf("report -o md (the newest run by default): exit %d\n%s%s", md.code, md.stdout, md.stderr)
	}
	file := filepath.Join(t.TempDir(), "junit.xml")
	j := runCLI(t, nil, "report", estatetest.RunPatch, "--state-dir", dir, "-o", "junit", "--file", file)
	suites, err := junit.IngestFile(file)
	if j.code != ExitOK || j.stdout != "" || err != nil || len(suites) != 1 || suites[0].Totals.Failed != 1 {
		t.Fatalf("report RUN-ID -o junit --file: exit %d, %v, %+v\n%s", j.code, err, suites, j.stderr)
	}
	csv := runCLI(t, nil, "report", "--since", "10000d", "--state-dir", dir, "-o", "csv", "--csv-rows", "updates")
	if csv.code != ExitOK || !strings.HasPrefix(csv.stdout, "run_id,host,name,") || strings.Count(csv.stdout, "\r\n") != 1+19 {
		t.Fatalf("report --since -o csv --csv-rows updates: exit %d, %d lines\n%s%s", csv.code, strings.Count(csv.stdout, "\r\n"), csv.stdout, csv.stderr)
	}
}

func TestReportFlagsAreCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	if err := estatetest.Write(dir); err != nil {
		t.Fatal(err)
	}
	empty := runCLI(t, nil, "report", "--state-dir", t.TempDir(), "-o", "md")
	if empty.code != ExitCantStart || !strings.Contains(empty.stderr, "holds no run yet (hint: run a scan or a patch first)") {
		t.Errorf("report of an empty history: exit %d, %q", empty.code, empty.stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--last", estatetest.RunLast}, "one of RUN-ID, --last and --since"},
		{[]string{"report", "-o", "pdf"}, "--output"},
		{[]string{"report", "--csv-rows", "packages", "-o", "csv"}, "--csv-rows"},
		{[]string{"report", "--since", "a month"}, "--since"},
		{[]string{"report", "not-a-run"}, "run id"},
		{[]string{"report", "20250101T000000Z-ffff", "-o", "md"}, "patchrun runs"},
		{[]string{"report", "--file", filepath.Join(dir, "missing", "r.md"), "-o", "md"}, "does not exist"},
	} {
		r := runCLI(t, nil, append(c.args, "--state-dir", dir)...)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, want exit 1 naming %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestRunReportFlagsAreCheckedBeforeAnyHost(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 1})
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--report", filepath.Join(dir, "r.txt")}, ".xml (JUnit)"},
		{[]string{"--report", filepath.Join(dir, "r.md"), "--no-history"}, "drop --no-history"},
		{[]string{"--metrics", filepath.Join(dir, "nope", "m.prom")}, "--metrics"},
	} {
		r := runCLI(t, nil, append([]string{"scan", "-i", inv, "--state-dir", dir}, c.args...)...)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want exit 1 naming %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if seen := fl.Host(fl.Hosts()[0].Name).CommandsSeen(); len(seen) != 0 {
		t.Fatalf("a bad report flag still ran commands on the host: %q", seen)
	}
}

func TestReportThatCannotBeWrittenIsExit5(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 1})
	dir := t.TempDir()
	// A database that cannot be opened: the history import only warns,
	// but the report asked for cannot be written.
	if err := os.WriteFile(filepath.Join(dir, history.FileName), []byte("not a database, just text long enough to be read as a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(t.TempDir(), "r.md")
	r := runCLI(t, nil, "scan", "-i", inv, "--state-dir", dir, "--report", md)
	if r.code != ExitResultNotWritten || !strings.Contains(r.stderr, "report not written") {
		t.Fatalf("exit %d, want %d naming the report:\n%s", r.code, ExitResultNotWritten, r.stderr)
	}
	if _, err := os.Stat(md); !os.IsNotExist(err) {
		t.Fatalf("a report was written anyway: %v", err)
	}
}

func TestReportOnATerminalShowsRemoteEscapesEscaped(t *testing.T) {
	dir := t.TempDir()
	id := "20270101T000000Z-00e5"
	w, err := journal.Create(dir, journal.Header{RunID: id, Command: report.CmdScan, Hosts: []string{"evil"},
		StartedAt: estatetest.T0, Inventory: "/inv"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Result(report.HostResult{Name: "evil", Status: report.StatusFailed, ErrorKind: "command-failed",
		Error: "boom \x1b]0;owned\x07\x1b[2J", Updates: []report.Update{}}); err != nil {
		t.Fatal(err)
	}
	if err := w.End(journal.End{State: journal.StateFinished, ExitCode: 2}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	for _, format := range []string{"csv", "md", "html"} {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"report", "--state-dir", dir, "-o", format}, Streams{
			In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(string) string { return "" },
			IsTerminal: func(f any) bool { return f == &out },
		})
		if code != ExitOK || strings.ContainsRune(out.String(), 0x1b) || !strings.Contains(out.String(), `x1b`) {
			t.Errorf("-o %s on a terminal: exit %d, raw escape sent: %v\n%s", format, code, strings.ContainsRune(out.String(), 0x1b), errOut.String())
		}
	}
}
