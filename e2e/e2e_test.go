package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLab brings the lab up, drives the real patchrun binary through a whole
// patch cycle and the faults a fleet throws at it, and tears the lab down.
// The steps share the lab and run in order: each starts from the state the
// previous one left (which it checks).
func TestLab(t *testing.T) {
	n := requireLab(t)
	bin := buildPatchrun(t)
	l := newLab(t)
	l.up(t, n)
	p := patchrun{bin: bin, lab: l}

	steps := []struct {
		name string
		fn   func(*testing.T, *lab, patchrun)
	}{
		{"scan finds both updates and flags the security one", testScan},
		{"scan with advisory files shows CVEs, the known-exploited flag and vulnerable packages", testScanWithAdvisories},
		{"security-only patch installs only the security update", testSecurityOnly},
		{"facts reads each host's OS, boot, last install and address", testFacts},
		{"patch in batches of 5 keeps conffiles and reboots with new boot ids", testPatchBatches},
		{"exec returns per-host output and exit codes", testExec},
		{"scan works through packet loss", testPacketLoss},
		{"unreachable, changed host key and dpkg lock", testFaults},
		{"a host that never returns halts later batches", testNeverReturns},
		{"an abort during the reboot delay cancels the scheduled reboot", testAbortCancelsReboot},
		{"a saved plan installs the planned version, not one published since", testSavedPlan},
		{"resume finishes a patch killed with SIGKILL in its second batch, rebooting no host twice", testResumeAfterKill},
		{"two concurrent patch processes: each host patched once, the other run reports it locked", testConcurrentPatch},
		{"a rolling patch in waves: the canary is patched and rebooted before any other host installs; wave by wave", testRollingWaves},
		{"a rolling canary that fails its health check halts the run before any other host installs", testRollingCanaryFailsHealth},
		{"a maintenance window that closes during the canary: no other host installs, exit 4", testWindowCloses},
		// Last: it publishes a labslow update that stays pending elsewhere.
		{"an SSH session killed mid-install leaves the transaction complete", testKilledSessionDuringSlowInstall},
		{"a host with an interrupted dpkg is reported with the repair command", testInterruptedDpkgIsReported},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.fn(t, l, p) }) {
			// Later steps build on this one's end state.
			t.Errorf("stopping after %q failed", s.name)
			break
		}
	}
	t.Run("teardown leaves nothing behind", func(t *testing.T) { l.teardown(t) })
}

// wantUpdate checks one pending update of a scan.
func wantUpdate(t *testing.T, h hostResult, name, current, available string, security bool) {
	t.Helper()
	u, ok := h.update(name)
	if !ok {
		t.Errorf("%s: update %s missing (updates: %+v)", h.Name, name, h.Updates)
		return
	}
	if u.Current != current || u.Available != available || u.Security != security {
		t.Errorf("%s: %s = %s → %s security=%v; want %s → %s security=%v",
			h.Name, name, u.Current, u.Available, u.Security, current, available, security)
	}
}

func testScan(t *testing.T, l *lab, p patchrun) {
	rep, code := p.run(t, 3*time.Minute, "scan")
	if code != 0 {
		t.Errorf("scan exit %d, want 0", code)
	}
	if len(rep.Hosts) != len(l.hosts) {
		t.Fatalf("scan reported %d hosts, want %d", len(rep.Hosts), len(l.hosts))
	}
	for _, lh := range l.hosts {
		h := rep.host(t, lh.name)
		if h.Status != "ok" || h.Address != lh.ip {
			t.Errorf("%s: status %q address %q (error %q); want ok at %s", h.Name, h.Status, h.Address, h.Error, lh.ip)
			continue
		}
		if len(h.Updates) != 2 {
			t.Errorf("%s: %d updates, want labconf and labsec: %+v", h.Name, len(h.Updates), h.Updates)
		}
		wantUpdate(t, h, "labconf", "1.0", "1.1", false)
		wantUpdate(t, h, "labsec", "1.0", "1.1", true)
		if h.RebootRequired {
			t.Errorf("%s: reboot_required before any patch", h.Name)
		}
	}
	if rep.Summary.UpdatesFound != 2*len(l.hosts) {
		t.Errorf("summary.updates_found = %d, want %d", rep.Summary.UpdatesFound, 2*len(l.hosts))
	}
}

