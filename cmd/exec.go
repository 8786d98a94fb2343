package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/runner"
)

func (a *app) newExecCmd() *cobra.Command {
	var o commonOptions
	c := &cobra.Command{
		Use:   "exec -i FILE [-l PATTERN] -- COMMAND [ARG...]",
		Short: "Run an ad-hoc command on every host; output and exit code per host",
		Long: `exec runs COMMAND on every selected host (by the remote shell over SSH, by
cmd.exe over WinRM) and prints each host's output and exit code. A non-zero
exit marks that host failed (exit code 2).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			command := strings.TrimSpace(strings.Join(args, " "))
			if command == "" {
				return cantStart(fmt.Errorf("exec: empty command (hint: patchrun exec -i hosts.yaml -- uptime)"))
			}
			hosts, err := a.hostsFor(&o)
			if err != nil {
				return err
			}
			return a.runFleet(c.Context(), &o, runner.Plan{Command: runner.CmdExec, ExecCommand: command}, hosts)
		},
	}
	o.addFlags(c)
	return c
}
