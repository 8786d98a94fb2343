package windows_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
)

// An inventory's ready_command runs on a Windows host too, as PowerShell,
// after the servicing stack is idle: its exit code decides readiness.
func TestReadyCommandRunsAsPowerShell(t *testing.T) {
	const up = "if ((Get-Service MSSQLSERVER).Status -ne 'Running') { exit 1 }"
	const down = "if ((Get-Service W3SVC).Status -ne 'Running') { exit 1 }"
	h := startHost(t, winsim.Config{PowerShell: map[string]winsim.PSAnswer{
		up:   {},
		down: {Stdout: "W3SVC is Stopped\r\n", Exit: 1},
	}})
	c := dial(t, h)

	opts := fastOptions()
	opts.ReadyCommand = up
	if err := windows.New(opts).Ready(testCtx(t), c); err != nil {
		t.Fatalf("Ready with a passing ready command: %v", err)
	}
	cmds := h.Commands()
	if n := len(cmds); n < 3 || cmds[n-1] != "powershell" || cmds[n-2] != "ready" {
		t.Errorf("the ready command runs after the servicing probes; last commands %q", cmds)
	}

	opts.ReadyCommand = down
	err := windows.New(opts).Ready(testCtx(t), c)
	var ce *patch.CommandError
	if !errors.As(err, &ce) || ce.ExitCode != 1 || !strings.Contains(err.Error(), "W3SVC") ||
		!strings.Contains(err.Error(), "W3SVC is Stopped") {
		t.Fatalf("Ready with a failing ready command: %v", err)
	}
}
