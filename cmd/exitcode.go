package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/report"
)

// Exit codes: exitCodes is the only place they are explained (--help
// prints it), exitCode the only place an error becomes one.
const (
	ExitOK               = 0
	ExitCantStart        = 1
	ExitHostsFailed      = 2
	ExitHalted           = 3
	ExitWindowClosed     = 4
	ExitResultNotWritten = 5
	ExitInterrupted      = 130
)

// exitCodes is the table of exit codes, in the order that decides when
// several apply: the first that applies wins (without the result nothing
// else can be read).
func exitCodes() []struct {
	code    int
	meaning string
} {
	return []struct {
		code    int
		meaning string
	}{
		{ExitResultNotWritten, "the run finished but its result could not be written: stdout, the --events file or the --save-plan file"},
		{ExitInterrupted, "interrupted by SIGINT (Ctrl-C), SIGTERM or SIGHUP"},
		{ExitHalted, "halted: the failure budget was spent; hosts not yet rebooted are skipped"},
		{ExitWindowClosed, "stopped at the maintenance window's end (--window-end): some hosts were not patched; they are skipped"},
		{ExitHostsFailed, "the run finished; one or more hosts failed or were unreachable"},
		{ExitCantStart, "the run could not start: bad flags, inventory or config; no host was contacted"},
		{ExitOK, "every host is fine, or there was nothing to do (an empty --shard)"},
	}
}

// exitCodeHelp is the table as --help shows it.
func exitCodeHelp() string {
	var b strings.Builder
	b.WriteString("Exit codes (when several apply, the first listed wins):\n")
	for _, c := range exitCodes() {
		fmt.Fprintf(&b, "  %-3d  %s\n", c.code, c.meaning)
	}
	return strings.TrimRight(b.String(), "\n")
}

// The outcomes of a run that finished but was not all fine. Commands return
// them (alone or joined with a resultError) and exitCode maps them.
var (
	errHostsFailed  = errors.New("one or more hosts failed or were unreachable")
	errHalted       = errors.New("halted: the failure budget was spent")
	errInterrupted  = errors.New("interrupted")
	errWindowClosed = errors.New("the maintenance window closed")
)

// resultError is a failure to write the run's result: stdout, the
// --events file or the --save-plan file.
type resultError struct{ err error }

func (e *resultError) Error() string { return e.err.Error() }
func (e *resultError) Unwrap() error { return e.err }

// exitCode maps the error a command returned to the process exit code.
func exitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, new(*resultError)):
		return ExitResultNotWritten
	case errors.Is(err, errInterrupted):
		return ExitInterrupted
	case errors.Is(err, errHalted):
		return ExitHalted
	case errors.Is(err, errWindowClosed):
		return ExitWindowClosed
	case errors.Is(err, errHostsFailed):
		return ExitHostsFailed
	}
	return ExitCantStart
}

// outcome is a finished run's result as an error: nil when every host is
// fine. Hosts that had nothing to do (reboot --only-if-required on a host
// that needs none) are fine.
func outcome(r report.Report) error {
	switch {
	case r.Interrupted:
		return errInterrupted
	case r.Halted:
		return errHalted
	case r.WindowClosed:
		return errWindowClosed
	}
	for _, h := range r.Hosts {
		if h.Status == report.StatusFailed || h.Status == report.StatusUnreachable {
			return errHostsFailed
		}
	}
	return nil
}

// errorLines are the messages to print for a command's error: a run
// outcome alone prints nothing (the result on stdout says it all).
func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	// Only a join is split: a resultError never is.
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var lines []string
		for _, e := range joined.Unwrap() {
			lines = append(lines, errorLines(e)...)
		}
		return lines
	}
	switch err {
	case errHostsFailed, errHalted, errInterrupted, errWindowClosed:
		return nil
	}
	return []string{err.Error()}
}
