package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/tail"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// report.Command lines the fake backend sends; the runner only sees them as text.
const (
	probeLine  = "command -v apt-get"
	aptInstall = "apt-get -y install openssl"
	aptList    = "apt list --upgradable"
	dnfInstall = "dnf -y upgrade openssl"
	dnfCheck   = "dnf check-update"
)

var (
	probeOK = transport.Result{Stdout: []byte("/usr/bin/apt-get\n")}
	// aptFailure is what a failed apt-get install prints: progress on
	// stdout, the reason on stderr.
	aptFailure = transport.Result{
		ExitCode: 100,
		Stdout:   []byte("Reading package lists...\nBuilding dependency tree...\n0 upgraded, 1 newly installed\n"),
		Stderr:   []byte("E: Failed to fetch http://deb.debian.org/pool/openssl.deb  404  Not Found\nE: Unable to fetch some archives\n"),
	}
	aptFailureTail = "E: Failed to fetch http://deb.debian.org/pool/openssl.deb  404  Not Found\nE: Unable to fetch some archives\n" +
		"Reading package lists...\nBuilding dependency tree...\n0 upgraded, 1 newly installed"
	aptListed = transport.Result{Stdout: []byte("Listing...\nopenssl/stable 3.0.15 amd64 [upgradable from: 3.0.14]\n")}
)

// outputHost is a host "h" whose backend probes, then runs commands
// answered from runs.
func outputHost(runs map[string]transport.Result) *fakeHost {
	runs[probeLine] = probeOK
	return &fakeHost{name: "h", pending: []patch.Update{upd("openssl", true, false)}, runs: runs, probeLine: probeLine}
}

// logWithOutput is an EventLog that carried output: which line and what.
type logWithOutput struct{ detailPrefix, output string }

