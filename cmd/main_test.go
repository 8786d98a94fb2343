package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMain lets a test run patchrun as a real process: the test binary
// re-executed with envMain set is patchrun itself (signals, stdout's
// descriptor and SIGPIPE behave as for the installed binary).
func TestMain(m *testing.M) {
	if os.Getenv(envMain) == "1" {
		os.Exit(Main())
	}
	// Runs record themselves in a state directory: the tests' own, never
	// the user's (in process and in the processes they start).
	dir, err := os.MkdirTemp("", "patchrun-test-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	defaultStateDir = func(func(string) string) (string, error) { return filepath.Join(dir, "patchrun"), nil }
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const envMain = "PATCHRUN_TEST_RUN_MAIN"

// patchrunProcess returns a command that runs patchrun with args as its
// own process.
func patchrunProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(exe, args...)
	c.Env = append(os.Environ(), envMain+"=1")
	return c
}
