package cmd

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/patchrun/patchrun/runner"
)

func TestExitCodeOfEveryOutcome(t *testing.T) {
	hosts := func(ss ...runner.Status) []runner.HostResult {
		var out []runner.HostResult
		for _, s := range ss {
			out = append(out, runner.HostResult{Status: s})
		}
		return out
	}
	writeFailed := &resultError{fmt.Errorf("write result: %w", syscall.ENOSPC)}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"all ok", outcome(runner.Report{Hosts: hosts(runner.StatusOK, runner.StatusOK)}), ExitOK},
		{"skipped alone is fine", outcome(runner.Report{Hosts: hosts(runner.StatusOK, runner.StatusSkipped)}), ExitOK},
		{"one failed", outcome(runner.Report{Hosts: hosts(runner.StatusOK, runner.StatusFailed)}), ExitHostsFailed},
		{"one unreachable", outcome(runner.Report{Hosts: hosts(runner.StatusUnreachable, runner.StatusOK)}), ExitHostsFailed},
		{"halted beats failed", outcome(runner.Report{Halted: true, Hosts: hosts(runner.StatusFailed, runner.StatusSkipped)}), ExitHalted},
		{"interrupted beats halted", outcome(runner.Report{Interrupted: true, Halted: true, Hosts: hosts(runner.StatusFailed)}), ExitInterrupted},
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
	for _, c := range []int{ExitOK, ExitCantStart, ExitHostsFailed, ExitHalted, ExitResultNotWritten, ExitInterrupted} {
		if !strings.Contains(r.stdout, fmt.Sprintf("\n  %-3d  ", c)) {
			t.Errorf("--help does not explain exit code %d:\n%s", c, r.stdout)
		}
	}
}