func TestStepOutputInReportAndEvents(t *testing.T) {
	tests := []struct {
		name       string
		host       func() *fakeHost
		cmd        report.Command
		wantStatus report.Status
		want       []report.StepOutput
		wantLogs   []logWithOutput // every EventLog of the run with an Output, in order
		wantError  string          // the host's one-line error, when it failed
	}{
		{
			name: "failed install keeps its tail, once",
			host: func() *fakeHost {
				h := outputHost(map[string]transport.Result{aptInstall: aptFailure, aptList: aptListed})
				h.installLines = []string{aptInstall, aptList}
				return h
			},
			cmd: report.CmdPatch, wantStatus: report.StatusFailed,
			want:     []report.StepOutput{{Step: "install round 1: 1 updates", Command: aptInstall, ExitCode: 100, Output: aptFailureTail}},
			wantLogs: []logWithOutput{{"install round 1", aptFailureTail}},
			// The tail is in Output once; the error is one line.
			wantError: "install: " + aptInstall + ": exit status 100: command failed: E: Unable to fetch some archives",
		},
		{
			name: "the backend's own excerpt is the install's output",
			host: func() *fakeHost {
				h := outputHost(map[string]transport.Result{aptInstall: aptFailure})
				h.installLines = []string{aptInstall}
				h.installOut = "openssl: 404 Not Found"
				return h
			},
			cmd: report.CmdPatch, wantStatus: report.StatusFailed,
			want:     []report.StepOutput{{Step: "install round 1: 1 updates", Command: aptInstall, ExitCode: 100, Output: "openssl: 404 Not Found"}},
			wantLogs: []logWithOutput{{"install round 1", "openssl: 404 Not Found"}},
		},
		{
			name: "a later check exiting non-zero as data does not hide the failed install",
			host: func() *fakeHost {
				h := outputHost(map[string]transport.Result{
					dnfInstall: {ExitCode: 1, Stderr: []byte("Error: Transaction test error:\n  file /usr/lib64/libssl.so.3 conflicts\n")},
					dnfCheck:   {ExitCode: 100, Stdout: []byte("openssl.x86_64  1:3.0.7-27.el9  baseos\n")},
				})
				h.installLines = []string{dnfInstall, dnfCheck}
				return h
			},
			cmd: report.CmdPatch, wantStatus: report.StatusFailed,
			want: []report.StepOutput{{Step: "install round 1: 1 updates", Command: dnfInstall, ExitCode: 1,
				Output: "Error: Transaction test error:\n  file /usr/lib64/libssl.so.3 conflicts"}},
			wantLogs: []logWithOutput{{"install round 1", "Error: Transaction test error:\n  file /usr/lib64/libssl.so.3 conflicts"}},
		},
		{
			name: "a successful install is kept too",
			host: func() *fakeHost {
				h := outputHost(map[string]transport.Result{aptInstall: {Stdout: []byte("Setting up openssl (3.0.15-1) ...\n")}})
				h.installLines = []string{aptInstall}
				return h
			},
			cmd: report.CmdPatch, wantStatus: report.StatusOK,
			want:     []report.StepOutput{{Step: "install round 1: 1 updates", Command: aptInstall, Output: "Setting up openssl (3.0.15-1) ..."}},
			wantLogs: []logWithOutput{{"install round 1", "Setting up openssl (3.0.15-1) ..."}},
		},
		{
			name: "a failed scan shows its command's tail in that command's log line",
			host: func() *fakeHost {
				h := outputHost(map[string]transport.Result{
					dnfCheck: {ExitCode: 1, Stderr: []byte("Error: Failed to download metadata for repo 'baseos'\n")},
				})
				h.scanLine = dnfCheck
				return h
			},
			cmd: report.CmdScan, wantStatus: report.StatusFailed,
			want:     []report.StepOutput{{Step: "scan", Command: dnfCheck, ExitCode: 1, Output: "Error: Failed to download metadata for repo 'baseos'"}},
			wantLogs: []logWithOutput{{`run "dnf check-update"`, "Error: Failed to download metadata for repo 'baseos'"}},
		},
		{
			name: "output that did not parse is shown by the failed step",
			host: func() *fakeHost {
				h := outputHost(map[string]transport.Result{aptList: {Stdout: []byte("WARNING: apt does not have a stable CLI interface\n")}})
				h.scanLine = aptList
				h.scanErr = fmt.Errorf("scan: unexpected line: %w", patch.ErrCommandFailed)
				return h
			},
			cmd: report.CmdScan, wantStatus: report.StatusFailed,
			want:     []report.StepOutput{{Step: "scan", Command: aptList, Output: "WARNING: apt does not have a stable CLI interface"}},
			wantLogs: []logWithOutput{{"scan (", "WARNING: apt does not have a stable CLI interface"}},
		},
		{
			name: "a connection lost mid-install has no exit code",
			host: func() *fakeHost {
				h := outputHost(map[string]transport.Result{})
				h.runErrs = map[string]error{aptInstall: fmt.Errorf("session: %w", transport.ErrConnLost)}
				h.installLines = []string{aptInstall}
				return h
			},
			cmd: report.CmdPatch, wantStatus: report.StatusFailed,
			want: []report.StepOutput{{Step: "install round 1: 1 updates", Command: aptInstall, ExitCode: -1}},
		},
		{
			name: "successful probes and scans carry no output",
			host: func() *fakeHost {
				h := outputHost(map[string]transport.Result{aptList: aptListed})
				h.scanLine = aptList
				return h
			},
			cmd: report.CmdScan, wantStatus: report.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, tt.host())
			rep, rec := runPlan(t, context.Background(), fastPlan(tt.cmd, f), f, nil)
			h := byName(rep)["h"]
			if h.Status != tt.wantStatus {
				t.Fatalf("status %s (%s), want %s", h.Status, h.Error, tt.wantStatus)
			}
			if tt.wantError != "" && h.Error != tt.wantError {
				t.Errorf("host error %q, want %q", h.Error, tt.wantError)
			}
			if strings.Contains(h.Error, "\n") {
				t.Errorf("host error spans lines: %q", h.Error)
			}
			if !equalOutputs(h.Output, tt.want) {
				t.Errorf("host output\n got %+v\nwant %+v", h.Output, tt.want)
			}
			var logs []logWithOutput
			for _, e := range rec.kinds(EventLog) {
				if e.Output != "" {
					logs = append(logs, logWithOutput{e.Detail, e.Output})
				}
			}
			if len(logs) != len(tt.wantLogs) {
				t.Fatalf("log lines with output\n got %q\nwant %q", logs, tt.wantLogs)
			}
			for i, w := range tt.wantLogs {
				if !strings.HasPrefix(logs[i].detailPrefix, w.detailPrefix) || logs[i].output != w.output {
					t.Errorf("log %d: %q with %q, want %q… with %q", i, logs[i].detailPrefix, logs[i].output, w.detailPrefix, w.output)
				}
			}
		})
	}
}

