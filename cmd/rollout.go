package cmd

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// rolloutOptions are the flags that order a rollout: waves and the
// maintenance window (patch and reboot), and rolling batches (patch).
type rolloutOptions struct {
	rolling   bool
	waves     string
	windowEnd string
}

func (o *rolloutOptions) addFlags(c *cobra.Command, rolling bool) {
	f := c.Flags()
	if rolling {
		f.BoolVar(&o.rolling, "rolling", false, "each batch runs the whole host lifecycle (install, reboot if needed, verify) before the next batch starts: --batch 1,10%,25% becomes a canary that gates installs; batch sizes count every selected host")
	}
	f.StringVar(&o.waves, "waves", "", "ordered waves GROUP[,GROUP…] (each a group, host or --limit pattern, terms joined with ':'): every host of a wave ends before the next wave starts; hosts in none form a last wave; no wave starts once a budget is spent")
	f.StringVar(&o.windowEnd, "window-end", "", "end of the maintenance window: HH:MM (local time, the next such time), an RFC 3339 time, or a duration from the start (3h); after it no host starts installing and no batch or wave starts (exit 4)")
}

// apply sets the plan's rollout from the flags. inv is every host of the
// inventory (waves are looked up in it); now is the run's start.
func (o *rolloutOptions) apply(p *runner.Plan, inv []inventory.Host, now time.Time, stderr io.Writer) error {
	p.Rolling = o.rolling
	if o.waves != "" {
		waves, err := parseWaves(o.waves, inv)
		if err != nil {
			return err
		}
		p.Waves = waves
	}
	if o.windowEnd != "" {
		end, err := parseWindowEnd(o.windowEnd, now)
		if err != nil {
			return err
		}
		p.WindowEnd = end
		fmt.Fprintf(stderr, "patchrun: the maintenance window ends at %s (in %s)\n",
			end.Format("2006-01-02 15:04 MST"), end.Sub(now).Round(time.Second))
	}
	if !o.rolling && len(p.Batches) > 1 && !p.DryRun && p.Command == report.CmdPatch {
		fmt.Fprintf(stderr, "patchrun: warning: --batch %s paces the reboots only: every host installs its updates at once; add --rolling to make each batch finish (installed, rebooted, verified) before the next one installs anything\n",
			termtext.Text(p.Batches.String()))
	}
	return nil
}

// parseWaves reads --waves: comma-separated items, each a --limit pattern
// (its own terms joined with ':') that must match a host of the inventory.
func parseWaves(s string, inv []inventory.Host) ([]runner.Wave, error) {
	var waves []runner.Wave
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("--waves %q: wave %d is empty: want group names like db,web", s, i+1)
		}
		hosts, err := inventory.Select(inv, item)
		if err != nil || len(hosts) == 0 {
			why := "it matches no host of the inventory"
			if err != nil {
				why = err.Error()
			}
			return nil, fmt.Errorf("--waves %q: wave %d (%s): %s (hint: name inventory groups; 'patchrun inventory' lists them)", s, i+1, item, why)
		}
		w := runner.Wave{Name: item}
		for _, h := range hosts {
			w.Hosts = append(w.Hosts, h.Name)
		}
		waves = append(waves, w)
	}
	return waves, nil
}

// parseWindowEnd reads --window-end: HH:MM local time (the next such time,
// so a run that starts before midnight may end after it), an RFC 3339
// time, or a positive duration from now. A time already past is refused.
func parseWindowEnd(s string, now time.Time) (time.Time, error) {
	const want = "want HH:MM (local time), an RFC 3339 time like 2026-12-07T05:30:00+01:00, or a duration like 3h"
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation("15:04", s, now.Location()); err == nil {
		end := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, now.Location())
		if !end.After(now) {
			end = end.AddDate(0, 0, 1)
		}
		return end, nil
	}
	if strings.Count(s, ":") == 1 && len(s) <= 5 {
		return time.Time{}, fmt.Errorf("--window-end %q: not a time of day: %s", s, want)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if !t.After(now) {
			return time.Time{}, fmt.Errorf("--window-end %q: that time has passed (now %s): the window is already closed", s, now.Format(time.RFC3339))
		}
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("--window-end %q: the window must be longer than 0", s)
		}
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("--window-end %q: %s", s, want)
}
