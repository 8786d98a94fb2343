package cmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

func (a *app) newRebootCmd() *cobra.Command {
	var o commonOptions
	var r rebootOptions
	var l lockOptions
	var ro rolloutOptions
	var onlyIfRequired bool
	c := &cobra.Command{
		Use:   "reboot -i FILE [-l PATTERN]",
		Short: "Reboot hosts in controlled batches, confirming each came back",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			plan := runner.Plan{Command: report.CmdReboot, Reboot: runner.RebootAlways, OnlyIfRequired: onlyIfRequired}
			if err := r.apply(&plan); err != nil {
				return err
			}
			l.apply(&plan)
			if err := validatePlan(plan); err != nil {
				return err
			}
			hosts, err := a.hostsFor(&o)
			if err != nil {
				return err
			}
			if err := ro.apply(&plan, o.inventoryHosts, time.Now(), a.streams.Err); err != nil {
				return err
			}
			return a.runFleet(c.Context(), &o, plan, hosts)
		},
	}
	o.addFlags(c)
	o.reports.addFlags(c)
	r.addFlags(c)
	l.addFlags(c)
	ro.addFlags(c, false)
	c.Flags().BoolVar(&onlyIfRequired, "only-if-required", false, "reboot only hosts with a pending-reboot signal")
	return c
}
