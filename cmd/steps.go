package cmd

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/runner"
)

// stepsOptions are patch's flags for the steps around each host's change:
// hooks and the health check (runner.Steps).
type stepsOptions struct {
	healthCmd, preCmd, postCmd string
	preLocal, postLocal        string
	healthTimeout, hookTimeout time.Duration
}

func (o *stepsOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.healthCmd, "health-cmd", "", "command run on each patched host once it is verified (after its reboot, or its install if none was needed); exit 0 = healthy; retried every 5s until --health-timeout, else the host fails (error_kind health). Overrides the inventory's health_cmd. SSH: the login shell; WinRM: PowerShell")
	f.DurationVar(&o.healthTimeout, "health-timeout", runner.DefaultHealthTimeout, "how long a host may take to pass its health check, every attempt included")
	f.StringVar(&o.preCmd, "pre-cmd", "", "command run on each host before its first install (e.g. drain it); failing fails the host before anything changed (error_kind hook). Overrides the inventory's pre_cmd")
	f.StringVar(&o.postCmd, "post-cmd", "", "command run on each host after it passed its health check (e.g. undrain it). Overrides the inventory's post_cmd")
	f.StringVar(&o.preLocal, "pre-local", "", "command run on this machine, through its shell, before each host's pre-cmd, with PATCHRUN_HOST, PATCHRUN_ADDRESS, PATCHRUN_GROUPS and PATCHRUN_RUN_ID set")
	f.StringVar(&o.postLocal, "post-local", "", "command run on this machine after each host's post-cmd (or its failed health check), with PATCHRUN_STATUS (ok or failed) set as well")
	f.DurationVar(&o.hookTimeout, "hook-timeout", runner.DefaultHookTimeout, "how long one hook may run")
}

// apply puts the steps in p, refusing bad values before any host is
// contacted: a negative timeout, a local hook whose program does not exist.
func (o *stepsOptions) apply(p *runner.Plan) error {
	// Zero (a struct built in code, not from flags) means the default.
	if o.healthTimeout < 0 {
		return fmt.Errorf("--health-timeout %s: must be positive (hint: 5m)", o.healthTimeout)
	}
	if o.hookTimeout < 0 {
		return fmt.Errorf("--hook-timeout %s: must be positive (hint: 10m)", o.hookTimeout)
	}
	for _, local := range []struct{ flag, line string }{{"--pre-local", o.preLocal}, {"--post-local", o.postLocal}} {
		if err := checkLocalProgram(local.line); err != nil {
			return fmt.Errorf("%s %q: %w", local.flag, local.line, err)
		}
	}
	p.Steps = runner.Steps{
		PreCmd: o.preCmd, HealthCmd: o.healthCmd, PostCmd: o.postCmd,
		PreLocal: o.preLocal, PostLocal: o.postLocal,
		HealthTimeout: o.healthTimeout, HookTimeout: o.hookTimeout,
	}
	return nil
}

// checkLocalProgram checks that a local hook's program (its first word) is
// an executable file, or a program on PATH.
func checkLocalProgram(line string) error {
	prog := firstWord(line)
	if prog == "" {
		return nil
	}
	if _, err := exec.LookPath(prog); err != nil {
		return fmt.Errorf("no executable program %s (hint: give the path of an executable script, or a program on PATH)", prog)
	}
	return nil
}

// firstWord is the program of a shell command line: its first word, with
// the quotes around it removed.
func firstWord(line string) string {
	line = strings.TrimSpace(line)
	if line == "" {
		return ""
	}
	if q := line[0]; q == '\'' || q == '"' {
		if end := strings.IndexByte(line[1:], q); end >= 0 {
			return line[1 : 1+end]
		}
	}
	if i := strings.IndexAny(line, " \t\n;&|<>"); i >= 0 {
		return line[:i]
	}
	return line
}
