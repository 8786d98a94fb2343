package history

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

func TestTimelineFromEvents(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tl := newTimeline()
	for _, e := range []map[string]any{
		{"time": at(0), "event": "host.phase", "host": "a", "phase": "connecting"},
		{"time": at(1), "event": "host.phase", "host": "b", "phase": "connecting"},
		{"time": at(2), "event": "host.phase", "host": "a", "phase": "installing", "wave": 2},
		{"time": at(5), "event": "host.phase", "host": "a", "phase": "awaiting-batch"},
		{"time": at(6), "event": "step", "host": "a", "phase": "installing"},
		{"time": at(9), "event": "batch.start", "batch": 3, "detail": "a, c"},
		{"time": at(9), "event": "host.phase", "host": "a", "phase": "rebooting"},
		{"time": at(12), "event": "host.done", "host": "b", "phase": "done", "status": "unreachable"},
		{"time": at(20), "event": "host.phase", "host": "a", "phase": "done"},
		{"time": at(21), "event": "host.phase", "host": "c", "phase": "verifying"},
		{"not": "an event"},
	} {
		b, _ := json.Marshal(e)
		if err := tl.add(b); err != nil {
			t.Fatal(err)
		}
	}
	got := tl.done(at(30))
	want := map[string][]Segment{
		"a": {{report.PhaseConnecting, at(0), at(2), 0, 0}, {report.PhaseInstalling, at(2), at(5), 0, 2},
			{report.PhaseAwaitBatch, at(5), at(9), 3, 2}, {report.PhaseRebooting, at(9), at(20), 3, 2}},
		"b": {{report.PhaseConnecting, at(1), at(12), 0, 0}},
		// Still open at the end: closed at the run's end.
		"c": {{report.PhaseVerifying, at(21), at(30), 3, 0}},
	}
	for h, w := range want {
		if len(got[h]) != len(w) {
			t.Fatalf("%s: %+v, want %+v", h, got[h], w)
		}
		for i := range w {
			if got[h][i] != w[i] {
				t.Errorf("%s segment %d: %+v, want %+v", h, i, got[h][i], w[i])
			}
		}
	}
}

func TestTimelineTakesTheWaveFromCheckpoints(t *testing.T) {
	dir := t.TempDir()
	w, err := journal.Create(dir, journal.Header{RunID: "20261101T080000Z-00aa", Command: report.CmdPatch, Hosts: []string{"db1"}, StartedAt: t0, Inventory: "/inv"})
	if err != nil {
		t.Fatal(err)
	}
	for i, ph := range []string{"connecting", "installing"} {
		if err := w.Event(map[string]any{"time": t0.Add(time.Duration(i) * time.Second), "event": "host.phase", "host": "db1", "phase": ph}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Checkpoint(runner.Checkpoint{Host: "db1", Phase: report.PhaseInstalling, Wave: 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Result(report.HostResult{Name: "db1", Status: report.StatusOK, Updates: []report.Update{}}); err != nil {
		t.Fatal(err)
	}
	if err := w.End(journal.End{State: journal.StateFinished, Time: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := journal.Open(dir, "20261101T080000Z-00aa")
	if err != nil {
		t.Fatal(err)
	}
	src, err := FromJournal(r)
	if err != nil {
		t.Fatal(err)
	}
	segs := src.Info.Timeline["db1"]
	if len(segs) != 2 || segs[0].Wave != 2 || segs[1].Wave != 2 || !segs[1].End.Equal(t0.Add(time.Minute)) {
		t.Fatalf("db1's timeline %+v, want two segments in wave 2, the last ending with the run", segs)
	}
}
