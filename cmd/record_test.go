package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/state"
)

// A recorded scan prints its run id and journal on stderr, puts run_id in
// the report, and its journal holds a header, events, checkpoints and every
// host's full result, identical to the report's.
func TestRecordedScanWritesItsJournalAndReportsTheRunID(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 4, Seed: 3})
	dir := filepath.Join(t.TempDir(), "state")
	events := filepath.Join(t.TempDir(), "events.jsonl")
	res := runCLI(t, nil, "scan", "-i", inv, "--state-dir", dir, "-o", "json", "--no-ssh-config", "--forks", "2", "--events", events)
	if res.code != ExitOK {
		t.Fatalf("scan exit %d\n%s", res.code, res.stderr)
	}
	rep := decodeReport(t, res)
	if !state.ValidRunID(rep.RunID) {
		t.Fatalf("report run_id = %q", rep.RunID)
	}
	var first eventLine
	if b, err := os.ReadFile(events); err != nil || json.Unmarshal(bytes.SplitN(b, []byte("\n"), 2)[0], &first) != nil ||
		first.Event != "run.start" || first.RunID != rep.RunID {
		t.Errorf("the events stream does not start with run.start and the run id: %+v (%v)", first, err)
	}
	jpath := filepath.Join(dir, "runs", rep.RunID, "journal.jsonl")
	if !strings.Contains(res.stderr, "run "+rep.RunID+": journal "+jpath) {
		t.Errorf("stderr does not say the run id and journal at start:\n%s", res.stderr)
	}
	r, err := journal.Open(dir, rep.RunID)
	if err != nil {
		t.Fatal(err)
	}
	absInv, _ := filepath.Abs(inv)
	if r.State != journal.StateFinished || r.End.ExitCode != ExitOK || r.Header.Command != report.CmdScan ||
		r.Header.Inventory != absInv || len(r.Header.InventorySHA256) != 64 || len(r.Header.Hosts) != 4 ||
		r.Header.Flags["forks"] != "2" || !reflect.DeepEqual(r.Header.Argv[:3], []string{"scan", "-i", absInv}) {
		t.Errorf("journal: state %s end %+v header %+v", r.State, r.End, r.Header)
	}
	var fromJournal []report.HostResult
	if err := r.Results(r.Header.Hosts, func(h report.HostResult) error {
		fromJournal = append(fromJournal, h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJournal, rep.Hosts) {
		t.Errorf("the report's hosts differ from the journal's results")
	}
	kinds := map[string]int{}
	f, _ := os.Open(jpath)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct{ Type string }
		json.Unmarshal(sc.Bytes(), &rec)
		kinds[rec.Type]++
	}
	if kinds["header"] != 1 || kinds["event"] == 0 || kinds["checkpoint"] < 4*3 || kinds["result"] != 4 || kinds["end"] != 1 {
		t.Errorf("journal records by type: %v", kinds)
	}
	if !strings.Contains(runCLI(t, nil, "runs", "--state-dir", dir).stdout, rep.RunID) {
		t.Error("runs does not list the run")
	}
}

// The streamed JSON report is byte for byte the one written from full
// results in memory, whether a host's result comes from the journal or
// stayed in memory (its journal write failed).
func TestStreamedReportEqualsTheInMemoryOne(t *testing.T) {
	dir := t.TempDir()
	w, err := journal.Create(dir, journal.Header{RunID: state.NewRunID(time.Now()), Command: report.CmdPatch})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t0 := time.Date(2026, 12, 5, 2, 15, 0, 0, time.UTC)
	mk := func(name string, n int) report.HostResult {
		h := report.HostResult{Name: name, Address: name, Transport: "ssh", Status: report.StatusOK, StartedAt: t0, FinishedAt: t0,
			Updates: []report.Update{}, Output: []report.StepOutput{{Step: "install round 1", Output: "<ok> & done"}}}
		for i := range n {
			h.Updates = append(h.Updates, report.Update{Update: patch.Update{Name: "p" + strings.Repeat("x", i)}, Selected: true})
		}
		return h
	}
	full := []report.HostResult{mk("a", 2), mk("b", 0), mk("c", 1), mk("d", 3)}
	rep := report.New(report.CmdPatch, false, t0)
	rep.RunID = "20261205T021500Z-3f9c"
	rep.Finish(full, t0)
	var want bytes.Buffer
	report.WriteJSON(&want, rep)

	compacted := rep
	compacted.Hosts = nil
	for _, h := range full {
		if h.Name != "c" { // c's journal write "failed": it stays whole in memory
			if err := w.Result(h); err != nil {
				t.Fatal(err)
			}
			h = report.HostResult{Name: h.Name, Status: h.Status}
		}
		compacted.Hosts = append(compacted.Hosts, h)
	}
	var got bytes.Buffer
	if err := streamJSON(&got, compacted, w); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("streamed report differs:\n got %s\nwant %s", got.String(), want.String())
	}
}

