package cmd

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

// killedPatch runs `patch` as its own process and kills it with SIGKILL
// at the first event of --events that kill matches: no handler runs,
// nothing is cleaned up, the journal stops where it was.
func killedPatch(t *testing.T, inv, stateDir string, kill func(eventRecord) bool, args ...string) string {
	t.Helper()
	return killedRun(t, kill, append([]string{"patch", "-i", inv, "-o", "json", "--no-progress", "--state-dir", stateDir}, args...)...)
}

// killedRun runs patchrun with args and --events as its own process and
// kills it with SIGKILL at the first event kill matches. It returns the
// --events file.
func killedRun(t *testing.T, kill func(eventRecord) bool, args ...string) string {
	t.Helper()
	events := filepath.Join(t.TempDir(), "events.jsonl")
	c := patchrunProcess(t, append(args, "--events", events)...)
	var errOut syncBuffer
	c.Stderr = &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	deadline := time.After(time.Minute)
	for !seen(events, kill) {
		select {
		case err := <-waited:
			t.Fatalf("%s ended before the kill: %v\n%s", args[0], err, errOut.String())
		case <-deadline:
			_ = c.Process.Kill()
			t.Fatalf("no event to kill at; stderr:\n%s", errOut.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-waited
	return events
}

type eventRecord struct {
	Event string `json:"event"`
	Host  string `json:"host"`
	Phase string `json:"phase"`
	Batch int    `json:"batch"`
	Wave  int    `json:"wave"`
}

func seen(events string, match func(eventRecord) bool) bool {
	f, err := os.Open(events)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e eventRecord
		if json.Unmarshal(sc.Bytes(), &e) == nil && match(e) {
			return true
		}
	}
	return false
}

func batchStart(n int) func(eventRecord) bool {
	return func(e eventRecord) bool { return e.Event == "batch.start" && e.Batch == n }
}

// batchRebooting matches once hosts hosts of batch n or later are going
// down: their reboot commands were answered.
func batchRebooting(n, hosts int) func(eventRecord) bool {
	down := map[string]bool{}
	return func(e eventRecord) bool {
		if e.Event == "host.phase" && e.Phase == "waiting-down" && e.Batch >= n {
			down[e.Host] = true
		}
		return len(down) == hosts
	}
}

func TestResumeFinishesAPatchKilledInItsSecondBatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		kill func(eventRecord) bool
	}{
		{"as the batch starts", batchStart(2)},
		// The batch's reboot commands are out: the hosts go down and come
		// back while no patchrun watches.
		{"while its hosts reboot", batchRebooting(2, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) { testResumeAfterKill(t, tc.kill) })
	}
}

func testResumeAfterKill(t *testing.T, kill func(eventRecord) bool) {
	fl, inv := startFleet(t, fleet.Config{Count: 6, DownTime: 700 * time.Millisecond})
	stateDir := t.TempDir()
	killedPatch(t, inv, stateDir, kill, "--batch", "2", "--reboot-timeout", "30s")

	r := runCLI(t, nil, "resume", "--state-dir", stateDir, "-o", "json", "--no-progress")
	if r.code != ExitOK {
		t.Fatalf("resume exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "resuming run ") {
		t.Errorf("stderr does not name the resumed run:\n%s", r.stderr)
	}
	rep := decodeReport(t, r)
	if len(rep.Hosts) != 6 || rep.Summary.OK != 6 || rep.RunID == "" {
		t.Fatalf("resumed report: %d hosts, summary %+v, run id %q", len(rep.Hosts), rep.Summary, rep.RunID)
	}
	batches := map[int]int{}
	for _, h := range rep.Hosts {
		sim := fl.Host(h.Name)
		if h.Status != report.StatusOK || !h.Rebooted || sim.Reboots() != 1 || len(sim.Pending()) != 0 {
			t.Errorf("%s: status %s rebooted %v, host rebooted %d times with %d updates pending: %s",
				h.Name, h.Status, h.Rebooted, sim.Reboots(), len(sim.Pending()), h.Error)
		}
		batches[h.RebootBatch]++
	}
	if batches[1] != 2 || batches[0] != 0 {
		t.Errorf("hosts per reboot batch %v: batch 1 (before the kill) must keep its 2 hosts", batches)
	}

	// Finished now: neither the latest nor this run by id resumes again.
	again := runCLI(t, nil, "resume", "--state-dir", stateDir)
	if again.code != ExitCantStart || !strings.Contains(again.stderr, "no interrupted patch or reboot run") {
		t.Errorf("second resume: exit %d, stderr %q", again.code, again.stderr)
	}
	byID := runCLI(t, nil, "resume", "--state-dir", stateDir, rep.RunID)
	if byID.code != ExitCantStart || !strings.Contains(byID.stderr, "run "+rep.RunID+" finished") {
		t.Errorf("resume of the finished run by id: exit %d, stderr %q", byID.code, byID.stderr)
	}
}

// A resumed run killed in its turn is resumed again: the journal holds
// both segments, and the second resume finishes with every host rebooted
// once.
func TestResumeOfAKilledResume(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 6, DownTime: 700 * time.Millisecond})
	stateDir := t.TempDir()
	// Each run is killed once its batch's reboot commands were answered: a
	// kill between a batch's start and its reboot commands may leave a
	// host whose reboot was journaled but never reached it, which the
	// resume gives a minute to go down on its own (resumeRebootGrace),
	// longer than killedRun waits.
	patchEvents := killedPatch(t, inv, stateDir, batchRebooting(2, 2), "--batch", "2", "--reboot-timeout", "30s")
	// The resume's batch numbers go on from the batches the journal shows
	// started: batch 3 is one the resume runs.
	killedRun(t, batchRebooting(3, 2), "resume", "--state-dir", stateDir, "-o", "json", "--no-progress")

	r := runCLI(t, nil, "resume", "--state-dir", stateDir, "-o", "json", "--no-progress")
	if r.code != ExitOK {
		t.Fatalf("second resume exit %d; stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	if len(rep.Hosts) != 6 || rep.Summary.OK != 6 {
		t.Fatalf("report: %d hosts, summary %+v", len(rep.Hosts), rep.Summary)
	}
	// The first run's --events file tells its own story: no resume
	// truncates it or writes to it.
	if !seen(patchEvents, batchStart(2)) || seen(patchEvents, batchStart(3)) {
		t.Errorf("the interrupted run's --events file was rewritten by a resume")
	}
	for _, h := range rep.Hosts {
		if n := fl.Host(h.Name).Reboots(); n != 1 || !h.Rebooted {
			t.Errorf("%s: rebooted %d times (report: %v, batch %d)", h.Name, n, h.Rebooted, h.RebootBatch)
		}
	}
}

