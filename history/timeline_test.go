package history

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/patchrun/patchrun/report"
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
