package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testResumeAfterKill starts a patch that reboots its hosts in at least
// three batches, kills it with SIGKILL in the second batch, once its reboot
// commands are out (no signal handler runs, nothing is cleaned up), and has
// `patchrun resume`
// finish the run: every host ends ok, the report lists every host, and the
// boot log proves that no host was rebooted twice.
func testResumeAfterKill(t *testing.T, l *lab, p patchrun) {
	// The last hosts (the earlier steps used the first ones), at most 6,
	// in batches of a third of them: three batches or more.
	hosts := l.names()[max(0, len(l.hosts)-6):]
	batch := max(1, len(hosts)/3)
	stateDir := t.TempDir()
	events := filepath.Join(t.TempDir(), "events.jsonl")
	_, logFrom := l.bootLog(t, 0)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := l.command(ctx, "run", "--", p.bin, "patch", "-i", l.inventory(), "-l", strings.Join(hosts, ","),
		"--reboot", "always", "--batch", fmt.Sprint(batch), "-o", "json", "--no-progress",
		"--events", events, "--state-dir", stateDir)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	// Kill once every host of batch 2 has been sent its reboot: they go
	// down and come back while no patchrun watches, and the resumed run
	// must tell that from its boot ids.
wait:
	for {
		sent := map[string]bool{}
		for _, e := range readEvents(t, events) {
			if e.Event == "host.phase" && e.Phase == "waiting-down" && e.Batch == 2 {
				sent[e.Host] = true
			}
		}
		if len(sent) == batch {
			break wait
		}
		select {
		case err := <-exited:
			t.Fatalf("patchrun ended (%v) before batch 2's reboots\nstderr:\n%s", err, tail(stderr.String(), 3000))
		case <-ctx.Done():
			t.Fatalf("batch 2's reboots never started: %v", ctx.Err())
		case <-tick.C:
		}
	}
	// `lab run` execs patchrun: c.Process is patchrun itself.
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	killedAt := time.Now()
	t.Logf("killed patchrun in batch 2; stderr:\n%s", tail(stderr.String(), 1500))

	resume := func(args ...string) (report, int, string) {
		t.Helper()
		full := append([]string{"run", "--", p.bin, "resume", "--state-dir", stateDir, "-o", "json", "--no-progress"}, args...)
		var out, errb bytes.Buffer
		rc := l.command(ctx, full...)
		rc.Stdout, rc.Stderr = &out, &errb
		code := exitCode(t, rc.Run(), "patchrun resume")
		var rep report
		if code != 1 {
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("resume: exit %d, no JSON report: %v\nstdout:\n%s\nstderr:\n%s", code, err, out.String(), tail(errb.String(), 4000))
			}
		}
		return rep, code, errb.String()
	}
	rep, code, errText := resume()
	if testing.Verbose() {
		t.Logf("resume stderr (tail):\n%s", tail(errText, 3000))
	}
	t.Logf("TIMING resume after kill -9: %s (exit %d)", time.Since(killedAt).Round(time.Millisecond), code)
	if code != 0 {
		t.Errorf("resume exit %d, want 0\nstderr:\n%s", code, tail(errText, 4000))
	}
	if len(rep.Hosts) != len(hosts) || rep.Summary.Hosts != len(hosts) || rep.Summary.OK != len(hosts) {
		t.Errorf("resumed report: %d hosts, summary %+v; want all %d ok", len(rep.Hosts), rep.Summary, len(hosts))
	}
	for _, name := range hosts {
		h := rep.host(t, name)
		if h.Status != "ok" || !h.Rebooted || h.RebootBatch == 0 {
			t.Errorf("%s: status %q rebooted %v batch %d (error %q)", name, h.Status, h.Rebooted, h.RebootBatch, h.Error)
		}
	}
	// The boot log, written by the hosts' init and supervisor, not by
	// patchrun: one boot per host over both runs.
	evs, _ := l.bootLog(t, logFrom)
	ups := map[string]int{}
	for _, e := range evs {
		if e.up {
			ups[e.host]++
		}
	}
	for _, name := range hosts {
		if ups[name] != 1 {
			t.Errorf("%s booted %d times over the killed run and its resume, want 1", name, ups[name])
		}
	}

	// The run is finished now: resuming it again is refused.
	if _, code, errText := resume(); code != 1 || !strings.Contains(errText, "no interrupted patch or reboot run") {
		t.Errorf("second resume: exit %d, stderr %q; want 1 and no interrupted run", code, errText)
	}
}