// A host removed from the inventory before the resume is not contacted:
// it ends skipped with the reason, and the changed file is reported.
func TestResumeSkipsHostsRemovedFromTheInventory(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 6, DownTime: 700 * time.Millisecond})
	stateDir := t.TempDir()
	killedPatch(t, inv, stateDir, batchStart(2), "--batch", "2", "--reboot-timeout", "30s")

	last := fl.Hosts()[5].Name
	data, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	cut, ok := removeHost(string(data), last)
	if !ok {
		t.Fatalf("cannot remove %s from the inventory:\n%s", last, data)
	}
	if err := os.WriteFile(inv, []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "resume", "--state-dir", stateDir, "-o", "json", "--no-progress")
	if !strings.Contains(r.stderr, "changed since run") {
		t.Errorf("the changed inventory is not reported:\n%s", r.stderr)
	}
	rep := decodeReport(t, r)
	if len(rep.Hosts) != 6 {
		t.Fatalf("%d hosts in the report, want the run's 6", len(rep.Hosts))
	}
	h := hostByName(t, rep, last)
	if h.Status != report.StatusSkipped || !strings.Contains(h.Error, "removed from the inventory") || fl.Host(last).Reboots() != 0 {
		t.Errorf("%s: status %s error %q, rebooted %d times", last, h.Status, h.Error, fl.Host(last).Reboots())
	}
}

// removeHost cuts one host out of the simulator's inventory: its entry
// under hosts and its name in the groups.
func removeHost(inv, name string) (string, bool) {
	var out strings.Builder
	removed, skipping := false, false
	for _, line := range strings.SplitAfter(inv, "\n") {
		trimmed := strings.TrimSpace(line)
		if skipping && !strings.HasPrefix(trimmed, "- ") && trimmed != "" {
			continue // the entry's other keys
		}
		skipping = false
		if trimmed == "- name: "+name {
			skipping, removed = true, true
			continue
		}
		line = strings.NewReplacer("["+name+"]", "[]", name+", ", "", ", "+name+"]", "]").Replace(line)
		out.WriteString(line)
	}
	return out.String(), removed
}

func TestResumeRefusesWhatCannotBeResumed(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 1})
	stateDir := t.TempDir()
	if r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--state-dir", stateDir); r.code != ExitOK {
		t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "resume", "--state-dir", stateDir); r.code != ExitCantStart || !strings.Contains(r.stderr, "no interrupted patch or reboot run") {
		t.Errorf("resume with only a scan recorded: exit %d, stderr %q", r.code, r.stderr)
	}
	ids, err := os.ReadDir(filepath.Join(stateDir, "runs"))
	if err != nil || len(ids) != 1 {
		t.Fatalf("runs: %v %v", ids, err)
	}
	r := runCLI(t, nil, "resume", "--state-dir", stateDir, ids[0].Name())
	if r.code != ExitCantStart || !strings.Contains(r.stderr, "it is a scan: only patch and reboot runs can be resumed") {
		t.Errorf("resume of a scan: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "resume", "--state-dir", stateDir, "nonsense"); r.code != ExitCantStart || !strings.Contains(r.stderr, "is not a run id") {
		t.Errorf("resume nonsense: exit %d, stderr %q", r.code, r.stderr)
	}
}