func testSecurityOnly(t *testing.T, l *lab, p patchrun) {
	_, mark := l.bootLog(t, 0)
	rep, code := p.run(t, 5*time.Minute, "patch", "--security-only", "--reboot", "never")
	if code != 0 {
		t.Errorf("patch --security-only exit %d, want 0", code)
	}
	for _, lh := range l.hosts {
		h := rep.host(t, lh.name)
		if h.Status != "ok" {
			t.Errorf("%s: status %q (%s), want ok", h.Name, h.Status, h.Error)
			continue
		}
		if u, ok := h.update("labsec"); !ok || !u.Installed {
			t.Errorf("%s: labsec not reported installed: %+v", h.Name, h.Updates)
		}
		if u, ok := h.update("labconf"); ok && u.Installed {
			t.Errorf("%s: labconf installed by a security-only run", h.Name)
		}
		if h.Rebooted {
			t.Errorf("%s: rebooted under --reboot never", h.Name)
		}
	}
	if rep.Summary.UpdatesInstalled != len(l.hosts) {
		t.Errorf("summary.updates_installed = %d, want %d", rep.Summary.UpdatesInstalled, len(l.hosts))
	}
	if evs, _ := l.bootLog(t, mark); len(evs) != 0 {
		t.Errorf("hosts went down under --reboot never: %v", evs)
	}
	// What the hosts really have, seen without patchrun.
	const want = "labconf=1.0 labsec=1.1 "
	if got := l.exec(t, l.hosts[0].name, "dpkg-query -W -f='${Package}=${Version} ' labconf labsec"); got != want {
		t.Errorf("%s: installed %q, want %q", l.hosts[0].name, got, want)
	}
	rep, _ = p.run(t, 3*time.Minute, "scan", "--no-refresh")
	for _, h := range rep.Hosts {
		if len(h.Updates) != 1 {
			t.Errorf("%s: after security-only, pending %+v; want labconf only", h.Name, h.Updates)
			continue
		}
		wantUpdate(t, h, "labconf", "1.0", "1.1", false)
	}
}

func testPatchBatches(t *testing.T, l *lab, p patchrun) {
	const batch = 5
	before := map[string]string{}
	for _, h := range l.hosts {
		before[h.name] = l.bootID(t, h.name)
	}
	_, mark := l.bootLog(t, 0)
	start := time.Now()
	out := t.TempDir()
	junitPath, jsonPath := filepath.Join(out, "junit.xml"), filepath.Join(out, "report.json")
	rep, code := p.run(t, 10*time.Minute, "patch", "--batch", strconv.Itoa(batch), "--state-dir", out,
		"--report", junitPath, "--report", jsonPath)
	t.Logf("TIMING patch + reboot of %d hosts in batches of %d: %s", len(l.hosts), batch, time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Errorf("patch exit %d, want 0", code)
	}
	perBatch := map[int]int{}
	batchOf := map[string]int{}
	for _, lh := range l.hosts {
		h := rep.host(t, lh.name)
		if h.Status != "ok" {
			t.Errorf("%s: status %q (%s: %s), want ok", h.Name, h.Status, h.ErrorKind, h.Error)
			continue
		}
		if u, ok := h.update("labconf"); !ok || !u.Installed {
			t.Errorf("%s: labconf not reported installed: %+v", h.Name, h.Updates)
		}
		if !h.Rebooted || h.RebootBatch < 1 {
			t.Errorf("%s: rebooted=%v batch=%d; its reboot flag was set", h.Name, h.Rebooted, h.RebootBatch)
		}
		perBatch[h.RebootBatch]++
		batchOf[h.Name] = h.RebootBatch
		if h.BootIDBefore == "" || h.BootIDBefore == h.BootIDAfter {
			t.Errorf("%s: boot id %q → %q, want a change", h.Name, h.BootIDBefore, h.BootIDAfter)
		}
		if h.BootIDBefore != before[h.Name] || h.BootIDAfter != l.bootID(t, h.Name) {
			t.Errorf("%s: report says boot %s → %s, the lab booted %s → %s",
				h.Name, h.BootIDBefore, h.BootIDAfter, before[h.Name], l.bootID(t, h.Name))
		}
		if h.RebootRequired {
			t.Errorf("%s: still reboot_required after its reboot", h.Name)
		}
	}
	for b, count := range perBatch {
		if count > batch {
			t.Errorf("reboot batch %d held %d hosts, want at most %d", b, count, batch)
		}
	}
	evs, _ := l.bootLog(t, mark)
	if most := maxDown(evs); most > batch || most == 0 {
		t.Errorf("at most %d hosts were down at once (boot log), want 1..%d", most, batch)
	} else {
		t.Logf("boot log: at most %d hosts down at once, %d batches", most, len(perBatch))
	}
	windows := batchWindows(evs, batchOf)
	for _, problem := range overlappingBatches(windows) {
		t.Error(problem)
	}
	for b := 1; b <= len(windows); b++ {
		w := windows[b]
		t.Logf("TIMING reboot batch %d (%d hosts): first down to last up %.1f s", b, perBatch[b], w.lastUp-w.firstDown)
	}
	for _, h := range l.hosts {
		if reboots(evs)[h.name] != 1 {
			t.Errorf("%s: went down %d times, want once", h.name, reboots(evs)[h.name])
		}
	}
	checkRunReports(t, rep, batchOf, junitPath, jsonPath)

	// The locally modified conffile survived; dpkg left the new one beside it.
	h0 := l.hosts[0].name
	conf := l.exec(t, h0, "cat /etc/labconf/labconf.conf")
	if !strings.Contains(conf, "local change made by the lab") || !strings.Contains(conf, "setting=1.0") {
		t.Errorf("%s: conffile lost its local change:\n%s", h0, conf)
	}
	if got := l.exec(t, h0, "cat /etc/labconf/labconf.conf.dpkg-dist 2>/dev/null; dpkg --audit; dpkg-query -W -f='${Version}' labconf"); !strings.Contains(got, "setting=1.1") || !strings.HasSuffix(got, "1.1") {
		t.Errorf("%s: want labconf 1.1 configured with its new conffile as .dpkg-dist, got:\n%s", h0, got)
	}

	rep, code = p.run(t, 3*time.Minute, "scan")
	if code != 0 {
		t.Errorf("final scan exit %d, want 0", code)
	}
	for _, h := range rep.Hosts {
		if len(h.Updates) != 0 || h.RebootRequired {
			t.Errorf("%s: after patch, pending %+v reboot_required=%v; want clean", h.Name, h.Updates, h.RebootRequired)
		}
	}
}

