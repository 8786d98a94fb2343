package cmd

import (
	"os"
	"os/exec"
	"testing"
)

// TestMain lets a test run patchrun as a real process: the test binary
// re-executed with envMain set is patchrun itself (signals, stdout's
// descriptor and SIGPIPE behave as for the installed binary).
func TestMain(m *testing.M) {
	if os.Getenv(envMain) == "1" {
		os.Exit(Main())
	}
	os.Exit(m.Run())
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
