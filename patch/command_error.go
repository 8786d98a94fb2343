package patch

import (
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/internal/tail"
)

// maxReasonBytes bounds the one line a CommandError's text quotes.
const maxReasonBytes = 200

// CommandError is a remote command that ran and failed. Its text is one
// line (command, exit status, the line that says why); the bounded tail of
// the output is in Output, for a report to show once. errors.Is(err,
// ErrCommandFailed) holds for it.
type CommandError struct {
	// Command names what ran: "apt-get install", "install-start.ps1".
	Command string
	// ExitCode is the command's exit status, -1 when the failure is not one
	// (a script that reported its own error, an installer task that failed).
	ExitCode int
	// Reason is one line saying why; empty, the output's last line is used.
	Reason string
	// Output is the end of the command's output, bounded as internal/tail bounds every excerpt.
	Output string
	// Cause, when set, is a sentinel the failure also is (ErrNoSuchJob).
	Cause error
}

// NewCommandError records a command that exited with exitCode, keeping a
// bounded tail of its output and its last meaningful line as the reason.
func NewCommandError(command string, exitCode int, stdout, stderr []byte) *CommandError {
	out, _ := tail.Output(stdout, stderr, tail.MaxLines, tail.MaxBytes)
	return &CommandError{Command: command, ExitCode: exitCode, Reason: tail.LastLine(stdout, stderr, maxReasonBytes), Output: out}
}

func (e *CommandError) Error() string {
	var b strings.Builder
	b.WriteString(e.Command)
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, ": exit status %d", e.ExitCode)
	}
	b.WriteString(": ")
	b.WriteString(ErrCommandFailed.Error())
	if r := oneLine(e.Reason); r != "" {
		b.WriteString(": ")
		b.WriteString(r)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrCommandFailed) true, and Is(err, Cause).
func (e *CommandError) Unwrap() []error {
	if e.Cause != nil {
		return []error{ErrCommandFailed, e.Cause}
	}
	return []error{ErrCommandFailed}
}

// oneLine puts a reason on one line: a multi-line reason (a message and
// its hint) is joined with "; ".
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
