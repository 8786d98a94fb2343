package cmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// patchOptions are `patch`'s own flags.
type patchOptions struct {
	common  commonOptions
	reboot  rebootOptions
	lock    lockOptions
	rollout rolloutOptions
	steps   stepsOptions
	selectionOptions
	saved        planOptions
	risk         riskOptions
	rebootPolicy string
	noRefresh    bool
	maxRounds    int
	wake         bool
}

func (a *app) newPatchCmd() *cobra.Command {
	var o patchOptions
	c := &cobra.Command{
		Use:   "patch -i FILE [-l PATTERN]",
		Short: "Scan, install updates, reboot in batches and verify",
		Long: `patch scans every selected host, installs the selected updates, then reboots
the hosts that need it in batches (--batch), confirming each came back with a
new boot id and passes its readiness probe before the next batch starts. Once
more hosts than --max-failures have failed, no new batch starts (exit 3).

Batches (and a canary ramp like --batch 1,10%,25%) pace the reboots: every
selected host installs its updates first, in parallel (--forks). With
--rolling each batch instead runs the whole lifecycle (install, reboot if
needed, verify) and the next batch starts only once it has ended and the
budgets allow: the first host of --batch 1,10%,25% is patched and verified
before any other host installs anything.

--waves db,web orders groups: every db host ends before any web host starts;
hosts in no wave go last. --window-end 05:30 stops starting new hosts,
batches and waves at 05:30; hosts in flight finish, the rest are skipped
(exit 4).

--wake sends a host that does not answer a Wake-on-LAN magic packet (it
needs the mac inventory key; see 'patchrun wake'), once, and waits up to
--reboot-timeout for it to answer before counting it unreachable.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.saved.check(c); err != nil {
				return err
			}
			if err := o.selectionOptions.check(c); err != nil {
				return err
			}
			plan, err := o.plan()
			if err != nil {
				return err
			}
			if err := o.risk.apply(&o.common); err != nil {
				return err
			}
			hosts, err := a.hostsFor(&o.common)
			if err != nil {
				return err
			}
			if err := o.rollout.apply(&plan, o.common.inventoryHosts, time.Now(), a.streams.Err); err != nil {
				return err
			}
			if o.saved.path != "" {
				if err := o.saved.apply(&plan, o.common.inventory, o.common.inventoryHosts, a.streams.Err, time.Now()); err != nil {
					return err
				}
				o.common.afterRun = func(r report.Report) error { return reportDrift(r, a.streams.Err) }
			}
			return a.runFleet(c.Context(), &o.common, plan, hosts)
		},
	}
	o.addFlags(c)
	return c
}

func (o *patchOptions) addFlags(c *cobra.Command) {
	o.common.addFlags(c)
	o.common.reports.addFlags(c)
	o.reboot.addFlags(c)
	o.lock.addFlags(c)
	o.rollout.addFlags(c, true)
	o.steps.addFlags(c)
	f := c.Flags()
	o.selectionOptions.addFlags(c, "install")
	o.saved.addFlags(c)
	o.risk.addFlags(c)
	f.StringVar(&o.rebootPolicy, "reboot", "if-required", "reboot policy: if-required, always or never")
	f.BoolVar(&o.noRefresh, "no-refresh", false, "don't refresh package metadata before scanning")
	f.BoolVar(&o.wake, "wake", false, "wake hosts that do not answer with a Wake-on-LAN magic packet (inventory key mac), once, and wait up to --reboot-timeout for them before counting them unreachable")
	f.IntVar(&o.maxRounds, "max-rounds", runner.DefaultMaxRounds, "most install → reboot → rescan rounds per host (Windows often needs more than one)")
	_ = c.RegisterFlagCompletionFunc("reboot", cobra.FixedCompletions([]string{"if-required", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
}

// plan maps the flags to a runner plan, rejecting bad values before any
// host is contacted.
func (o *patchOptions) plan() (runner.Plan, error) {
	p := runner.Plan{Command: report.CmdPatch, Refresh: !o.noRefresh, MaxRounds: o.maxRounds, Wake: o.wake}
	p.Reboot = runner.RebootPolicy(o.rebootPolicy)
	if err := o.reboot.apply(&p); err != nil {
		return p, err
	}
	o.lock.apply(&p)
	if err := o.steps.apply(&p); err != nil {
		return p, err
	}
	if o.maxRounds < 1 {
		return p, fmt.Errorf("--max-rounds %d: must be at least 1", o.maxRounds)
	}
	p.Selection = o.selection()
	return p, validatePlan(p)
}

func trimAll(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