// A second run changing the hosts of an inventory already in use from the
// same state directory is refused, naming the holder; scan still runs.
func TestSecondRunOnTheSameInventoryIsRefused(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 2, Seed: 4})
	dir := filepath.Join(t.TempDir(), "state")
	if err := state.Ensure(dir); err != nil {
		t.Fatal(err)
	}
	absInv, _ := filepath.Abs(inv)
	held, err := takeGuard(dir, absInv, guardHolder{RunID: "20261205T021500Z-aaaa", PID: 4242, Command: "patch", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, "patch", "-i", inv, "--state-dir", dir, "--no-ssh-config")
	if res.code != ExitCantStart || !strings.Contains(res.stderr, "20261205T021500Z-aaaa") ||
		!strings.Contains(res.stderr, "pid 4242") || !strings.Contains(res.stderr, "patchrun runs") {
		t.Fatalf("patch while the inventory is in use: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if ids, _ := journal.IDs(dir); len(ids) != 0 {
		t.Errorf("the refused run left a journal: %v", ids)
	}
	if res := runCLI(t, nil, "scan", "-i", inv, "--state-dir", dir, "--no-ssh-config", "-o", "json"); res.code != ExitOK {
		t.Errorf("scan (read-only) was refused: exit %d\n%s", res.code, res.stderr)
	}
	if res := runCLI(t, nil, "patch", "--dry-run", "-i", inv, "--state-dir", dir, "--no-ssh-config", "-o", "json"); res.code != ExitOK {
		t.Errorf("patch --dry-run was refused: exit %d\n%s", res.code, res.stderr)
	}
	held.Unlock()
	if res := runCLI(t, nil, "reboot", "-i", inv, "--state-dir", dir, "--no-ssh-config", "-o", "json"); res.code != ExitOK {
		t.Errorf("reboot after the holder finished: exit %d\n%s", res.code, res.stderr)
	}
}

func TestUnusableStateDirExitsOneBeforeContactingHosts(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 1, Seed: 5})
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	res := runCLI(t, nil, "scan", "-i", inv, "--state-dir", file, "--no-ssh-config")
	if res.code != ExitCantStart || !strings.Contains(res.stderr, "--state-dir "+file) {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if n := len(fl.SimHosts()[0].CommandsSeen()); n != 0 {
		t.Errorf("%d commands ran on the host before the state dir was found unusable", n)
	}
}

