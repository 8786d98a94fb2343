package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rebootDelay is the delay between scheduling a reboot (systemd-run
// --on-active) and the reboot that this test sets with reboot_delay: the
// default is too short to abort within.
const rebootDelay = 5 * time.Second

// delayedInventory is the lab's inventory with reboot_delay: 5s, written
// next to it (its key and known_hosts paths are relative).
func delayedInventory(t *testing.T, l *lab) string {
	t.Helper()
	b, err := os.ReadFile(l.inventory())
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "defaults:\n", "defaults:\n  reboot_delay: "+rebootDelay.String()+"\n", 1)
	if s == string(b) {
		t.Fatalf("no defaults: section in %s", l.inventory())
	}
	p := filepath.Join(filepath.Dir(l.inventory()), "inventory-reboot-delay.yaml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testAbortCancelsReboot starts a patch that reboots one host, aborts it
// (SIGTERM twice, as a service manager or a second Ctrl-C would) while the
// scheduled reboot is in its delay, and checks that the reboot never
// happens: the report says it was cancelled, the host keeps its boot id past
// the moment it would have rebooted, and the boot log shows no power-off.
func testAbortCancelsReboot(t *testing.T, l *lab, p patchrun) {
	host := l.hosts[0].name
	bootBefore := l.bootID(t, host)
	_, logFrom := l.bootLog(t, 0)
	events := filepath.Join(t.TempDir(), "events.jsonl")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := l.command(ctx, "run", "--", p.bin, "patch", "-i", delayedInventory(t, l), "-l", host,
		"--reboot", "always", "--batch", "1", "-o", "json", "--no-progress", "--events", events)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	// `lab run` execs patchrun in the control namespace: c.Process is
	// patchrun itself.
	waitEvent := func(what string, match func(eventLine) bool) time.Time {
		t.Helper()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, e := range readEvents(t, events) {
				if match(e) {
					return e.Time
				}
			}
			select {
			case err := <-exited:
				t.Fatalf("patchrun ended (%v) before %s\nstderr:\n%s", err, what, tail(stderr.String(), 3000))
			case <-ctx.Done():
				t.Fatalf("no %s: %v", what, ctx.Err())
			case <-tick.C:
			}
		}
	}
	scheduled := waitEvent("wait for the reboot", func(e eventLine) bool {
		return e.Event == "host.phase" && e.Host == host && e.Phase == "waiting-down"
	})
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Two signals sent at once may arrive as one: send the second only once
	// patchrun has taken the first.
	waitEvent("notice of the first SIGTERM", func(e eventLine) bool { return e.Event == "run.signal" })
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := <-exited; !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("patchrun exit: %v, want 130", err)
	}
	if since := time.Since(scheduled); since >= rebootDelay {
		t.Fatalf("the abort took %s, past the reboot's %s delay: nothing left to prove", since, rebootDelay)
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), tail(stderr.String(), 3000))
	}
	h := rep.host(t, host)
	if h.Status != "failed" || h.ErrorKind != "interrupted" || h.RebootCancel != "cancelled" || h.Rebooted ||
		!strings.HasSuffix(h.Error, "the scheduled reboot was cancelled") {
		t.Errorf("%s: status %q kind %q reboot_cancel %q rebooted %v error %q; want failed, interrupted, cancelled",
			h.Name, h.Status, h.ErrorKind, h.RebootCancel, h.Rebooted, h.Error)
	}
	// The timer is gone from the host at once…
	if units := strings.TrimSpace(l.exec(t, host, "ls /run/lab-units 2>/dev/null; true")); units != "" {
		t.Errorf("%s still holds scheduled units: %s", host, units)
	}
	// …and the reboot does not come: wait until it would have happened
	// (plus the lab's power-off margin) and look at the host and the boot
	// log, independently of patchrun. Proving that something does not
	// happen takes its time to pass.
	wait := time.NewTimer(time.Until(scheduled.Add(rebootDelay + 3*time.Second)))
	<-wait.C
	if after := l.bootID(t, host); after != bootBefore {
		t.Errorf("%s rebooted after the abort: boot id %s → %s", host, bootBefore, after)
	}
	evs, _ := l.bootLog(t, logFrom)
	for _, e := range evs {
		if e.host == host {
			t.Errorf("%s in the boot log after the abort: %+v", host, e)
		}
	}
}

// eventLine is one line of the --events stream.
type eventLine struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"`
	Host  string    `json:"host"`
	Phase string    `json:"phase"`
	Batch int       `json:"batch"`
	Wave  int       `json:"wave"`
}

// readEvents reads the --events file written so far (a missing file is an
// empty stream; a half-written last line is left for the next read).
func readEvents(t *testing.T, path string) []eventLine {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []eventLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e eventLine
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}
