package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// checkEvents asserts what every run must hold: each host ends with exactly
// one EventHostEnd whose status matches its result (the recorder already
// fails on events after an end and on concurrent observer calls).
func checkEvents(t *testing.T, rep report.Report, rec *recorder) {
	t.Helper()
	ends := map[string]report.Status{}
	for _, e := range rec.kinds(EventHostEnd) {
		ends[e.Host] = e.Status
	}
	for _, h := range rep.Hosts {
		if n := rec.ended[h.Name]; n != 1 {
			t.Errorf("host %s: %d end events, want 1", h.Name, n)
		}
		if ends[h.Name] != h.Status {
			t.Errorf("host %s: end event status %q, result %q", h.Name, ends[h.Name], h.Status)
		}
		if h.Status != report.StatusOK && h.Error == "" {
			t.Errorf("host %s: status %s without an error text", h.Name, h.Status)
		}
		if h.Status == report.StatusOK && h.Error != "" {
			t.Errorf("host %s: ok with error %q", h.Name, h.Error)
		}
	}
	if got := len(rec.kinds(EventInterrupt)); got > 1 || (got == 1) != rep.Interrupted {
		t.Errorf("%d interrupt events, report interrupted=%v", got, rep.Interrupted)
	}
}

func TestScanReusesOneConnectionAndChangesNothing(t *testing.T) {
	f := newFleet(t,
		&fakeHost{name: "a", pending: []patch.Update{upd("openssl", true, false), upd("curl", false, false)}},
		&fakeHost{name: "b", factsReboot: true},
		&fakeHost{name: "c", pending: []patch.Update{upd("linux-image", true, true)}},
	)
	rep, rec := runPlan(t, context.Background(), fastPlan(report.CmdScan, f), f, nil)
	checkEvents(t, rep, rec)

	if got := []string{rep.Hosts[0].Name, rep.Hosts[1].Name, rep.Hosts[2].Name}; strings.Join(got, ",") != "a,b,c" {
		t.Errorf("hosts not in inventory order: %v", got)
	}
	for _, h := range rep.Hosts {
		fh := f.host(h.Name)
		if h.Status != report.StatusOK {
			t.Errorf("%s: status %s (%s)", h.Name, h.Status, h.Error)
		}
		if fh.dials != 1 || fh.opens != fh.closes {
			t.Errorf("%s: %d dials, %d opened, %d closed; want one connection, closed", h.Name, fh.dials, fh.opens, fh.closes)
		}
		if fh.installs != 0 || fh.reboots != 0 {
			t.Errorf("%s: scan installed %d times, rebooted %d times", h.Name, fh.installs, fh.reboots)
		}
		if h.OS != "fakeos 1" || h.PackageManager != "fakepm" {
			t.Errorf("%s: os %q pm %q", h.Name, h.OS, h.PackageManager)
		}
		want := []report.Phase{report.PhaseConnecting, report.PhaseFacts, report.PhaseScanning}
		if got := rec.phases(h.Name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: phases %v, want %v", h.Name, got, want)
		}
	}
	m := byName(rep)
	if len(m["a"].Updates) != 2 || m["a"].Updates[0].Installed {
		t.Errorf("a: updates %+v", m["a"].Updates)
	}
	if !m["b"].RebootRequired || len(m["b"].RebootReasons) == 0 || m["b"].Updates == nil {
		t.Errorf("b: reboot required %v reasons %v updates %v", m["b"].RebootRequired, m["b"].RebootReasons, m["b"].Updates)
	}
	if rep.Summary != (report.Summary{Hosts: 3, OK: 3, UpdatesFound: 3}) {
		t.Errorf("summary %+v", rep.Summary)
	}
	if logs := rec.kinds(EventLog); len(logs) == 0 {
		t.Error("no log events for -v")
	}
}

func TestPoolNeverExceedsForks(t *testing.T) {
	const hosts, forks = 20, 4
	gate := make(chan struct{})
	var fh []*fakeHost
	for i := range hosts {
		fh = append(fh, &fakeHost{name: fmt.Sprintf("h%02d", i), scanGate: gate})
	}
	f := newFleet(t, fh...)
	plan := fastPlan(report.CmdScan, f)
	plan.Forks = forks

	// Open the gate once forks calls are in flight at once: every worker is
	// then blocked in a scan, and a pool that over-schedules would show it.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(gate)
		timeout := time.After(10 * time.Second)
		for {
			select {
			case n := <-f.busyCh:
				if n >= forks {
					return
				}
			case <-timeout:
				t.Error("never saw forks calls in flight")
				return
			}
		}
	}()
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	wg.Wait()
	checkEvents(t, rep, rec)
	if f.maxBusy != forks {
		t.Errorf("max calls in flight %d, want exactly forks=%d", f.maxBusy, forks)
	}
	if rep.Summary.OK != hosts {
		t.Errorf("summary %+v", rep.Summary)
	}
}

