package runner

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// memJournal records what the runner journals. failResults makes every
// Result fail.
type memJournal struct {
	mu          sync.Mutex
	checkpoints []Checkpoint
	results     []report.HostResult
	failResults error
	failCPs     error
}

func (j *memJournal) Checkpoint(c Checkpoint) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failCPs != nil {
		return j.failCPs
	}
	j.checkpoints = append(j.checkpoints, c)
	return nil
}

func (j *memJournal) Result(r report.HostResult) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failResults != nil {
		return j.failResults
	}
	j.results = append(j.results, r)
	return nil
}

func (j *memJournal) of(host string) []Checkpoint {
	var out []Checkpoint
	for _, c := range j.checkpoints {
		if c.Host == host {
			out = append(out, c)
		}
	}
	return out
}

func journalFleet(t *testing.T) *fakeFleet {
	return newFleet(t,
		&fakeHost{name: "kernel", pending: []patch.Update{upd("linux-image", true, true), upd("curl", false, false)}},
		&fakeHost{name: "plain", pending: []patch.Update{upd("curl", false, false)}},
		&fakeHost{name: "down", dialErr: errors.New("connection refused")},
	)
}

func runJournaled(t *testing.T, f *fakeFleet, j Journal) (report.Report, *recorder) {
	t.Helper()
	rec := newRecorder(t)
	deps := f.deps()
	deps.Observer = rec
	deps.Journal = j
	plan := fastPlan(report.CmdPatch, f)
	plan.RunID = "20261205T021500Z-3f9c"
	rep, err := Run(context.Background(), plan, deps)
	if err != nil {
		t.Fatal(err)
	}
	return rep, rec
}

func stripTimes(r report.HostResult) report.HostResult {
	r.StartedAt, r.FinishedAt = time.Time{}, time.Time{}
	if r.Facts != nil {
		f := *r.Facts
		f.GatheredAt = time.Time{}
		r.Facts = &f
	}
	return r
}

func TestJournalGetsACheckpointAtEachPhaseWithWhatAResumeNeeds(t *testing.T) {
	j := &memJournal{}
	rep, _ := runJournaled(t, journalFleet(t), j)
	if rep.Summary.OK != 2 || rep.RunID != "20261205T021500Z-3f9c" {
		t.Fatalf("summary %+v, run id %q", rep.Summary, rep.RunID)
	}
	var phases []string
	var rebooting, installing, verifying *Checkpoint
	for _, c := range j.of("kernel") {
		phases = append(phases, string(c.Phase))
		c := c
		switch c.Phase {
		case report.PhaseRebooting:
			if c.BootIDBefore != "" {
				rebooting = &c
			}
		case report.PhaseInstalling:
			installing = &c
		case report.PhaseVerifying:
			verifying = &c
		}
	}
	want := "connecting facts scanning installing awaiting-batch rebooting rebooting waiting-down"
	if !strings.HasPrefix(strings.Join(phases, " "), want) {
		t.Errorf("kernel's checkpoints: %v; want them to start %s", phases, want)
	}
	if installing == nil || installing.Round != 1 || len(installing.Selected) != 2 || len(installing.Installed) != 0 {
		t.Errorf("installing checkpoint = %+v; want round 1, 2 selected, none installed yet", installing)
	}
	if rebooting == nil || rebooting.BootIDBefore != bootID("kernel", 0) || rebooting.Batch != 1 || len(rebooting.Installed) != 2 {
		t.Errorf("checkpoint before the reboot command = %+v; want boot id %s, batch 1, 2 installed", rebooting, bootID("kernel", 0))
	}
	if verifying == nil || verifying.Reboots != 1 {
		t.Errorf("verifying checkpoint = %+v; want 1 reboot counted", verifying)
	}
	if len(j.of("down")) == 0 || j.of("down")[0].Phase != report.PhaseConnecting {
		t.Errorf("an unreachable host's checkpoints = %+v", j.of("down"))
	}
}

func TestJournaledRunKeepsCompactResultsAndTheSameSummary(t *testing.T) {
	plainRep, _ := runPlan(t, context.Background(), fastPlan(report.CmdPatch, journalFleet(t)), journalFleet(t), nil)
	j := &memJournal{}
	rep, _ := runJournaled(t, journalFleet(t), j)

	if !reflect.DeepEqual(rep.Summary, plainRep.Summary) || rep.Summary.UpdatesInstalled != 3 {
		t.Errorf("journaled summary %+v, unjournaled %+v", rep.Summary, plainRep.Summary)
	}
	if len(j.results) != 3 {
		t.Fatalf("%d results journaled, want one per host", len(j.results))
	}
	full := map[string]report.HostResult{}
	for _, r := range j.results {
		full[r.Name] = r
	}
	for _, want := range plainRep.Hosts {
		got := full[want.Name]
		if !reflect.DeepEqual(stripTimes(got), stripTimes(want)) {
			t.Errorf("journaled result of %s differs from an unjournaled run's:\n got %+v\nwant %+v", want.Name, got, want)
		}
	}
	k := byName(rep)["kernel"]
	if len(k.Updates) != 0 || len(k.Output) != 0 || k.Status != report.StatusOK || !k.Rebooted || k.RebootBatch != 1 {
		t.Errorf("in-memory result of kernel after journaling = %+v; want status and reboot facts, no update list or output", k)
	}
}

func TestJournalFailureKeepsTheHostGoingAndFullResultsInMemory(t *testing.T) {
	j := &memJournal{failResults: errors.New("disk full"), failCPs: errors.New("disk full")}
	rep, rec := runJournaled(t, journalFleet(t), j)
	if rep.Summary.OK != 2 || rep.Summary.UpdatesInstalled != 3 {
		t.Errorf("a failing journal changed the run: %+v", rep.Summary)
	}
	if !strings.Contains(rep.JournalError, "disk full") {
		t.Errorf("report journal_error = %q; want the journal failure noted", rep.JournalError)
	}
	if k := byName(rep)["kernel"]; len(k.Updates) != 2 {
		t.Errorf("kernel's result was compacted though the journal lost it: %+v", k.Updates)
	}
	logged := false
	for _, e := range rec.kinds(EventLog) {
		if e.Host == "kernel" && strings.Contains(e.Detail, "journal") && e.Err != nil {
			logged = true
		}
	}
	if !logged {
		t.Error("the journal failure was not logged on the host")
	}
}
