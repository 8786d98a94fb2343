package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/history"
)

func (a *app) newHostsCmd() *cobra.Command {
	var dir, db, output, stale, older string
	var f history.Filter
	c := &cobra.Command{
		Use:   "hosts",
		Short: "Show the estate as last seen, from the history database",
		Long: `hosts shows every host the recorded runs have seen, as last seen, from the
history database (patchrun.db in the state directory, or --db): OS, when it was last
reached and last patched, its pending updates (security ones in brackets),
how long its oldest pending security update has been pending, whether it
needs a reboot, and its status in the last run that included it. No host is
contacted. The database is brought up to date from the run journals first
(rebuilt if it is missing or of an older schema).`,
		Example: `  patchrun hosts
  patchrun hosts --older-than 14d          # a security update pending for more than 14 days
  patchrun hosts --stale 7d -o csv         # not reached for a week
  patchrun hosts -l 'web*' --missing-security -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if output != "text" && output != "json" && output != "csv" {
				return fmt.Errorf("-o %s: want text, json or csv", output)
			}
			var err error
			if stale != "" {
				if f.Stale, err = history.ParseAge(stale); err != nil {
					return fmt.Errorf("--stale %w", err)
				}
			}
			if older != "" {
				if f.OlderThan, err = history.ParseAge(older); err != nil {
					return fmt.Errorf("--older-than %w", err)
				}
			}
			if db, err = a.historyDB(db); err != nil {
				return err
			}
			if dir, err = historyDir(a, dir); err != nil {
				return err
			}
			ctx := context.Background()
			st, err := openSyncedHistory(ctx, a, dir, db)
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.Hosts(ctx)
			if err != nil {
				return fmt.Errorf("history database: %w", err)
			}
			now := time.Now()
			hosts, err := f.Select(all, now)
			if err != nil {
				return err
			}
			switch output {
			case "json":
				return history.WriteJSON(a.streams.Out, hosts)
			case "csv":
				return history.WriteCSV(a.streams.Out, hosts, now)
			}
			return history.WriteText(a.streams.Out, hosts, now)
		},
	}
	addStateDirFlag(c, &dir)
	addDBFlag(c, &db)
	fl := c.Flags()
	fl.StringVarP(&f.Limit, "limit", "l", "", "hosts to show: names, globs, comma lists, !exclude, &intersect (as --limit elsewhere; groups are not in the database)")
	fl.StringVar(&stale, "stale", "", "only hosts not reached for at least this long (7d, 36h), or never")
	fl.BoolVar(&f.MissingSecurity, "missing-security", false, "only hosts with a security update pending")
	fl.StringVar(&older, "older-than", "", "only hosts with a security update pending for longer than this (14d, 36h)")
	fl.StringVarP(&output, "output", "o", "text", "format on stdout: text, json or csv")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json", "csv"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}