func TestOneHostFailureDoesNotAffectOthers(t *testing.T) {
	tests := []struct {
		name      string
		bad       fakeHost
		status    report.Status
		kind      string
		phase     report.Phase
		errSubstr string
	}{
		{"unreachable", fakeHost{dialErr: transport.ErrUnreachable}, report.StatusUnreachable, "unreachable", report.PhaseConnecting, "connect:"},
		{"dial hangs past connect timeout", fakeHost{dialHang: true}, report.StatusUnreachable, "unreachable", report.PhaseConnecting, "unreachable"},
		{"auth rejected", fakeHost{dialErr: transport.ErrAuth}, report.StatusFailed, "auth", report.PhaseConnecting, "authentication failed"},
		{"host key changed", fakeHost{dialErr: transport.ErrHostKey}, report.StatusFailed, "host-key", report.PhaseConnecting, "host key"},
		{"connection drops in scan", fakeHost{scanErr: transport.ErrConnLost}, report.StatusFailed, "connection-lost", report.PhaseScanning, "scan: connection lost"},
		{"package manager fails", fakeHost{installErr: fmt.Errorf("%w: dpkg was interrupted", patch.ErrCommandFailed)},
			report.StatusFailed, "command-failed", report.PhaseInstalling, "install: command failed: dpkg was interrupted"},
		{"scan hangs past the step timeout", fakeHost{scanHang: true}, report.StatusFailed, "timeout", report.PhaseScanning,
			"scan: timed out after 30m0s"},
		{"backend panics", fakeHost{scanPanic: true}, report.StatusFailed, "internal", report.PhaseScanning, "internal error during scanning: boom"},
		{"one update fails", fakeHost{installFail: map[string]string{"pkg": "E: held"}},
			report.StatusFailed, "install", report.PhaseInstalling, "1 updates did not install: pkg (E: held)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bad := tt.bad
				bad.name = "bad"
				bad.pending = []patch.Update{upd("pkg", true, false)}
				f := newFleet(t,
					&fakeHost{name: "good1", pending: []patch.Update{upd("pkg", true, false)}},
					&bad,
					&fakeHost{name: "good2", pending: []patch.Update{upd("pkg", true, false)}},
				)
				plan := realTimePlan(report.CmdPatch, f)
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				checkEvents(t, rep, rec)
				m := byName(rep)
				b := m["bad"]
				if b.Status != tt.status || b.ErrorKind != tt.kind || b.Phase != tt.phase || !strings.Contains(b.Error, tt.errSubstr) {
					t.Errorf("bad host: status %s kind %q phase %s error %q; want %s %q %s ~%q",
						b.Status, b.ErrorKind, b.Phase, b.Error, tt.status, tt.kind, tt.phase, tt.errSubstr)
				}
				for _, g := range []string{"good1", "good2"} {
					if m[g].Status != report.StatusOK || !m[g].Updates[0].Installed {
						t.Errorf("%s hurt by another host: %+v", g, m[g])
					}
				}
				if rep.Summary.Failed+rep.Summary.Unreachable != 1 {
					t.Errorf("summary %+v, want the bad host failed", rep.Summary)
				}
				if b.Status == report.StatusFailed && errors.Is(rec.endErr("bad"), transport.ErrConnLost) != (tt.kind == "connection-lost") {
					t.Errorf("end event error %v does not keep its cause", rec.endErr("bad"))
				}
			})
		})
	}
}

func TestExec(t *testing.T) {
	f := newFleet(t,
		&fakeHost{name: "zero", execResult: transport.Result{ExitCode: 0, Stdout: []byte("hello\n")}},
		&fakeHost{name: "three", execResult: transport.Result{ExitCode: 3, Stderr: []byte("nope")}},
		&fakeHost{name: "chatty", execResult: transport.Result{ExitCode: 0, Stdout: []byte("0123456789")}},
		&fakeHost{name: "dropped", execErr: fmt.Errorf("session: %w", transport.ErrConnLost)},
	)
	plan := fastPlan(report.CmdExec, f)
	plan.ExecCommand = "uptime"
	plan.ExecMaxOutput = 8
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)
	m := byName(rep)
	if h := m["zero"]; h.Status != report.StatusOK || h.Exec == nil || h.Exec.Stdout != "hello\n" || h.Exec.ExitCode != 0 {
		t.Errorf("zero: %+v exec %+v", h, h.Exec)
	}
	if h := m["three"]; h.Status != report.StatusFailed || h.Error != "exit code 3" || h.Exec == nil || h.Exec.Stderr != "nope" {
		t.Errorf("three: %+v exec %+v", h, h.Exec)
	}
	if h := m["chatty"]; h.Exec == nil || h.Exec.Stdout != "01234567" || !h.Exec.Truncated {
		t.Errorf("chatty: output not bounded: %+v", h.Exec)
	}
	if h := m["dropped"]; h.Status != report.StatusFailed || h.ErrorKind != "connection-lost" || h.Exec != nil {
		t.Errorf("dropped: %+v", h)
	}
	if f.host("zero").installs+f.host("zero").reboots != 0 {
		t.Error("exec touched packages")
	}
	if rep.Summary.Failed != 2 {
		t.Errorf("summary %+v, want 2 failed", rep.Summary)
	}
}
