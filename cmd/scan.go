package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

func (a *app) newScanCmd() *cobra.Command {
	var o commonOptions
	var sel selectionOptions
	var noRefresh bool
	var savePath string
	var risk riskOptions
	c := &cobra.Command{
		Use:   "scan -i FILE [-l PATTERN]",
		Short: "List missing updates and pending-reboot state; changes nothing",
		Long: `scan lists every selected host's pending updates and pending-reboot state;
it changes nothing on the hosts.

With --save-plan FILE it also writes a plan: per host scanned ok, the exact
updates the selection flags pick (--security-only, --include, --exclude,
--include-optional, --min-severity, --cve, --known-exploited, --min-age) at
the versions offered now. patch --plan FILE later
installs exactly those versions, never newer ones, so a canary and the rest
of the fleet get the same bits days apart.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if flag := givenSelectionFlag(c); flag != "" && savePath == "" {
				return fmt.Errorf("scan %s: selection flags only shape a saved plan; add --save-plan FILE", flag)
			}
			if err := sel.check(c); err != nil {
				return err
			}
			if err := risk.apply(&o); err != nil {
				return err
			}
			hosts, err := a.hostsFor(&o)
			if err != nil {
				return err
			}
			if savePath != "" {
				o.afterRun = func(r report.Report) error {
					return savePlan(savePath, r, sel.saved(), o.inventory, o.limit.pattern, a.streams.Err, time.Now())
				}
			}
			return a.runFleet(c.Context(), &o, runner.Plan{Command: report.CmdScan, Refresh: !noRefresh}, hosts)
		},
	}
	o.addFlags(c)
	o.reports.addFlags(c)
	c.Flags().BoolVar(&noRefresh, "no-refresh", false, "don't refresh package metadata first (apt-get update, dnf makecache, …)")
	c.Flags().StringVar(&savePath, "save-plan", "", "also write a plan of the selected updates and their exact versions to this file (0600), for patch --plan")
	sel.addFlags(c, "plan")
	risk.addFlags(c)
	return c
}
