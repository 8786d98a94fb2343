package cmd

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

func TestWindowEndForms(t *testing.T) {
	now := time.Date(2026, 12, 6, 22, 15, 0, 0, time.Local)
	tests := []struct {
		in   string
		want time.Time
		err  string
	}{
		{"23:30", time.Date(2026, 12, 6, 23, 30, 0, 0, time.Local), ""},
		{"05:30", time.Date(2026, 12, 7, 5, 30, 0, 0, time.Local), ""}, // past today: tomorrow's, for a run over midnight
		{"3h", now.Add(3 * time.Hour), ""},
		{now.Add(time.Hour).Format(time.RFC3339), now.Add(time.Hour), ""},
		{"2026-12-06T20:00:00Z", time.Time{}, "has passed"},
		{"25:00", time.Time{}, "not a time of day"},
		{"0s", time.Time{}, "longer than 0"},
		{"-1h", time.Time{}, "longer than 0"},
		{"soon", time.Time{}, "want HH:MM"},
	}
	for _, tt := range tests {
		got, err := parseWindowEnd(tt.in, now)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "--window-end")):
			t.Errorf("%s: err %v, want one naming --window-end with %q", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || !got.Equal(tt.want)):
			t.Errorf("%s: %v %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestRolloutFlagsRefusedAtStart(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "hosts.yaml")
	body := "groups:\n  db: [db1]\n  web: [web1]\nhosts:\n  - name: db1\n    address: 192.0.2.1\n  - name: web1\n    address: 192.0.2.2\n"
	if err := os.WriteFile(inv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"patch", "--waves", "db,nosuch"}, `--waves "db,nosuch": wave 2 (nosuch)`},
		{[]string{"patch", "--waves", "db,,web"}, "wave 2 is empty"},
		{[]string{"reboot", "--waves", "nosuch"}, "--waves"},
		{[]string{"patch", "--window-end", "25:00"}, `--window-end "25:00": not a time of day`},
		{[]string{"reboot", "--window-end", "2020-01-01T00:00:00Z"}, "has passed"},
	}
	for _, tt := range tests {
		args := append(tt.args, "-i", inv, "--state-dir", t.TempDir(), "--connect-timeout", "1ms")
		r := runCLI(t, nil, args...)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: exit %d stderr %q, want 1 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

func TestRollingWavesOnASimulatedFleet(t *testing.T) {
	s := reportSchema(t)
	fl, inv := startFleet(t, fleet.Config{Count: 4})
	h := fl.Hosts()
	events := filepath.Join(t.TempDir(), "events.jsonl")
	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--state-dir", t.TempDir(), "--events", events,
		"--rolling", "--batch", "1,50%", "--waves", h[2].Name+","+h[0].Name, "--reboot", "always", "--reboot-timeout", "20s",
		"--window-end", "2h")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	validateReport(t, s, "patch --rolling --waves", []byte(r.stdout))
	if strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "the maintenance window ends at") || !strings.Contains(r.stderr, "(in 2h0m0s)") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	rep := decodeReport(t, r)
	wantWave := map[string]int{h[2].Name: 1, h[0].Name: 2, h[1].Name: 3, h[3].Name: 3}
	for _, res := range rep.Hosts {
		if res.Wave != wantWave[res.Name] || res.Status != "ok" {
			t.Errorf("%s: wave %d, want %d; %s %s", res.Name, res.Wave, wantWave[res.Name], res.Status, res.Error)
		}
	}

	// From the event stream: the canary (the first wave's host) ended
	// before any other host installed; each wave ended before the next began.
	f, err := os.Open(events)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var seen []eventLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e eventLine
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, e)
	}
	first := func(match func(eventLine) bool) int { return slices.IndexFunc(seen, match) }
	canaryDone := first(func(e eventLine) bool { return e.Event == "host.done" && e.Host == h[2].Name })
	othersInstall := first(func(e eventLine) bool {
		return e.Event == "host.phase" && e.Phase == "installing" && e.Host != h[2].Name
	})
	if canaryDone < 0 || othersInstall < canaryDone {
		t.Errorf("another host installed (line %d) before the canary ended (line %d)", othersInstall, canaryDone)
	}
	wave2 := first(func(e eventLine) bool { return e.Event == "wave.start" && e.Wave == 2 })
	wave1End := first(func(e eventLine) bool { return e.Event == "wave.end" && e.Wave == 1 })
	batch2 := first(func(e eventLine) bool { return e.Event == "batch.start" && e.Batch == 2 && e.Wave == 2 })
	if wave1End < 0 || wave2 < wave1End || batch2 < wave2 {
		t.Errorf("wave 1 end at line %d, wave 2 start at %d, its batch 2 at %d", wave1End, wave2, batch2)
	}
}

func TestRampWithoutRollingWarnsOnce(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 2})
	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--state-dir", t.TempDir(), "--batch", "1,50%", "--reboot-timeout", "20s")
	if r.code != ExitOK || strings.Count(r.stderr, "add --rolling") != 1 {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// A rolling run with waves killed as its second wave starts is resumed
// with the same waves and goes on with them: the first wave is not
// touched again, batch numbers carry on, every host is rebooted once.
func TestResumeOfARollingRunWithWaves(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 4, DownTime: 300 * time.Millisecond})
	h := fl.Hosts()
	stateDir := t.TempDir()
	killedPatch(t, inv, stateDir, func(e eventRecord) bool { return e.Event == "wave.start" && e.Wave == 2 },
		"--rolling", "--batch", "1,50%", "--waves", h[2].Name+","+h[0].Name, "--reboot", "always", "--reboot-timeout", "30s")

	events := filepath.Join(t.TempDir(), "resumed.jsonl")
	r := runCLI(t, nil, "resume", "--state-dir", stateDir, "-o", "json", "--no-progress", "--events", events)
	if r.code != ExitOK {
		t.Fatalf("resume exit %d; stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	got := map[string]report.HostResult{}
	for _, res := range rep.Hosts {
		got[res.Name] = res
		if sim := fl.Host(res.Name); res.Status != report.StatusOK || sim.Reboots() != 1 {
			t.Errorf("%s: %s, rebooted %d times: %s", res.Name, res.Status, sim.Reboots(), res.Error)
		}
	}
	canary, second, rest := got[h[2].Name], got[h[0].Name], got[h[1].Name]
	if canary.Wave != 1 || canary.RebootBatch != 1 || second.Wave != 2 || rest.Wave != 3 ||
		!(second.RebootBatch > 1 && rest.RebootBatch > second.RebootBatch && got[h[3].Name].RebootBatch == rest.RebootBatch) {
		t.Errorf("waves/batches: canary %d/%d, wave 2 %d/%d, last %d/%d and %d",
			canary.Wave, canary.RebootBatch, second.Wave, second.RebootBatch, rest.Wave, rest.RebootBatch, got[h[3].Name].RebootBatch)
	}
	if seen(events, func(e eventRecord) bool { return e.Event == "wave.start" && e.Wave == 1 }) ||
		!seen(events, func(e eventRecord) bool { return e.Event == "wave.start" && e.Wave == 3 }) {
		t.Error("the resumed run must start waves 2 and 3, not wave 1 again")
	}
}
