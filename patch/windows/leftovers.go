package windows

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/patchrun/patchrun/transport"
)

// LeftoversReport is the install-leftovers script's result: what earlier
// runs left on the host, by run id.
type LeftoversReport struct {
	Now  string        `json:"now"` // the host's clock, UTC
	Runs []LeftoverRun `json:"runs"`
}

// LeftoverRun is one earlier run's scheduled task and work directory.
type LeftoverRun struct {
	RunID string `json:"run_id"`
	// TaskState is the task's state ("Running", "Ready", …), "" when the
	// run has no task.
	TaskState string `json:"task_state"`
	// Heartbeat is the installer's last beat, "" when it wrote none.
	Heartbeat string `json:"heartbeat"`
	// DirWritten is the work directory's last write, "" when it has none.
	DirWritten string `json:"dir_written"`
}

// runIDPattern is what install-start accepts as a run id.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

// stale lists the run ids safe to remove, in order: never a task that is
// running or queued (another live run's installer), and never one whose
// installer beat (or whose directory was written) less than maxAge ago by
// the host's clock, since a run whose task just finished may not have read
// its result yet. A run with no time at all is kept unless it is a task
// alone (no directory, so no result anyone could still read).
func (r LeftoversReport) stale(maxAge time.Duration) []string {
	now, err := time.Parse(time.RFC3339Nano, r.Now)
	if err != nil {
		return nil
	}
	var out []string
	for _, run := range r.Runs {
		if !runIDPattern.MatchString(run.RunID) || run.TaskState == "Running" || run.TaskState == "Queued" {
			continue
		}
		last, known := latest(run.Heartbeat, run.DirWritten)
		switch {
		case known && now.Sub(last) < maxAge:
			continue
		case !known && (run.DirWritten != "" || run.Heartbeat != "" || run.TaskState == ""):
			continue
		}
		out = append(out, run.RunID)
	}
	slices.Sort(out)
	return out
}

// latest is the later of the RFC 3339 times given; known is false when
// none parses.
func latest(times ...string) (last time.Time, known bool) {
	for _, s := range times {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && (!known || t.After(last)) {
			last, known = t, true
		}
	}
	return last, known
}

// sweepLeftovers removes the tasks and work directories of earlier runs
// that were killed before their own cleanup (see LeftoversReport.stale for
// what counts as stale), best effort: a failure here never stops the
// install. It returns the task names it removed.
func (b *Backend) sweepLeftovers(ctx context.Context, t transport.Transport) []string {
	var r LeftoversReport
	if err := runScript(ctx, t, ScriptInstallLeftovers, nil, &r); err != nil {
		return nil
	}
	var removed []string
	for _, id := range r.stale(b.opts.SweepAfter) {
		var out struct {
			Removed bool `json:"removed"`
		}
		if err := runScript(ctx, t, ScriptInstallCleanup, runArgs{RunID: id}, &out); err == nil && out.Removed {
			removed = append(removed, TaskPrefix+id)
		}
	}
	return removed
}

// TaskPrefix starts the name of every installer task patchrun registers.
const TaskPrefix = "patchrun-"

// sweptLine is the install summary's note of what the sweep removed.
func sweptLine(removed []string) string {
	if len(removed) == 0 {
		return ""
	}
	return "removed leftovers of earlier runs: " + strings.Join(removed, ", ") + "\n"
}
