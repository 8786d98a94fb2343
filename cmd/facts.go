package cmd

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

func (a *app) newFactsCmd() *cobra.Command {
	var o commonOptions
	c := &cobra.Command{
		Use:   "facts -i FILE [-l PATTERN]",
		Short: "Read each host's OS, kernel, boot, pending reboot, last update and addresses; changes nothing",
		Long: `facts connects to every selected host and reads its facts, and nothing
else: OS name and version, kernel, architecture, package manager, last boot
and uptime, pending-reboot state with its reasons, when updates were last
installed (by the host's own records) and its IP addresses. It neither
refreshes package metadata nor scans for updates: one probe on Linux, one
PowerShell script on Windows (plus the pending-reboot check), so it is fast
and read-only. -o json gives each host's "facts" object (docs/report.md).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			hosts, err := a.hostsFor(&o)
			if err != nil {
				return err
			}
			return a.runFleet(c.Context(), &o, runner.Plan{Command: report.CmdFacts}, hosts)
		},
	}
	o.addFlags(c)
	return c
}

// factsTable is the facts command's table: one row per host, the columns a
// person scans for first; addresses and reboot reasons are optional (left
// out when the terminal is narrow; -o wide or json has them all).
func factsTable(r report.Report, wide bool) table {
	t := table{cols: []column{{name: "HOST", min: 12, always: true}, {name: "STATUS", always: true}, {name: "OS", min: 10},
		{name: "KERNEL", min: 8}, {name: "ARCH", min: 6}, {name: "UPTIME"}, {name: "LAST UPDATED", short: "UPDATED"},
		{name: "REBOOT"}, {name: "ADDRESSES", min: 15, optional: true}, {name: "ERROR", min: 30, optional: true}}}
	for _, h := range r.Hosts {
		f := h.Facts
		if f == nil {
			f = &report.Facts{}
		}
		os := strings.TrimSpace(f.OSName + " " + f.OSVersion)
		if !wide {
			os = shortOS(os)
		}
		reboot := "-"
		if f.RebootRequired {
			reboot = "required"
		}
		addrs := strings.Join(f.Addresses, " ")
		if !wide && len(f.Addresses) > 1 {
			addrs = fmt.Sprintf("%s +%d", f.Addresses[0], len(f.Addresses)-1)
		}
		t.add(termtext.Line(h.Name), string(h.Status), dash(termtext.Line(os)), dash(termtext.Line(f.Kernel)),
			dash(termtext.Line(f.Arch)), uptimeCell(f), dateCell(f.LastUpdated, r.FinishedAt, wide), reboot,
			dash(termtext.Line(addrs)), oneLine(h.Error, wide))
	}
	return t
}

// wideFactsColumns are the facts -o wide adds to scan, patch and reboot
// tables (wideFactsCells fills them).
var wideFactsColumns = []column{{name: "ARCH"}, {name: "UPTIME"}, {name: "LAST UPDATED"}, {name: "ADDRESSES"}}

func wideFactsCells(r report.Report, h report.HostResult) []string {
	f := h.Facts
	if f == nil {
		return []string{"-", "-", "-", "-"}
	}
	return []string{dash(termtext.Line(f.Arch)), uptimeCell(f), dateCell(f.LastUpdated, r.FinishedAt, true),
		dash(termtext.Line(strings.Join(f.Addresses, " ")))}
}

// writeFactsReasons lists the pending-reboot reasons under the table.
func writeFactsReasons(w io.Writer, r report.Report) {
	sep := "\n"
	for _, h := range r.Hosts {
		if h.Facts != nil && len(h.Facts.RebootReasons) > 0 {
			fmt.Fprintf(w, "%s%s needs a reboot: %s\n", sep, termtext.Line(h.Name), termtext.Line(strings.Join(h.Facts.RebootReasons, "; ")))
			sep = ""
		}
	}
}

// uptimeCell is "3d4h", "5h12m", "42m": days and hours are what matter.
func uptimeCell(f *report.Facts) string {
	if f.UptimeSeconds <= 0 {
		return "-"
	}
	d := time.Duration(f.UptimeSeconds) * time.Second
	switch days := int(d / (24 * time.Hour)); {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, int(d/time.Hour)%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d/time.Minute)%60)
	}
	return fmt.Sprintf("%dm", int(d/time.Minute))
}

// dateCell is a UTC date; wide, with its age in days against now.
func dateCell(t, now time.Time, wide bool) string {
	if t.IsZero() {
		return "-"
	}
	if !wide {
		return t.UTC().Format(time.DateOnly)
	}
	days := int(now.Sub(t) / (24 * time.Hour))
	if days < 0 {
		days = 0
	}
	return fmt.Sprintf("%s (%dd)", t.UTC().Format(time.DateOnly), days)
}
