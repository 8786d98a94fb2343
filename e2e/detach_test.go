package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// slowSeconds is how long labslow 1.1 takes to configure.
const slowSeconds = "12"

// testKilledSessionDuringSlowInstall cuts patchrun's SSH session on the host
// (its sshd session process is killed from inside the host) while labslow's
// postinst is running, and checks that the transaction still completes
// (labslow 1.1 installed and configured, dpkg --audit empty, no job files
// left) and that patchrun reconnects, re-attaches to the same job and
// reports the true result: ok, labslow installed.
func testKilledSessionDuringSlowInstall(t *testing.T, l *lab, p patchrun) {
	host := l.hosts[len(l.hosts)-1].name
	l.run(t, "repo", "slow", "1.1", slowSeconds)
	events := filepath.Join(t.TempDir(), "events.jsonl")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := l.command(ctx, "run", "--", p.bin, "patch", "-i", l.inventory(), "-l", host, "--include", "labslow",
		"--reboot", "never", "-o", "json", "--no-progress", "-v", "--events", events)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()

	// Wait until labslow's postinst runs inside patchrun's transaction.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for configuring := false; !configuring; {
		select {
		case err := <-exited:
			t.Fatalf("patchrun ended (%v) before labslow was configuring\nstderr:\n%s", err, tail(stderr.String(), 3000))
		case <-ctx.Done():
			t.Fatal("labslow never started configuring")
		case <-tick.C:
		}
		configuring = strings.TrimSpace(l.exec(t, host, "test -e /run/labslow.configuring && echo yes; true")) == "yes"
	}
	// Kill every SSH session process of root (patchrun's), not the
	// listener, while the postinst has not finished.
	killed := l.exec(t, host, `test ! -e /run/labslow.configured || { echo too-late; exit 0; }
for pid in $(ps -eo pid=,args= | grep -E '^ *[0-9]+ sshd(-session)?: root@' | while read -r pid rest; do echo "$pid"; done); do
	kill "$pid" && echo "killed $pid"
done`)
	if strings.Contains(killed, "too-late") || !strings.Contains(killed, "killed ") {
		t.Fatalf("no session killed mid-install: %q", killed)
	}
	t.Logf("killed patchrun's SSH session on %s: %s", host, strings.TrimSpace(killed))

	var ee *exec.ExitError
	if err := <-exited; err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if code := c.ProcessState.ExitCode(); code != 0 {
		t.Errorf("patchrun exit %d, want 0\nstderr:\n%s", code, tail(stderr.String(), 3000))
	}
	if !strings.Contains(stderr.String(), "connection lost; reconnecting to re-attach") {
		t.Errorf("the link was cut but patchrun did not re-attach\nstderr:\n%s", tail(stderr.String(), 3000))
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no JSON report: %v\nstdout:\n%s", err, stdout.String())
	}
	h := rep.host(t, host)
	u, ok := h.update("labslow")
	if h.Status != "ok" || !ok || !u.Installed || u.Available != "1.1" {
		t.Errorf("%s: status %q error %q labslow %+v; want ok with labslow 1.1 installed", host, h.Status, h.Error, u)
	}

	// The host, independently of patchrun.
	state := l.exec(t, host, `echo "audit:$(dpkg --audit)"
dpkg-query -W -f='pkg:${Version} ${db:Status-Abbrev}\n' labslow
echo "configured:$(cat /run/labslow.configured 2>/dev/null)"
echo "jobs:$(ls -A /run/patchrun 2>/dev/null)"`)
	for _, want := range []string{"audit:\n", "pkg:1.1 ii \n", "configured:1.1\n", "jobs:\n"} {
		if !strings.Contains(state, want) {
			t.Errorf("%s after the cut: want %q in\n%s", host, want, state)
		}
	}
}

// testInterruptedDpkgIsReported leaves dpkg interrupted on a host (labslow
// 1.2 unpacked, never configured: what a package manager killed with its
// SSH session leaves behind), publishes labslow 1.3 and checks that patch
// reports the host failed
// with the exact repair command, starts nothing and repairs nothing; the
// repair command then makes the host consistent.
func testInterruptedDpkgIsReported(t *testing.T, l *lab, p patchrun) {
	host := l.hosts[len(l.hosts)-1].name
	l.run(t, "repo", "slow", "1.2", "1")
	l.exec(t, host, "dpkg --unpack /srv/labrepo/pool/lab-updates/labslow_1.2_all.deb >/dev/null")
	l.run(t, "repo", "slow", "1.3", "1") // something to install
	rep, code := p.run(t, 3*time.Minute, "patch", "-l", host, "--include", "labslow", "--reboot", "never")
	h := rep.host(t, host)
	if code != 2 || h.Status != "failed" || !strings.Contains(h.Error, "dpkg was interrupted") ||
		!strings.HasSuffix(h.Error, "repair with: dpkg --configure -a") {
		t.Errorf("exit %d, %s: status %q error %q; want exit 2, failed with the repair command", code, host, h.Status, h.Error)
	}
	if state := l.exec(t, host, "dpkg-query -W -f='${db:Status-Abbrev}' labslow; ls -A /run/patchrun 2>/dev/null; true"); state != "iU " {
		t.Errorf("%s: labslow %q after the refused patch; want still iU (nothing repaired, no job left)", host, state)
	}
	l.exec(t, host, "dpkg --configure -a >/dev/null")
	if audit := l.exec(t, host, "dpkg --audit"); audit != "" {
		t.Errorf("%s: dpkg --audit after the repair: %q", host, audit)
	}
}
