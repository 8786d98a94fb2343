package cmd

import (
	"bytes"
	"errors"
	"github.com/patchrun/patchrun/report"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/runner"
)

// rawControl returns the first character of s that a terminal would act
// on (newline and tab aside), or "" when there is none.
func rawControl(s string) string {
	for i, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			return string(r)
		}
	}
	return ""
}

// A remote `printf '\033]0;x\007'` (set the window title) reaches the text
// output escaped; JSON keeps the bytes.
func TestRemoteEscapesReachTextOutputEscaped(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 1})
	r := runCLI(t, nil, "exec", "-i", inv, "--", `printf '\033]0;x\007'`)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if c := rawControl(r.stdout); c != "" {
		t.Errorf("text output carries a raw %q:\n%q", c, r.stdout)
	}
	if !strings.Contains(r.stdout, `\x1b]0;x\x07`) {
		t.Errorf("text output lacks the escaped title sequence:\n%s", r.stdout)
	}
	r = runCLI(t, nil, "exec", "-i", inv, "-o", "json", "--", `printf '\033]0;x\007'`)
	if rep := decodeReport(t, r); rep.Hosts[0].Exec == nil || rep.Hosts[0].Exec.Stdout != "\x1b]0;x\x07" {
		t.Errorf("JSON is not byte-faithful: %+v", rep.Hosts[0].Exec)
	}
}

// Every remote field of the text result is escaped: OS, errors, package
// names and versions, the failed-host output block.
func TestTextOutputEscapesEveryRemoteField(t *testing.T) {
	evil := "\x1b]0;pwn\x07\x1b[2J\r\x00\x7f\u009b"
	r := report.Report{
		Command: report.CmdScan,
		Hosts: []report.HostResult{
			{Name: "web1", Status: report.StatusOK, OS: "Debian" + evil,
				Updates: []report.Update{{Update: patch.Update{Name: "pkg" + evil, Current: "1" + evil, Available: "2" + evil, Severity: evil}}}},
			{Name: "web2", Status: report.StatusFailed, Error: "scan: " + evil + "\nsecond line" + evil,
				Output: []report.StepOutput{{Step: "scan", Command: "apt-get " + evil, ExitCode: 100, Output: "E: " + evil + "\r\n"}}},
		},
	}
	var out bytes.Buffer
	if err := writeText(&out, r, layout{}); err != nil {
		t.Fatal(err)
	}
	if c := rawControl(out.String()); c != "" {
		t.Errorf("text output carries a raw %q:\n%q", c, out.String())
	}
	if !strings.Contains(out.String(), `\x1b]0;pwn\x07`) {
		t.Errorf("text output lacks the escaped form:\n%s", out.String())
	}
}

// Progress lines on a terminal and plain log lines escape host errors.
func TestObserversEscapeRemoteText(t *testing.T) {
	ev := runner.Event{Kind: runner.EventHostEnd, Host: "web1", Status: report.StatusFailed, Err: errors.New("boom \x1b]0;pwn\x07")}

	var bar bytes.Buffer
	b := newBarObserver(&bar, slog.New(slog.NewTextHandler(io.Discard, nil)), true, 1, report.CmdScan)
	b.Event(ev)
	b.Event(runner.Event{Kind: runner.EventLog, Host: "web1", Detail: "run", Output: "line \x1b[2J\n"})
	b.finish()
	if strings.Contains(bar.String(), "\x1b]0;pwn") || strings.Contains(bar.String(), "\x1b[2J") || !strings.Contains(bar.String(), `boom \x1b]0;pwn\x07`) {
		t.Errorf("progress output does not escape the host's error:\n%q", bar.String())
	}

	var plain bytes.Buffer
	l := &lineObserver{log: slog.New(slog.NewTextHandler(&plain, nil)), busy: newInflight()}
	l.Event(ev)
	if c := rawControl(plain.String()); c != "" || !strings.Contains(plain.String(), `\x1b]0;pwn\a`) {
		t.Errorf("log line does not escape the host's error:\n%q", plain.String())
	}
}

// An error message that echoes an inventory value escapes it.
func TestErrorMessagesEscapeInventoryValues(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	body := "hosts:\n  - name: web1\n    password_file: \"/nonexistent/x\\e]0;pwn\\a\"\n"
	if err := os.WriteFile(inv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "inventory", "-i", inv)
	if r.code != ExitCantStart {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if c := rawControl(r.stderr); c != "" || !strings.Contains(r.stderr, `x\x1b]0;pwn`) {
		t.Errorf("stderr does not escape the inventory value:\n%q", r.stderr)
	}
}