func testExec(t *testing.T, l *lab, p patchrun) {
	odd := l.hosts[2].name
	rep, code := p.run(t, 2*time.Minute, "exec", "--", fmt.Sprintf(`hostname; test "$(hostname)" != %s`, odd))
	if code != 2 {
		t.Errorf("exec with one failing host: exit %d, want 2", code)
	}
	for _, lh := range l.hosts {
		h := rep.host(t, lh.name)
		if h.Exec == nil {
			t.Errorf("%s: no exec result (status %s, %s)", h.Name, h.Status, h.Error)
			continue
		}
		wantCode, wantStatus := 0, "ok"
		if h.Name == odd {
			wantCode, wantStatus = 1, "failed"
		}
		if h.Exec.ExitCode != wantCode || h.Status != wantStatus {
			t.Errorf("%s: exit_code %d status %s, want %d %s", h.Name, h.Exec.ExitCode, h.Status, wantCode, wantStatus)
		}
		if strings.TrimSpace(h.Exec.Stdout) != h.Name {
			t.Errorf("%s: stdout %q, want its own hostname", h.Name, h.Exec.Stdout)
		}
	}
}

func testPacketLoss(t *testing.T, l *lab, p patchrun) {
	lossy := []string{l.hosts[4].name, l.hosts[5].name}
	for _, name := range lossy {
		l.fault(t, name, "loss", "on", "10")
	}
	t.Cleanup(func() {
		for _, name := range lossy {
			l.fault(t, name, "loss", "off")
		}
	})
	rep, code := p.run(t, 3*time.Minute, "scan")
	if code != 0 {
		t.Errorf("scan with 10%% loss on %v: exit %d, want 0", lossy, code)
	}
	for _, h := range rep.Hosts {
		if h.Status != "ok" || len(h.Updates) != 0 {
			t.Errorf("%s: status %q (%s) updates %+v; want ok and clean", h.Name, h.Status, h.Error, h.Updates)
		}
	}
}

