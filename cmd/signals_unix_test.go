//go:build unix

package cmd

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
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

// SIGHUP (a dropped terminal or SSH session) and SIGTERM (systemd, a CI
// runner) stop a real patchrun process as the first Ctrl-C does: the
// install in flight finishes, nothing new starts, the JSON report is still
// written and the exit code is 130. A second SIGHUP does not abort; a
// second SIGTERM does, and the report is still written.
func TestSignalsOnTheRealProcess(t *testing.T) {
	tests := []struct {
		name        string
		signals     []syscall.Signal
		installTime time.Duration // per package
		aborted     bool
		notices     []string
	}{
		{"SIGHUP", []syscall.Signal{syscall.SIGHUP}, 100 * time.Millisecond, false,
			[]string{"SIGHUP (terminal or session closed): no new work will start"}},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, 100 * time.Millisecond, false,
			[]string{"SIGTERM: no new work will start; in-flight installs and reboots are finishing (send SIGTERM again to abort them)"}},
		// An install that would take minutes: only the abort can end it.
		{"SIGTERM twice", []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}, time.Minute, true,
			[]string{"second signal, SIGTERM: aborting in-flight work"}},
		// A second SIGHUP is ignored: the SIGTERM after it is what aborts.
		{"SIGHUP twice", []syscall.Signal{syscall.SIGHUP, syscall.SIGHUP, syscall.SIGTERM}, time.Minute, true,
			[]string{"SIGHUP (terminal or session closed) again: ignored", "second signal, SIGTERM: aborting in-flight work"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl, inv := startFleet(t, fleet.Config{PerDistro: map[fleet.Distro]int{fleet.Debian12: 3}, InstallTime: tt.installTime})
			hosts := fl.Hosts()
			first := fl.Host(hosts[0].Name)
			c := patchrunProcess(t, "patch", "-i", inv, "-o", "json", "--forks", "1")
			var out bytes.Buffer
			var errOut syncBuffer
			c.Stdout, c.Stderr = &out, &errOut
			waited := startUntilInstall(t, c, first, &errOut)
			deadline := time.After(30 * time.Second)
			for i, sig := range tt.signals {
				if err := c.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				// A signal sent while the same one is still pending is
				// merged into it: wait until patchrun has seen each.
				for strings.Count(errOut.String(), "msg=run.signal") <= i {
					select {
					case <-deadline:
						_ = c.Process.Kill()
						t.Fatalf("no notice for signal %d; stderr:\n%s", i+1, errOut.String())
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
			var err error
			select {
			case err = <-waited:
			case <-time.After(2 * time.Minute):
				_ = c.Process.Kill()
				t.Fatalf("patchrun did not end after %v; stderr:\n%s", tt.signals, errOut.String())
			}
			if code := exitOf(t, err); code != ExitInterrupted {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitInterrupted, errOut.String())
			}
			rep := decodeReport(t, cliResult{stdout: out.String(), stderr: errOut.String()})
			if !rep.Interrupted || len(rep.Hosts) != 3 {
				t.Errorf("report: interrupted %v with %d hosts", rep.Interrupted, len(rep.Hosts))
			}
			for _, notice := range tt.notices {
				if !strings.Contains(errOut.String(), notice) {
					t.Errorf("stderr lacks %q:\n%s", notice, errOut.String())
				}
			}
			h := hostByName(t, rep, first.Name())
			if tt.aborted {
				if h.Status != report.StatusFailed || h.ErrorKind != "interrupted" {
					t.Errorf("%s: %s/%s %q; want failed, interrupted", h.Name, h.Status, h.ErrorKind, h.Error)
				}
			} else if n := len(first.Pending()); n != 0 || h.Status != report.StatusSkipped {
				t.Errorf("%s: %d updates pending, status %s: the in-flight install was cut short", h.Name, n, h.Status)
			}
			for _, info := range hosts[1:] {
				if installStarted(fl.Host(info.Name).CommandsSeen()) {
					t.Errorf("%s: an install started after %v", info.Name, tt.signals)
				}
			}
		})
	}
}

// startUntilInstall starts c and returns once the first host's install has
// begun; the channel then yields c.Wait's result.
func startUntilInstall(t *testing.T, c *exec.Cmd, first *fleet.SimHost, errOut *syncBuffer) <-chan error {
	t.Helper()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	deadline := time.After(30 * time.Second)
	for !installStarted(first.CommandsSeen()) {
		select {
		case err := <-waited:
			t.Fatalf("%s ended before the install started: %v\n%s", c.Args[1], err, errOut.String())
		case <-deadline:
			_ = c.Process.Kill()
			t.Fatal("the first host's install never started")
		case <-time.After(5 * time.Millisecond):
		}
	}
	return waited
}
