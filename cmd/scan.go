package cmd

import (
	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

func (a *app) newScanCmd() *cobra.Command {
	var o commonOptions
	var noRefresh bool
	c := &cobra.Command{
		Use:   "scan -i FILE [-l PATTERN]",
		Short: "List missing updates and pending-reboot state; changes nothing",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			hosts, err := a.hostsFor(&o)
			if err != nil {
				return err
			}
			return a.runFleet(c.Context(), &o, runner.Plan{Command: report.CmdScan, Refresh: !noRefresh}, hosts)
		},
	}
	o.addFlags(c)
	c.Flags().BoolVar(&noRefresh, "no-refresh", false, "don't refresh package metadata first (apt-get update, dnf makecache, …)")
	return c
}
