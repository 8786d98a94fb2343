package cmd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/patchrun/patchrun/internal/fleet"
)

// failingWriter is a stdout whose writes fail, like /dev/full.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// Writing the result is part of the run: when stdout fails, the exit code
// says the result is missing (5), not that hosts failed (2) or all is
// well (0), and stderr says why.
func TestResultNotWrittenExitsFive(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 2})
	for _, args := range [][]string{
		{"scan", "-i", inv, "-o", "json"},
		{"scan", "-i", inv},
		{"inventory", "-i", inv},
		{"version"},
		{"--help"},
		{"scan", "-i", inv, "--shard", "3/3"}, // nothing to do: an empty result
	} {
		var errOut bytes.Buffer
		code := Run(context.Background(), args, Streams{In: strings.NewReader(""), Out: failingWriter{}, Err: &errOut})
		if code != ExitResultNotWritten {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", args, code, ExitResultNotWritten, errOut.String())
		}
		if strings.Count(errOut.String(), "no space left on device") != 1 {
			t.Errorf("%q: stderr does not say why, once: %q", args, errOut.String())
		}
	}
}

// The same through a real process: > /dev/full and a closed pipe.
func TestResultNotWrittenRealStdout(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 2})
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	for _, args := range [][]string{{"scan", "-i", inv, "-o", "json"}, {"version"}} {
		c := patchrunProcess(t, args...)
		var errOut bytes.Buffer
		c.Stdout, c.Stderr = full, &errOut
		if code := exitOf(t, c.Run()); code != ExitResultNotWritten {
			t.Errorf("%q > /dev/full: exit %d, want %d; stderr:\n%s", args, code, ExitResultNotWritten, errOut.String())
		}
	}

	// A reader that went away: EPIPE, not a silent death by SIGPIPE.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	c := patchrunProcess(t, "scan", "-i", inv, "-o", "json")
	var errOut bytes.Buffer
	c.Stdout, c.Stderr = w, &errOut
	err = c.Run()
	w.Close()
	if code := exitOf(t, err); code != ExitResultNotWritten || !strings.Contains(errOut.String(), "broken pipe") {
		t.Errorf("closed pipe: exit %d, want %d; stderr:\n%s", code, ExitResultNotWritten, errOut.String())
	}
}

func exitOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}
