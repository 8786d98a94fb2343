package cmd

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
)

// runInfo is one run as `patchrun runs -o json` lists it.
type runInfo struct {
	RunID       string         `json:"run_id"`
	Command     report.Command `json:"command,omitempty"`
	DryRun      bool           `json:"dry_run,omitempty"`
	StartedAt   time.Time      `json:"started_at,omitzero"`
	State       string         `json:"state"` // running | finished | interrupted | unreadable
	ExitCode    *int           `json:"exit_code,omitempty"`
	Hosts       int            `json:"hosts"`
	OK          int            `json:"ok"`
	Failed      int            `json:"failed"`
	Unreachable int            `json:"unreachable"`
	Skipped     int            `json:"skipped"`
	Resumed     int            `json:"resumed,omitempty"` // times resumed
	Inventory   string         `json:"inventory,omitempty"`
	Error       string         `json:"error,omitempty"` // why the journal is unreadable
}

func (a *app) newRunsCmd() *cobra.Command {
	var dir, output string
	c := &cobra.Command{
		Use:   "runs",
		Short: "List the runs recorded in the state directory",
		Long: `runs lists the runs recorded in the state directory, oldest first: run id,
command, start time, state and host counts. A run is "running" while its
process is alive (it holds the run's lock), "finished" once every host has
its result, and "interrupted" if it was stopped or its process died: an
interrupted patch or reboot can be continued with 'patchrun resume'.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %s: want text or json", output)
			}
			if dir == "" {
				var err error
				if dir, err = defaultStateDir(a.streams.Getenv); err != nil {
					return err
				}
			}
			runs, err := listRuns(dir)
			if err != nil {
				return err
			}
			if output == "json" {
				if runs == nil {
					runs = []runInfo{}
				}
				return writeJSON(a.streams.Out, runs)
			}
			return writeRuns(a.streams.Out, runs)
		},
	}
	addStateDirFlag(c, &dir)
	c.Flags().StringVarP(&output, "output", "o", "text", "format on stdout: text or json")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// listRuns reads every run's journal in dir, oldest first. An unreadable
// journal is listed with why, not skipped.
func listRuns(dir string) ([]runInfo, error) {
	ids, err := journal.IDs(dir)
	if err != nil {
		return nil, fmt.Errorf("--state-dir %s: %w", dir, err)
	}
	var out []runInfo
	for _, id := range ids {
		r, err := journal.Open(dir, id)
		if err != nil {
			out = append(out, runInfo{RunID: id, State: "unreadable", Error: err.Error()})
			continue
		}
		c := r.Counts()
		info := runInfo{RunID: id, Command: r.Header.Command, DryRun: r.Header.DryRun, StartedAt: r.Header.StartedAt,
			State: string(r.State), Hosts: c.Hosts, OK: c.OK, Failed: c.Failed, Unreachable: c.Unreachable,
			Skipped: c.Skipped, Resumed: len(r.Resumes), Inventory: r.Header.Inventory}
		if r.End != nil && r.State != journal.StateRunning {
			code := r.End.ExitCode
			info.ExitCode = &code
		}
		out = append(out, info)
	}
	return out, nil
}

func writeRuns(w io.Writer, runs []runInfo) error {
	if len(runs) == 0 {
		_, err := fmt.Fprintln(w, "no runs recorded")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN ID\tCOMMAND\tSTARTED\tSTATE\tHOSTS\tOK\tFAILED\tUNREACHABLE\tSKIPPED")
	for _, r := range runs {
		if r.State == "unreadable" {
			fmt.Fprintf(tw, "%s\t-\t-\tunreadable\t-\t-\t-\t-\t-\n", r.RunID)
			continue
		}
		cmd := string(r.Command)
		if r.DryRun {
			cmd += " (dry run)"
		}
		state := r.State
		if r.Resumed > 0 {
			state += fmt.Sprintf(" (resumed %d×)", r.Resumed)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.RunID, cmd,
			r.StartedAt.Local().Format(time.DateTime), state, r.Hosts, r.OK, r.Failed, r.Unreachable, r.Skipped)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range runs {
		if r.Error != "" {
			fmt.Fprintf(w, "\n%s: %s\n", r.RunID, termtext.Text(r.Error))
		}
	}
	return nil
}
