package cmd

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/fleet"
)

// --events writes a JSON line per event: every host's phases in order and
// exactly one host.done carrying the status that the report has.
func TestEventsStreamIsJSONLines(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 3})
	fl.Host(fl.Hosts()[2].Name).SetFaults(fleet.Faults{RejectAuth: true})
	path := filepath.Join(t.TempDir(), "events.jsonl")
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--events", path)
	if r.code != ExitHostsFailed {
		t.Fatalf("exit %d, want 2 (one host rejects auth); stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := map[string]string{}
	phases := map[string][]string{}
	sc := bufio.NewScanner(f)
	lines := 0
	for sc.Scan() {
		lines++
		var l eventLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", lines, err, sc.Text())
		}
		if l.Time.IsZero() || l.Event == "" {
			t.Errorf("line %d lacks time or event: %s", lines, sc.Text())
		}
		switch l.Event {
		case "host.done":
			if _, dup := done[l.Host]; dup {
				t.Errorf("%s: two host.done events", l.Host)
			}
			done[l.Host] = l.Status
		case "host.phase":
			phases[l.Host] = append(phases[l.Host], l.Phase)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, h := range rep.Hosts {
		if done[h.Name] != string(h.Status) {
			t.Errorf("%s: events say %q, report says %q", h.Name, done[h.Name], h.Status)
		}
		if len(phases[h.Name]) == 0 || phases[h.Name][0] != "connecting" {
			t.Errorf("%s: phases %v should start with connecting", h.Name, phases[h.Name])
		}
	}
	if ok := phases[fl.Hosts()[0].Name]; !strings.Contains(strings.Join(ok, ","), "scanning") {
		t.Errorf("healthy host never reported scanning: %v", ok)
	}
}

func TestEventsRefusesStdout(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 1})
	r := runCLI(t, nil, "scan", "-i", inv, "--events", "-")
	if r.code != ExitCantStart || !strings.Contains(r.stderr, "stdout carries only the result") {
		t.Errorf("--events -: exit %d, stderr %q", r.code, r.stderr)
	}
}