func equalOutputs(got, want []report.StepOutput) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestHugeOutputIsCutToTheCap(t *testing.T) {
	// A real transport keeps the first MiB of a stream (CapBuffer); build the
	// Result the same way from 2 MiB of numbered lines.
	var buf transport.CapBuffer
	for i := 0; !buf.Truncated(); i++ {
		fmt.Fprintf(&buf, "Unpacking package-%06d (1.0-%d) over (0.9) ...\n", i, i)
	}
	res := transport.Result{ExitCode: 1, Stdout: buf.Bytes(), Truncated: buf.Truncated()}
	lastKept := lastLine(string(res.Stdout))

	h := outputHost(map[string]transport.Result{aptInstall: res})
	h.installLines = []string{aptInstall}
	f := newFleet(t, h)
	rep, rec := runPlan(t, context.Background(), fastPlan(report.CmdPatch, f), f, nil)

	out := byName(rep)["h"].Output
	if len(out) != 1 {
		t.Fatalf("host output %d entries, want 1", len(out))
	}
	o := out[0]
	if len(o.Output) > tail.MaxBytes || strings.Count(o.Output, "\n")+1 > tail.MaxLines || !o.Truncated {
		t.Errorf("tail of %d bytes, %d lines, truncated %v: want at most %d bytes and %d lines, truncated",
			len(o.Output), strings.Count(o.Output, "\n")+1, o.Truncated, tail.MaxBytes, tail.MaxLines)
	}
	if !strings.HasSuffix(o.Output, lastKept) {
		t.Errorf("tail ends %q, want the last line kept %q", lastLine(o.Output), lastKept)
	}
	for _, e := range rec.kinds(EventLog) {
		if len(e.Output) > tail.MaxBytes {
			t.Errorf("event %q carries %d bytes of output", e.Detail, len(e.Output))
		}
	}
	doc, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) > 16<<10 {
		t.Errorf("report of one host is %d bytes: output not bounded", len(doc))
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func TestOutputNeverCarriesTheHostSecret(t *testing.T) {
	const secret = "hunter2-do-not-log"
	inst := outputHost(map[string]transport.Result{aptInstall: aptFailure})
	inst.name, inst.installLines = "inst", []string{aptInstall}
	scan := outputHost(map[string]transport.Result{dnfCheck: {ExitCode: 1, Stderr: []byte("Error: Failed to download metadata\n")}})
	scan.name, scan.scanLine = "scan", dnfCheck
	f := newFleet(t, inst, scan)
	plan := fastPlan(report.CmdPatch, f)
	for i := range plan.Hosts {
		plan.Hosts[i].Password = inventory.NewSecret(secret, "env:PATCHRUN_PASS")
	}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)

	// Everything shown as output was printed by the remote side.
	printed := string(aptFailure.Stdout) + string(aptFailure.Stderr) + "Error: Failed to download metadata\n"
	sawOutput := 0
	for _, e := range rec.events {
		text := e.Detail + e.Output
		if e.Err != nil {
			text += e.Err.Error()
		}
		if strings.Contains(text, secret) {
			t.Errorf("event leaks the secret: %+v", e)
		}
		for _, line := range strings.Split(e.Output, "\n") {
			if e.Output != "" && !strings.Contains(printed, line) {
				t.Errorf("event output line %q was not printed by the host", line)
			}
		}
		if e.Output != "" {
			sawOutput++
		}
	}
	if sawOutput != 2 {
		t.Errorf("%d events carried output, want 2 (the failed install, the failed scan command)", sawOutput)
	}
	doc, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), secret) {
		t.Error("the JSON report leaks the secret")
	}
}

func TestHostOutputKeepsTheNewestEntries(t *testing.T) {
	h := &hostRun{}
	for i := 1; i <= report.MaxStepOutputs+2; i++ {
		h.keepOutput(report.StepOutput{Step: fmt.Sprint(i)})
	}
	got := h.res.Output
	if len(got) != report.MaxStepOutputs || got[0].Step != "3" || got[len(got)-1].Step != fmt.Sprint(report.MaxStepOutputs+2) {
		t.Errorf("kept %d entries %v…%v, want %d from 3 to %d", len(got), got[0].Step, got[len(got)-1].Step,
			report.MaxStepOutputs, report.MaxStepOutputs+2)
	}
}