func testFaults(t *testing.T, l *lab, p patchrun) {
	const lockSecs = 20
	refused, timedOut, newKey, locked := l.hosts[0].name, l.hosts[1].name, l.hosts[2].name, l.hosts[3].name
	l.run(t, "repo", "publish", "1.2")
	l.fault(t, refused, "sshd", "on")
	l.fault(t, timedOut, "link", "on")
	l.fault(t, newKey, "hostkey", "on")
	t.Cleanup(func() {
		l.fault(t, refused, "sshd", "off")
		l.fault(t, timedOut, "link", "off")
		l.fault(t, newKey, "hostkey", "off")
	})
	lockFrom := time.Now()
	l.fault(t, locked, "dpkglock", strconv.Itoa(lockSecs))

	// Batch size is not under test here (testPatchBatches covers it): halves keep the step short.
	rep, code := p.run(t, 10*time.Minute, "patch", "--batch", "50%", "--connect-timeout", "3s")
	if code != 2 {
		t.Errorf("patch with unreachable hosts: exit %d, want 2", code)
	}
	for _, name := range []string{refused, timedOut} {
		if h := rep.host(t, name); h.Status != "unreachable" {
			t.Errorf("%s: status %q (%s), want unreachable", name, h.Status, h.Error)
		}
	}
	if h := rep.host(t, newKey); h.Status == "ok" || h.ErrorKind != "host-key" {
		t.Errorf("%s: changed host key gave status %q kind %q (%s), want refused as host-key", newKey, h.Status, h.ErrorKind, h.Error)
	}
	for _, lh := range l.hosts[3:] {
		h := rep.host(t, lh.name)
		u1, ok1 := h.update("labconf")
		u2, ok2 := h.update("labsec")
		if h.Status != "ok" || !h.Rebooted || !ok1 || !ok2 || !u1.Installed || !u2.Installed || u2.Available != "1.2" || !u2.Security {
			t.Errorf("%s: status %q rebooted=%v updates %+v (%s); want both 1.2 updates installed and rebooted",
				h.Name, h.Status, h.Rebooted, h.Updates, h.Error)
		}
	}
	if rep.Summary.Unreachable != 2 || rep.Summary.OK != len(l.hosts)-3 {
		t.Errorf("summary %+v, want 2 unreachable and %d ok", rep.Summary, len(l.hosts)-3)
	}
	// The locked host waited for the lock rather than failing: its install
	// happened after the holder let go.
	installedAt, err := strconv.ParseInt(strings.TrimSpace(l.exec(t, locked, "stat -c %Y /var/lib/dpkg/info/labsec.list")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if released := lockFrom.Add(lockSecs * time.Second).Unix(); installedAt < released-1 {
		t.Errorf("%s: labsec installed at %d, before the dpkg lock was released at %d", locked, installedAt, released)
	}
}

func testNeverReturns(t *testing.T, l *lab, p patchrun) {
	const batch = 2
	l.run(t, "repo", "publish", "1.3")
	subset := l.names()[len(l.hosts)-6:]
	for _, name := range subset {
		l.fault(t, name, "noreturn", "on")
	}
	t.Cleanup(func() {
		for _, name := range subset {
			l.fault(t, name, "noreturn", "off")
		}
		l.run(t, "wait")
		// The hosts that never came back in time kept this run's lease
		// (patchrun could not reach them to release it); the run is over,
		// so remove it as an operator would.
		out := p.unlock(t, true, subset...)
		if n := strings.Count(out, ": removed the lease of run "); n != batch {
			t.Errorf("unlock --force removed %d leases, want the %d of the hosts that never returned:\n%s", n, batch, out)
		}
	})
	start := time.Now()
	rep, code := p.run(t, 10*time.Minute, "patch", "-l", strings.Join(subset, ","),
		"--batch", strconv.Itoa(batch), "--max-failures", "0", "--reboot-timeout", "20s")
	t.Logf("TIMING halted run: %s", time.Since(start).Round(time.Millisecond))
	if code != 3 || !rep.Halted {
		t.Errorf("exit %d halted=%v, want 3 and halted", code, rep.Halted)
	}
	if len(rep.Hosts) != len(subset) {
		t.Errorf("report has %d hosts, want the %d selected", len(rep.Hosts), len(subset))
	}
	failed, skipped := 0, 0
	for _, h := range rep.Hosts {
		switch {
		case h.RebootBatch == 1:
			failed++
			if h.Status != "failed" || h.ErrorKind != "reboot-timeout" {
				t.Errorf("%s (batch 1): status %q kind %q, want failed reboot-timeout", h.Name, h.Status, h.ErrorKind)
			}
		default:
			skipped++
			if h.Status != "skipped" || h.Rebooted || h.RebootBatch != 0 {
				t.Errorf("%s: status %q rebooted=%v batch=%d, want skipped and never rebooted", h.Name, h.Status, h.Rebooted, h.RebootBatch)
			}
		}
	}
	if failed != batch || skipped != len(subset)-batch {
		t.Errorf("%d hosts failed in batch 1 and %d skipped; want %d and %d", failed, skipped, batch, len(subset)-batch)
	}
}
