package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
	"github.com/patchrun/patchrun/state"
)

var t0 = time.Date(2026, 12, 5, 2, 15, 0, 0, time.UTC)

func header(id string) Header {
	return Header{RunID: id, Command: report.CmdPatch, Argv: []string{"patch", "-i", "/etc/inv.yml"},
		Inventory: "/etc/inv.yml", InventorySHA256: "ab", Hosts: []string{"web1", "web2", "db1"},
		Flags: map[string]string{"limit": "web*"}, Controller: Controller{Hostname: "ctl", User: "ops", PID: 42}, StartedAt: t0}
}

func result(name string, st report.Status, updates int) report.HostResult {
	r := report.HostResult{Name: name, Address: name + ".example", Transport: "ssh", Status: st, Updates: []report.Update{}}
	for i := range updates {
		r.Updates = append(r.Updates, report.Update{Update: patch.Update{Name: "pkg" + string(rune('a'+i))}, Selected: true})
	}
	return r
}

func create(t *testing.T, dir, id string) *Writer {
	t.Helper()
	w, err := Create(dir, header(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestWrittenRunReadsBackWithCheckpointsResultsAndEnd(t *testing.T) {
	dir := t.TempDir()
	id := state.NewRunID(t0)
	w := create(t, dir, id)
	must(t, w.Event(map[string]string{"event": "host.phase", "host": "web1"}))
	must(t, w.Checkpoint(runner.Checkpoint{Host: "web1", Phase: report.PhaseInstalling, Round: 1,
		Selected: []patch.Update{{Name: "openssl", Available: "3.0.2"}}}))
	must(t, w.Checkpoint(runner.Checkpoint{Host: "web2", Phase: report.PhaseScanning}))
	must(t, w.Checkpoint(runner.Checkpoint{Host: "web2", Phase: report.PhaseRebooting, BootIDBefore: "b-1", Batch: 2}))
	must(t, w.Result(result("web1", report.StatusOK, 3)))
	must(t, w.Result(result("db1", report.StatusFailed, 0)))

	r, err := Open(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateRunning {
		t.Errorf("state while the writer holds the run = %s, want running", r.State)
	}
	if r.Header.RunID != id || r.Header.Format != FormatVersion || r.Header.Controller.PID != 42 || len(r.Header.Hosts) != 3 {
		t.Errorf("header read back = %+v", r.Header)
	}
	if _, ok := r.Checkpoint("web1"); ok {
		t.Error("web1 ended, yet a checkpoint is kept for it")
	}
	if c, ok := r.Checkpoint("web2"); !ok || c.Phase != report.PhaseRebooting || c.BootIDBefore != "b-1" || c.Batch != 2 {
		t.Errorf("web2's last checkpoint = %+v, %v", c, ok)
	}
	if st, ok := r.Ended("db1"); !ok || st != report.StatusFailed {
		t.Errorf("db1 ended = %s, %v", st, ok)
	}
	if c := r.Counts(); c.Hosts != 3 || c.OK != 1 || c.Failed != 1 {
		t.Errorf("counts = %+v", c)
	}
	var order []string
	err = r.Results([]string{"web1", "web2", "db1"}, func(h report.HostResult) error {
		order = append(order, h.Name)
		if h.Name == "web1" && len(h.Updates) != 3 {
			t.Errorf("web1's result lost its updates: %+v", h.Updates)
		}
		return nil
	})
	if err != nil || strings.Join(order, ",") != "web1,db1" {
		t.Errorf("results in order = %v, %v", order, err)
	}

	must(t, w.End(End{State: StateFinished, ExitCode: 2}))
	must(t, w.Close())
	r, err = Open(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateFinished || r.End.ExitCode != 2 {
		t.Errorf("after end: state %s, end %+v", r.State, r.End)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{r.Dir: 0o700, r.Path: 0o600} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), want)
			}
		}
	}
}

func TestWriterResultsStreamInTheOrderAsked(t *testing.T) {
	w := create(t, t.TempDir(), state.NewRunID(t0))
	must(t, w.Result(result("db1", report.StatusOK, 1)))
	must(t, w.Result(result("web1", report.StatusOK, 2)))
	var got []string
	must(t, w.Results([]string{"web1", "web2", "db1"}, func(h report.HostResult) error {
		got = append(got, h.Name)
		return nil
	}))
	if strings.Join(got, ",") != "web1,db1" {
		t.Errorf("results = %v, want web1,db1 (the order asked, hosts without a result left out)", got)
	}
}

func TestTornLastLineIsIgnoredAndCutByAppend(t *testing.T) {
	dir := t.TempDir()
	id := state.NewRunID(t0)
	w := create(t, dir, id)
	must(t, w.Checkpoint(runner.Checkpoint{Host: "web1", Phase: report.PhaseInstalling}))
	must(t, w.Result(result("db1", report.StatusOK, 1)))
	must(t, w.Close())
	// A SIGKILL in the middle of the next write.
	f, err := os.OpenFile(filepath.Join(state.RunDir(dir, id), FileName), os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	f.WriteString(`{"type":"result","time":"2026-12-05T02:16:00Z","result":{"name":"web1","sta`)
	f.Close()

	r, err := Open(dir, id)
	if err != nil {
		t.Fatalf("a torn last line must be tolerated: %v", err)
	}
	if !r.Torn || r.State != StateInterrupted {
		t.Errorf("torn %v, state %s; want torn and interrupted (the writer died)", r.Torn, r.State)
	}
	if c, ok := r.Checkpoint("web1"); !ok || c.Phase != report.PhaseInstalling {
		t.Errorf("web1's checkpoint before the torn line = %+v, %v", c, ok)
	}

	a, err := Append(dir, id, Resumed{Controller: Controller{PID: 7}})
	if err != nil {
		t.Fatal(err)
	}
	must(t, a.Result(result("web1", report.StatusOK, 2)))
	var got []string
	must(t, a.Results([]string{"web1", "web2", "db1"}, func(h report.HostResult) error {
		got = append(got, h.Name)
		return nil
	}))
	if strings.Join(got, ",") != "web1,db1" {
		t.Errorf("after append, results = %v; want both segments' (web1,db1)", got)
	}
	must(t, a.End(End{State: StateFinished}))
	must(t, a.Close())
	r, err = Open(dir, id)
	if err != nil {
		t.Fatalf("after append the journal must read cleanly: %v", err)
	}
	if r.Torn || len(r.Resumes) != 1 || r.Resumes[0].Controller.PID != 7 || r.State != StateFinished {
		t.Errorf("after resume: torn %v, resumes %+v, state %s", r.Torn, r.Resumes, r.State)
	}
}

func TestCorruptLineInTheMiddleIsReportedWithItsLine(t *testing.T) {
	dir := t.TempDir()
	id := state.NewRunID(t0)
	w := create(t, dir, id)
	must(t, w.Checkpoint(runner.Checkpoint{Host: "web1", Phase: report.PhaseScanning}))
	must(t, w.Close())
	f, _ := os.OpenFile(filepath.Join(state.RunDir(dir, id), FileName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("garbage\n" + `{"type":"end","end":{"state":"finished"}}` + "\n")
	f.Close()
	_, err := Open(dir, id)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 3 || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Open = %v; want a CorruptError naming line 3", err)
	}
}

func TestAppendRefusesALiveRun(t *testing.T) {
	dir := t.TempDir()
	id := state.NewRunID(t0)
	create(t, dir, id)
	if _, err := Append(dir, id, Resumed{}); !errors.Is(err, ErrRunLive) {
		t.Fatalf("Append to a live run = %v, want ErrRunLive", err)
	}
}

func TestLatestAndIDsAndMissingRun(t *testing.T) {
	dir := t.TempDir()
	if ids, err := IDs(dir); err != nil || len(ids) != 0 {
		t.Fatalf("IDs of an empty state dir = %v, %v", ids, err)
	}
	old, mid, last := state.NewRunID(t0), state.NewRunID(t0.Add(time.Hour)), state.NewRunID(t0.Add(2*time.Hour))
	for _, id := range []string{mid, last, old} {
		w := create(t, dir, id)
		if id != last {
			must(t, w.End(End{State: StateInterrupted}))
		}
		must(t, w.Close())
	}
	ids, err := IDs(dir)
	if err != nil || strings.Join(ids, " ") != strings.Join([]string{old, mid, last}, " ") {
		t.Errorf("IDs = %v, want oldest first", ids)
	}
	r, err := Latest(dir, func(r *Run) bool { return r.End != nil })
	if err != nil || r.ID != mid {
		t.Errorf("Latest with an end record = %v, %v; want %s", r, err, mid)
	}
	if _, err := Latest(dir, func(*Run) bool { return false }); !errors.Is(err, ErrNoRun) {
		t.Errorf("Latest with no match = %v", err)
	}
	if _, err := Open(dir, "../../etc"); !errors.Is(err, ErrNoRun) {
		t.Errorf("Open(a path) = %v, want ErrNoRun", err)
	}
	if _, err := Open(dir, state.NewRunID(t0.Add(9*time.Hour))); !errors.Is(err, ErrNoRun) {
		t.Errorf("Open(unknown) = %v, want ErrNoRun", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Checkpoints from many hosts at once share fsyncs: while one runs, the
// others' records are written and then made durable by a single next one.
func TestConcurrentCheckpointsShareOneFsync(t *testing.T) {
	dir := t.TempDir()
	id := state.NewRunID(t0)
	w := create(t, dir, id)
	gate := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	w.mu.Lock()
	w.fsync = func(f *os.File) error {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			<-gate
		}
		return f.Sync()
	}
	w.mu.Unlock()
	const hosts = 50
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			must(t, w.Checkpoint(runner.Checkpoint{Host: fmt.Sprintf("h%02d", i), Phase: report.PhaseScanning}))
		}()
	}
	// Wait until every record is written (the first fsync holds the rest).
	for {
		if lines, _ := os.ReadFile(w.Path()); strings.Count(string(lines), "\n") == hosts+1 {
			break
		}
		runtime.Gosched()
	}
	close(gate)
	wg.Wait()
	if calls != 2 {
		t.Errorf("%d fsyncs for %d concurrent checkpoints; want 2 (one in flight, one for all the others)", calls, hosts)
	}
	r, err := Open(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	for i := range hosts {
		if _, ok := r.Checkpoint(fmt.Sprintf("h%02d", i)); !ok {
			t.Errorf("h%02d's checkpoint missing", i)
		}
	}
}