// runs tells a live run (its process holds the lock) from one whose
// process died without an end record, and counts hosts by status.
func TestRunsShowsRunningFinishedAndInterrupted(t *testing.T) {
	dir := t.TempDir()
	mk := func(id string) *journal.Writer {
		w, err := journal.Create(dir, journal.Header{RunID: id, Command: report.CmdPatch, Hosts: []string{"a", "b", "c"}})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	done := mk("20261205T010000Z-0001")
	done.Result(report.HostResult{Name: "a", Status: report.StatusOK})
	done.Result(report.HostResult{Name: "b", Status: report.StatusFailed})
	done.Result(report.HostResult{Name: "c", Status: report.StatusOK})
	done.End(journal.End{State: journal.StateFinished, ExitCode: 2})
	done.Close()
	died := mk("20261205T020000Z-0002")
	died.Result(report.HostResult{Name: "a", Status: report.StatusOK})
	died.Close() // as the OS does for a killed process: no end record
	live := mk("20261205T030000Z-0003")
	defer live.Close()

	res := runCLI(t, nil, "runs", "--state-dir", dir, "-o", "json")
	var runs []runInfo
	if err := json.Unmarshal([]byte(res.stdout), &runs); err != nil || len(runs) != 3 {
		t.Fatalf("runs -o json: %v\n%s%s", err, res.stdout, res.stderr)
	}
	got := []string{runs[0].State, runs[1].State, runs[2].State}
	if !reflect.DeepEqual(got, []string{"finished", "interrupted", "running"}) {
		t.Errorf("states oldest first = %v", got)
	}
	if r := runs[0]; r.OK != 2 || r.Failed != 1 || r.Hosts != 3 || r.ExitCode == nil || *r.ExitCode != 2 {
		t.Errorf("finished run's counts = %+v", r)
	}
	text := runCLI(t, nil, "runs", "--state-dir", dir).stdout
	if !strings.Contains(text, "STATE") || !strings.Contains(text, "20261205T030000Z-0003") || !strings.Contains(text, "running") {
		t.Errorf("runs text:\n%s", text)
	}
	if res := runCLI(t, nil, "runs", "--state-dir", t.TempDir()); res.code != ExitOK || !strings.Contains(res.stdout, "no runs") {
		t.Errorf("runs of an empty state dir: %d %q", res.code, res.stdout)
	}
}

// The journal's command line names every local file absolutely, so resume
// runs it from any directory: the inventory, a relative --plan and the
// risk-data files.
func TestJournalArgvNamesFilesAbsolutely(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	got := absPathArgv([]string{"patch", "-i", "inv.yml", "--plan", "p.json", "--plan-max-age", "2d", "--events", "e.jsonl", "--", "--plan", "x"}, "/abs/inv.yml")
	want := []string{"patch", "-i", "/abs/inv.yml", "--plan", filepath.Join(dir, "p.json"), "--plan-max-age", "2d", "--events", "e.jsonl", "--", "--plan", "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv\n got %q\nwant %q", got, want)
	}
	got = absPathArgv([]string{"patch", "-iinv.yml", "--plan=p.json", "--report", "junit.xml", "--metrics=m.prom"}, "/abs/inv.yml")
	want = []string{"patch", "-i/abs/inv.yml", "--plan=" + filepath.Join(dir, "p.json"), "--report", filepath.Join(dir, "junit.xml"),
		"--metrics=" + filepath.Join(dir, "m.prom")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv\n got %q\nwant %q", got, want)
	}
}

// The journal's command line keeps --db without its password, in either
// spelling.
func TestJournalArgvKeepsNoDatabasePassword(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	got := absPathArgv([]string{"scan", "-i", "inv.yml", "--db", "postgres://alice:pw@db/estate?sslmode=verify-full", "--db=postgres://bob@db/estate?password=pw2"}, "/abs/inv.yml")
	want := []string{"scan", "-i", "/abs/inv.yml", "--db", "postgres://alice@db/estate?sslmode=verify-full", "--db=postgres://bob@db/estate"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv\n got %q\nwant %q", got, want)
	}
	// The risk-data files are read again by the resumed run.
	got = absPathArgv([]string{"patch", "-i", "inv.yml", "--advisories", "osv", "--advisories=deb.zip", "--kev", "kev.json", "--epss=epss.csv"}, "/abs/inv.yml")
	want = []string{"patch", "-i", "/abs/inv.yml", "--advisories", filepath.Join(dir, "osv"), "--advisories=" + filepath.Join(dir, "deb.zip"),
		"--kev", filepath.Join(dir, "kev.json"), "--epss=" + filepath.Join(dir, "epss.csv")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv\n got %q\nwant %q", got, want)
	}
}
