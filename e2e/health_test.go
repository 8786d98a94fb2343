package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// unhealthyMark makes a lab host's health check fail (the check tests for
// its absence).
const unhealthyMark = "/etc/patchrun-e2e-unhealthy"

// testRollingCanaryFailsHealth runs `patch --rolling --batch 1,50%
// --health-cmd … --max-failures 0` on four hosts whose canary never passes
// its health check: patchrun exits 3 (halted), the canary is failed with
// error_kind health after it was patched and rebooted, and no other host
// has the new package (dpkg-query on the hosts).
func testRollingCanaryFailsHealth(t *testing.T, l *lab, p patchrun) {
	version := l.nextVersion(t)
	l.run(t, "repo", "publish", version)
	hosts := l.freeHosts(t, 4, 4)
	canary, others := hosts[0], hosts[1:]
	installedVersion := func(h string) string {
		return strings.TrimSpace(l.exec(t, h, "dpkg-query -W -f='${Version}' labsec"))
	}
	before := map[string]string{}
	for _, h := range others {
		before[h] = installedVersion(h)
		if before[h] == version {
			t.Fatalf("%s already has labsec %s", h, version)
		}
	}
	l.exec(t, canary, "touch "+unhealthyMark)
	t.Cleanup(func() { l.exec(t, canary, "rm -f "+unhealthyMark) })
	events := filepath.Join(t.TempDir(), "events.jsonl")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	c := l.command(ctx, "run", "--", p.bin, "patch", "-i", l.inventory(), "-l", strings.Join(hosts, ","),
		"--rolling", "--batch", "1,50%", "--max-failures", "0", "--reboot", "always",
		"--pre-cmd", "echo draining $(hostname)", "--health-cmd", "test ! -e "+unhealthyMark, "--health-timeout", "12s",
		"-o", "json", "--no-progress", "--events", events, "--state-dir", t.TempDir())
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	code := exitCode(t, c.Run(), "patch --rolling --health-cmd")
	t.Logf("TIMING patch --rolling with a canary failing its 12s health check: %s", time.Since(start).Round(time.Millisecond))
	if code != 3 {
		t.Fatalf("exit %d, want 3 (halted by the failure budget)\nstderr:\n%s", code, tail(stderr.String(), 3000))
	}
	var rep struct {
		Halted   bool   `json:"halted"`
		HaltedBy string `json:"halted_by"`
		Hosts    []struct {
			hostResult
			Phase  string `json:"failed_phase"`
			Output []struct {
				Step   string `json:"step"`
				Output string `json:"output"`
			} `json:"output"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	if !rep.Halted || rep.HaltedBy != "failures" {
		t.Errorf("halted %v by %q, want halted by failures", rep.Halted, rep.HaltedBy)
	}
	for _, h := range rep.Hosts {
		if h.Name != canary {
			if h.Status != "skipped" || h.Rebooted {
				t.Errorf("%s: %s rebooted %v (%s); want skipped, untouched", h.Name, h.Status, h.Rebooted, h.Error)
			}
			continue
		}
		if h.Status != "failed" || h.ErrorKind != "health" || h.Phase != "health" || !h.Rebooted {
			t.Errorf("canary %s: %s/%s in %q, rebooted %v: %s; want failed by its health check after its reboot",
				h.Name, h.Status, h.ErrorKind, h.Phase, h.Rebooted, h.Error)
		}
		var steps []string
		for _, o := range h.Output {
			steps = append(steps, o.Step)
			if o.Step == "pre_cmd" && !strings.Contains(o.Output, "draining") {
				t.Errorf("canary's pre_cmd output %q", o.Output)
			}
		}
		if !slices.Contains(steps, "pre_cmd") || !slices.Contains(steps, "health_cmd") {
			t.Errorf("canary's output entries %q, want pre_cmd and health_cmd", steps)
		}
	}
	// What the hosts really have, seen without patchrun.
	if got := installedVersion(canary); got != version {
		t.Errorf("canary %s has labsec %q, want %s installed before its health check", canary, got, version)
	}
	for _, h := range others {
		if got := installedVersion(h); got != before[h] {
			t.Errorf("%s: labsec %q, was %q: a host after the failed canary installed", h, got, before[h])
		}
	}
	evs := readEvents(t, events)
	health := slices.IndexFunc(evs, func(e eventLine) bool { return e.Event == "host.phase" && e.Phase == "health" && e.Host == canary })
	verified := slices.IndexFunc(evs, func(e eventLine) bool { return e.Event == "host.phase" && e.Phase == "verifying" && e.Host == canary })
	if verified < 0 || health < verified {
		t.Errorf("canary verified at event %d, health check at %d: want the check after the verified reboot", verified, health)
	}
	t.Logf("timeline:\n%s", timeline(evs))
}
