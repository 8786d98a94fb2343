//go:build unix

package cmd

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

// The first Ctrl-C must only stop scheduling (stop closes, ctx stays live);
// the second must cancel.
func TestInterruptsTwoStages(t *testing.T) {
	var errOut syncBuffer
	notify := func(msg string) { _, _ = errOut.Write([]byte(msg + "\n")) }
	ctx, stop, release := interrupts(context.Background(), notify)
	defer release()

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stop:
	case <-time.After(10 * time.Second):
		t.Fatal("first SIGINT did not close stop")
	}
	if ctx.Err() != nil {
		t.Fatal("first SIGINT cancelled the context; in-flight installs would be killed")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("second SIGINT did not cancel the context")
	}
	out := errOut.String()
	if !strings.Contains(out, "in-flight installs and reboots are finishing") || !strings.Contains(out, "aborting") {
		t.Errorf("interrupt messages missing from stderr: %q", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the signal goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A real Ctrl-C in the middle of a patch run: the install in flight must
// finish (a package manager is never killed mid-transaction), hosts not yet
// started must not be touched, nothing is rebooted, and the exit code is 130.
func TestCtrlCDuringPatchFinishesInFlightInstall(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{PerDistro: map[fleet.Distro]int{fleet.Debian12: 3}, InstallTime: 150 * time.Millisecond})
	hosts := fl.Hosts()
	first := fl.Host(hosts[0].Name)

	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--forks", "1") }()

	// Wait until the first host's real install (not the -s simulation) is
	// running, then interrupt once.
	deadline := time.After(30 * time.Second)
	for !installStarted(first.CommandsSeen()) {
		select {
		case r := <-done:
			t.Fatalf("run ended before the install started: exit %d\n%s", r.code, r.stderr)
		case <-deadline:
			t.Fatal("the first host's install never started")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var r cliResult
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("run did not end after Ctrl-C")
	}
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitInterrupted, r.stderr)
	}
	rep := decodeReport(t, r)
	if !rep.Interrupted {
		t.Error("report does not say interrupted")
	}
	if !strings.Contains(r.stderr, "msg=run.signal") || !strings.Contains(r.stderr, "press Ctrl-C again to abort") {
		t.Errorf("stderr does not tell the user what the first Ctrl-C does:\n%s", r.stderr)
	}
	if n := len(first.Pending()); n != 0 {
		t.Errorf("%s: %d updates still pending: the in-flight install was cut short", first.Name(), n)
	}
	if first.Reboots() != 0 {
		t.Errorf("%s: rebooted after Ctrl-C", first.Name())
	}
	if h := hostByName(t, rep, first.Name()); h.Status != report.StatusSkipped || !strings.Contains(h.Error, "reboot") {
		t.Errorf("%s: status %s error %q; want skipped saying the reboot did not happen", first.Name(), h.Status, h.Error)
	}
	for _, info := range hosts[1:] {
		sim := fl.Host(info.Name)
		if installStarted(sim.CommandsSeen()) {
			t.Errorf("%s: an install started after Ctrl-C", info.Name)
		}
		if h := hostByName(t, rep, info.Name); h.Status != report.StatusSkipped {
			t.Errorf("%s: status %s, want skipped", info.Name, h.Status)
		}
	}
}

func installStarted(commands []string) bool {
	for _, c := range commands {
		if strings.Contains(c, "apt-get -y") {
			return true
		}
	}
	return false
}
