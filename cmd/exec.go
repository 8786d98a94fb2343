package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

func (a *app) newExecCmd() *cobra.Command {
	var o commonOptions
	var l lockOptions
	c := &cobra.Command{
		Use:   "exec -i FILE [-l PATTERN] -- COMMAND [ARG...]",
		Short: "Run an ad-hoc command on every host; output and exit code per host",
		Long: `exec runs COMMAND on every selected host (by the remote shell over SSH, by
cmd.exe over WinRM) and prints each host's output and exit code. A non-zero
exit marks that host failed (exit code 2).`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("exec: no command given (hint: patchrun exec -i hosts.yaml -l web1 -- uptime)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			command := strings.TrimSpace(strings.Join(args, " "))
			if command == "" {
				return fmt.Errorf("exec: empty command (hint: patchrun exec -i hosts.yaml -- uptime)")
			}
			plan := runner.Plan{Command: report.CmdExec, ExecCommand: command}
			l.apply(&plan)
			if err := validatePlan(plan); err != nil {
				return err
			}
			hosts, err := a.hostsFor(&o)
			if err != nil {
				return err
			}
			return a.runFleet(c.Context(), &o, plan, hosts)
		},
	}
	o.addFlags(c)
	o.reports.addFlags(c)
	l.addFlags(c)
	// Everything after the command's first word belongs to the command:
	// `exec -l web1 ls -l /tmp` must not read "-l /tmp" as --limit.
	c.Flags().SetInterspersed(false)
	return c
}
