package patch

import (
	"errors"
	"fmt"
	"github.com/patchrun/patchrun/internal/tail"
	"strings"
	"testing"
)

func TestCommandErrorIsOneLineWithTheTailAside(t *testing.T) {
	var stdout strings.Builder
	for i := range 30 {
		fmt.Fprintf(&stdout, "line %02d\n", i)
	}
	ce := NewCommandError("dnf upgrade", 1, []byte(stdout.String()), []byte("Error: Nothing to do\n\n"))
	err := fmt.Errorf("install: %w", ce)
	if got, want := err.Error(), "install: dnf upgrade: exit status 1: command failed: Error: Nothing to do"; got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	if !errors.Is(err, ErrCommandFailed) {
		t.Fatal("errors.Is(err, ErrCommandFailed) must hold")
	}
	if !strings.HasPrefix(ce.Output, "Error: Nothing to do\n") || !strings.HasSuffix(ce.Output, "line 29") {
		t.Fatalf("output tail %q", ce.Output)
	}

	// Without stderr the last stdout line says why; a reason of our own
	// spanning lines (message and hint) stays on one line.
	if got := NewCommandError("probe", 2, []byte("a\nlast\n"), nil).Error(); got != "probe: exit status 2: command failed: last" {
		t.Fatalf("text %q", got)
	}
	ce = &CommandError{Command: "scan.ps1", ExitCode: -1, Reason: "access denied\nhint: use an admin"}
	if got := ce.Error(); got != "scan.ps1: command failed: access denied; hint: use an admin" {
		t.Fatalf("text %q", got)
	}
}

func TestCommandErrorReasonIsBounded(t *testing.T) {
	ce := NewCommandError("x", 1, nil, []byte(strings.Repeat("y", 10000)))
	if len(ce.Error()) > maxReasonBytes+100 || len(ce.Output) > tail.MaxBytes {
		t.Fatalf("unbounded: text %d bytes, output %d bytes", len(ce.Error()), len(ce.Output))
	}
}
