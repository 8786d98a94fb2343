package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testRollingWaves runs `patch --rolling --batch 1,50% --waves db,web` on
// six hosts (two db, two web, two in no group) and checks from the event
// stream that the canary was installed, rebooted and verified before any
// other host installed anything, and that each wave ended before the next
// started.
func testRollingWaves(t *testing.T, l *lab, p patchrun) {
	version := l.nextVersion(t)
	l.run(t, "repo", "publish", version)
	hosts := l.freeHosts(t, 6, 6)
	db, web := hosts[0:2], hosts[2:4]
	inv := l.groupedInventory(t, map[string][]string{"db": db, "web": web})
	events := filepath.Join(t.TempDir(), "events.jsonl")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	c := l.command(ctx, "run", "--", p.bin, "patch", "-i", inv, "-l", strings.Join(hosts, ","),
		"--rolling", "--batch", "1,50%", "--waves", "db,web", "--window-end", "1h", "--max-unreachable", "2",
		"--reboot", "always", "-o", "json", "--no-progress", "--events", events, "--state-dir", t.TempDir())
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if code := exitCode(t, c.Run(), "patch --rolling"); code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, tail(stderr.String(), 3000))
	}
	t.Logf("TIMING patch --rolling --batch 1,50%% --waves db,web on %d hosts: %s", len(hosts), time.Since(start).Round(time.Millisecond))
	var rep struct {
		Hosts []struct {
			hostResult
			Wave int `json:"wave"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	wave := func(h string) int {
		switch {
		case slices.Contains(db, h):
			return 1
		case slices.Contains(web, h):
			return 2
		}
		return 3
	}
	for _, h := range rep.Hosts {
		u, _ := h.update("labsec")
		if h.Status != "ok" || !h.Rebooted || !u.Installed || u.Available != version || h.Wave != wave(h.Name) {
			t.Errorf("%s: status %s rebooted %v labsec %+v wave %d (want %d): %s", h.Name, h.Status, h.Rebooted, u, h.Wave, wave(h.Name), h.Error)
		}
	}

	evs := readEvents(t, events)
	first := func(match func(eventLine) bool) int { return slices.IndexFunc(evs, match) }
	last := func(match func(eventLine) bool) int {
		for i := len(evs) - 1; i >= 0; i-- {
			if match(evs[i]) {
				return i
			}
		}
		return -1
	}
	phase := func(p string, in func(string) bool) func(eventLine) bool {
		return func(e eventLine) bool { return e.Event == "host.phase" && e.Phase == p && in(e.Host) }
	}
	canary := db[0]
	is := func(h string) bool { return h == canary }
	isnt := func(h string) bool { return h != canary }
	installed, verified := first(phase("installing", is)), first(phase("verifying", is))
	done := first(func(e eventLine) bool { return e.Event == "host.done" && e.Host == canary })
	others := first(phase("installing", isnt))
	if installed < 0 || verified < installed || done < verified || others < done {
		t.Errorf("canary %s: installing at event %d, verifying (after its reboot) at %d, done at %d; another host installing at %d: the canary must be done first",
			canary, installed, verified, done, others)
	}
	for w := 1; w <= 2; w++ {
		inWave := func(n int) func(string) bool { return func(h string) bool { return wave(h) == n } }
		ended := last(func(e eventLine) bool { return e.Event == "host.done" && inWave(w)(e.Host) })
		next := first(phase("connecting", inWave(w+1)))
		started := first(func(e eventLine) bool { return e.Event == "wave.start" && e.Wave == w+1 })
		if ended < 0 || next < ended || started < ended {
			t.Errorf("wave %d's last host ended at event %d; wave %d started at %d, its first host connected at %d", w, ended, w+1, started, next)
		}
	}
	t.Logf("timeline:\n%s", timeline(evs))
}

// timeline is the run's wave, batch, install and end events, one a line.
func timeline(evs []eventLine) string {
	var b strings.Builder
	t0 := evs[0].Time
	for _, e := range evs {
		what := ""
		switch {
		case e.Event == "wave.start", e.Event == "wave.end":
			what = fmt.Sprintf("%s %d", e.Event, e.Wave)
		case e.Event == "batch.start":
			what = fmt.Sprintf("batch.start %d (wave %d)", e.Batch, e.Wave)
		case e.Event == "host.phase" && (e.Phase == "installing" || e.Phase == "rebooting" || e.Phase == "verifying" || e.Phase == "health"):
			what = e.Host + " " + e.Phase
		case e.Event == "host.done":
			what = e.Host + " done"
		default:
			continue
		}
		fmt.Fprintf(&b, "  +%6.1fs %s\n", e.Time.Sub(t0).Seconds(), what)
	}
	return b.String()
}

// groupedInventory writes a copy of the lab's inventory with groups, beside
// it (its key and known_hosts paths are relative to it).
func (l *lab) groupedInventory(t *testing.T, groups map[string][]string) string {
	t.Helper()
	base, err := os.ReadFile(l.inventory())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.Write(base)
	b.WriteString("groups:\n")
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		fmt.Fprintf(&b, "  %s: [%s]\n", name, strings.Join(groups[name], ", "))
	}
	path := filepath.Join(l.state, "inventory-groups.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testWindowCloses runs a rolling patch whose maintenance window closes
// while the canary is in flight: the canary finishes, no other host
// installs anything (dpkg-query on the hosts), they end skipped with error
// kind window-closed, and the run exits 4. The canary's health check holds
// it in flight until the test releases it after the window's end, so the
// window closes during the canary however fast or loaded the lab is.
func testWindowCloses(t *testing.T, l *lab, p patchrun) {
	version := l.nextVersion(t)
	l.run(t, "repo", "publish", version)
	hosts := l.freeHosts(t, 3, 3)
	const release = "/var/tmp/patchrun-e2e-release" // survives the canary's reboot
	for _, h := range hosts {
		l.exec(t, h, "rm -f "+release)
	}
	windowEnd := time.Now().Add(40 * time.Second).Truncate(time.Second)
	type outcome struct {
		rep    report
		code   int
		stderr string
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, code, stderr, err := p.invoke(10*time.Minute, "patch", "-l", strings.Join(hosts, ","), "--rolling", "--batch", "1",
			"--window-end", windowEnd.Format(time.RFC3339), "--reboot", "always",
			"--health-cmd", "test -e "+release, "--health-timeout", "5m")
		done <- outcome{rep, code, stderr, err}
	}()
	select {
	case <-time.After(time.Until(windowEnd) + time.Second):
	case o := <-done:
		t.Fatalf("patchrun ended before its window closed: exit %d: %v\n%s", o.code, o.err, tail(o.stderr, 3000))
	}
	l.exec(t, hosts[0], "touch "+release)
	o := <-done
	if o.err != nil {
		t.Fatalf("patchrun: exit %d: %v", o.code, o.err)
	}
	rep, code := o.rep, o.code
	if code != 4 {
		t.Errorf("exit %d, want 4 (the window closed)\n%s", code, tail(o.stderr, 3000))
	}
	for i, name := range hosts {
		h := rep.host(t, name)
		got := strings.TrimSpace(l.exec(t, name, "dpkg-query -W -f='${Version}' labsec"))
		switch {
		case i == 0 && h.Status == "ok" && h.Rebooted && got == version:
		case h.Status == "skipped" && h.ErrorKind == "window-closed" && got != version && i > 0:
		default:
			t.Errorf("%s (batch %d): status %s kind %q rebooted %v, labsec %s on the host (published %s): %s",
				name, i+1, h.Status, h.ErrorKind, h.Rebooted, got, version, h.Error)
		}
	}
}
