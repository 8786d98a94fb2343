package cmd

import (
	"errors"
	"fmt"
	"github.com/patchrun/patchrun/report"
	"strings"
	"syscall"
	"testing"
)

func TestExitCodeOfEveryOutcome(t *testing.T) {
	hosts := func(ss ...report.Status) []report.HostResult {
		var out []report.HostResult
		for _, s := range ss {
			out = append(out, report.HostResult{Status: s})
		}
		return out
	}
	writeFailed := &resultError{fmt.Errorf("write result: %w", syscall.ENOSPC)}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"all ok", outcome(report.Report{Hosts: hosts(report.StatusOK, report.StatusOK)}), ExitOK},
		{"skipped alone is fine", outcome(report.Report{Hosts: hosts(report.StatusOK, report.StatusSkipped)}), ExitOK},
		{"one failed", outcome(report.Report{Hosts: hosts(report.StatusOK, report.StatusFailed)}), ExitHostsFailed},
		{"one unreachable", outcome(report.Report{Hosts: hosts(report.StatusUnreachable, report.StatusOK)}), ExitHostsFailed},
		{"halted beats failed", outcome(report.Report{Halted: true, Hosts: hosts(report.StatusFailed, report.StatusSkipped)}), ExitHalted},
		{"interrupted beats halted", outcome(report.Report{Interrupted: true, Halted: true, Hosts: hosts(report.StatusFailed)}), ExitInterrupted},
		{"window closed", outcome(report.Report{WindowClosed: true, Hosts: hosts(report.StatusOK, report.StatusSkipped)}), ExitWindowClosed},
		{"window closed beats failed", outcome(report.Report{WindowClosed: true, Hosts: hosts(report.StatusFailed, report.StatusSkipped)}), ExitWindowClosed},
		{"halted beats window closed", outcome(report.Report{Halted: true, WindowClosed: true, Hosts: hosts(report.StatusFailed)}), ExitHalted},
		{"a bad flag or inventory", errors.New("--forks 0: must be at least 1"), ExitCantStart},
		{"result not written", writeFailed, ExitResultNotWritten},
		{"result not written beats interrupted", errors.Join(writeFailed, errInterrupted), ExitResultNotWritten},
		{"result not written beats hosts failed", errors.Join(errHostsFailed, writeFailed), ExitResultNotWritten},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}

// A run outcome needs no message (the result says it); anything else,
// including a write failure joined with an outcome, is printed.
func TestErrorLinesSkipOutcomes(t *testing.T) {
	if got := errorLines(errHostsFailed); len(got) != 0 {
		t.Errorf("hosts failed printed %q", got)
	}
	got := errorLines(errors.Join(&resultError{fmt.Errorf("write result: %w", syscall.ENOSPC)}, errInterrupted))
	if len(got) != 1 || !strings.Contains(got[0], "no space left on device") {
		t.Errorf("write failure lines %q", got)
	}
}

// --help explains every exit code, from the one table.
func TestHelpListsEveryExitCode(t *testing.T) {
	r := runCLI(t, nil, "--help")
	for _, c := range []int{ExitOK, ExitCantStart, ExitHostsFailed, ExitHalted, ExitWindowClosed, ExitResultNotWritten, ExitInterrupted} {
		if !strings.Contains(r.stdout, fmt.Sprintf("\n  %-3d  ", c)) {
			t.Errorf("--help does not explain exit code %d:\n%s", c, r.stdout)
		}
	}
}
