package cmd

import (
	"bufio"
	"bytes"
	"context"
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

// --events never overwrites one of the run's inputs, whatever the
// spelling (a relative path, a hard link), never follows a symbolic link,
// and creates its file 0600 (it holds remote output).
func TestEventsPathIsCheckedBeforeWriting(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 1})
	dir := filepath.Dir(inv)
	hardLink := filepath.Join(t.TempDir(), "hosts-link.yaml")
	if err := os.Link(inv, hardLink); err != nil {
		t.Fatal(err)
	}
	symlink := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.Symlink(filepath.Join(dir, fleet.KnownHostsFile), symlink); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, name := range []string{filepath.Base(inv), fleet.KnownHostsFile, fleet.KeyFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = data
	}
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(dir, ".", "..", filepath.Base(dir), filepath.Base(inv)), "is the run's inventory"},
		{hardLink, "is the run's inventory"},
		{filepath.Join(dir, fleet.KnownHostsFile), "is the run's known_hosts file"},
		{filepath.Join(dir, fleet.KeyFile), "is the run's key file"},
		{symlink, "is a symbolic link"},
		{dir, "--events"},
	} {
		r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--events", tt.path)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("--events %s: exit %d, stderr %q; want exit 1 saying %q", tt.path, r.code, r.stderr, tt.want)
		}
		if r.stdout != "" {
			t.Errorf("--events %s: a refused run printed a result", tt.path)
		}
	}
	for name, data := range before {
		if now, _ := os.ReadFile(filepath.Join(dir, name)); string(now) != string(data) {
			t.Errorf("%s was overwritten", name)
		}
	}

	// The file stdout is redirected to (scan -o json --events r.json > r.json).
	result, err := os.Create(filepath.Join(t.TempDir(), "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer result.Close()
	var errOut bytes.Buffer
	if code := Run(context.Background(), []string{"scan", "-i", inv, "-o", "json", "--events", result.Name()},
		Streams{In: strings.NewReader(""), Out: result, Err: &errOut}); code != ExitCantStart || !strings.Contains(errOut.String(), "is where stdout goes") {
		t.Errorf("--events onto stdout's file: exit %d, stderr %q", code, errOut.String())
	}

	path := filepath.Join(t.TempDir(), "events.jsonl")
	if r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--events", path); r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("events file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}

// A failed events write is a run error: the run goes on and prints its
// result, says so under its own event name, and exits 5 with the reason.
func TestEventsWriteFailureIsARunError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	_, inv := startFleet(t, fleet.Config{Count: 2})
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--events", "/dev/full")
	if r.code != ExitResultNotWritten {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitResultNotWritten, r.stderr)
	}
	if rep := decodeReport(t, r); len(rep.Hosts) != 2 {
		t.Errorf("the result was not printed: %+v", rep)
	}
	if !strings.Contains(r.stderr, "msg=events.error") || strings.Contains(r.stderr, "msg=run.signal") {
		t.Errorf("the failure is not logged as events.error:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "patchrun: --events /dev/full: write /dev/full: no space left on device") {
		t.Errorf("the end of the run does not report the failure:\n%s", r.stderr)
	}
}
