package windows

import (
	"slices"
	"testing"
	"time"
)

func TestLeftoverStaleRule(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339Nano) }
	const maxAge = 6 * time.Hour
	r := LeftoversReport{Now: now.Format(time.RFC3339Nano), Runs: []LeftoverRun{
		{RunID: "old", TaskState: "Ready", Heartbeat: at(7 * time.Hour)},
		{RunID: "old-dir-only", DirWritten: at(7 * time.Hour)},
		{RunID: "old-running", TaskState: "Running", Heartbeat: at(9 * time.Hour)},
		{RunID: "old-queued", TaskState: "Queued", Heartbeat: at(9 * time.Hour)},
		{RunID: "recent", TaskState: "Ready", Heartbeat: at(time.Hour)},
		// An old status but a fresh directory write: the newer time counts.
		{RunID: "recent-dir", TaskState: "Ready", Heartbeat: at(8 * time.Hour), DirWritten: at(time.Minute)},
		{RunID: "task-alone", TaskState: "Ready"},
		{RunID: "unreadable-times", TaskState: "Ready", Heartbeat: "garbage"},
		{RunID: "bad id..", TaskState: "Ready", Heartbeat: at(9 * time.Hour)},
	}}
	if got, want := r.stale(maxAge), []string{"old", "old-dir-only", "task-alone"}; !slices.Equal(got, want) {
		t.Fatalf("stale %q, want %q", got, want)
	}
	r.Now = "not a time"
	if got := r.stale(maxAge); got != nil {
		t.Fatalf("without the host's clock nothing is stale, got %q", got)
	}
}
