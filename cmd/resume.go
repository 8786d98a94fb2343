package cmd

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
	"github.com/patchrun/patchrun/state"
)

// resumeOptions are `resume`'s flags: only those that change how a run is
// watched, never what it does (that comes from the journal).
type resumeOptions struct {
	stateDir   string
	output     string
	noProgress bool
	events     string
	forks      int
	db         string
}

func (a *app) newResumeCmd() *cobra.Command {
	var o resumeOptions
	c := &cobra.Command{
		Use:   "resume [RUN-ID]",
		Short: "Continue an interrupted patch or reboot run from its journal",
		Long: `resume continues a patch or reboot run that did not finish: killed, its
machine lost, or stopped with Ctrl-C. RUN-ID names it (see 'patchrun runs');
without one, the latest interrupted patch or reboot run in the state
directory is resumed.

The inventory file, the command and every flag come from the run's journal:
the same hosts, selection, reboot policy, batches and failure budget. Hosts
that ended are not contacted again (they count in the summary and the
failure budget as they ended); a host that was installing is rescanned and
installs only what is still pending; a host that was rebooting is checked by
boot id: already back with a new one, it is verified; never rebooted, it is
rebooted in a batch; never twice. Batch numbers go on from the interrupted
run's. Hosts removed from the inventory since are skipped, and a changed
inventory file is reported. The resumed run appends to the same journal, so
it can be resumed again, and its report covers every host of the run.

Only patch and reboot runs can be resumed: scan changes nothing (run it
again) and exec must not run its command twice on a host that ran it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.resume(c, &o, args)
		},
	}
	f := c.Flags()
	addStateDirFlag(c, &o.stateDir)
	addDBFlag(c, &o.db)
	addOutputFlag(c, &o.output)
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress bars, even on a terminal")
	f.StringVar(&o.events, "events", "", "also write every event (phases, steps, batches, results) as JSON lines to this file (the interrupted run's own --events file is left alone)")
	f.IntVarP(&o.forks, "forks", "f", runner.DefaultForks, "parallel workers for connect/scan/install (default: the run's own)")
	return c
}

// resumeJob is the run being resumed, set on the app while its command
// line runs again.
type resumeJob struct {
	run      *journal.Run
	stateDir string
}

// resume finds the run, checks it can be resumed and runs its command line
// again, through the same command code, with the resumed run's hooks.
func (a *app) resume(c *cobra.Command, o *resumeOptions, args []string) error {
	dir := o.stateDir
	if dir == "" {
		var err error
		if dir, err = defaultStateDir(a.streams.Getenv); err != nil {
			return err
		}
	}
	run, err := resumableRun(dir, args)
	if err != nil {
		return err
	}
	argv := append([]string(nil), run.Header.Argv...)
	fl := c.Flags()
	if fl.Changed("output") {
		argv = append(argv, "--output", o.output)
	}
	if fl.Changed("no-progress") {
		argv = append(argv, "--no-progress="+strconv.FormatBool(o.noProgress))
	}
	// The interrupted run's --events file holds its story up to the
	// interrupt: the resumed run writes only the file given to resume.
	argv = append(argv, "--events", o.events)
	if fl.Changed("forks") {
		argv = append(argv, "--forks", strconv.Itoa(o.forks))
	}
	// The journal holds the run's --db without its password: resume's own
	// --db or PATCHRUN_DB, when set, takes its place.
	db, err := a.historyDB(o.db)
	if err != nil {
		return err
	}
	if db != "" {
		argv = append(argv, "--db", db)
	}
	fmt.Fprintf(a.streams.Err, "resuming run %s: %s\n", run.ID, termtext.Text(fmt.Sprint(run.Header.Argv)))
	if digest, err := fileSHA256(run.Header.Inventory); err != nil || digest != run.Header.InventorySHA256 {
		why := "its content changed"
		if err != nil {
			why = err.Error()
		}
		fmt.Fprintf(a.streams.Err, "patchrun: warning: inventory %s changed since run %s started (%s): hosts removed from it are skipped, hosts added are not part of this run\n",
			termtext.Text(run.Header.Inventory), run.ID, termtext.Text(why))
	}

	a.resuming = &resumeJob{run: run, stateDir: dir}
	defer func() { a.resuming = nil }()
	root := a.newRootCmd()
	root.SetArgs(argv)
	root.SetIn(c.InOrStdin())
	root.SetOut(c.OutOrStdout())
	root.SetErr(c.ErrOrStderr())
	return root.ExecuteContext(c.Context())
}

// resumableRun opens the run named by args, or the latest interrupted
// patch or reboot run, and refuses one that cannot be resumed.
func resumableRun(dir string, args []string) (*journal.Run, error) {
	if len(args) == 0 {
		run, err := journal.Latest(dir, func(r *journal.Run) bool {
			return r.State == journal.StateInterrupted && resumable(r.Header) == nil
		})
		if errors.Is(err, journal.ErrNoRun) {
			return nil, fmt.Errorf("no interrupted patch or reboot run in state directory %s to resume (see 'patchrun runs --state-dir %s')", dir, dir)
		}
		return run, err
	}
	id := args[0]
	if !state.ValidRunID(id) {
		return nil, fmt.Errorf("%q is not a run id (run ids look like 20261205T021500Z-3f9c; see 'patchrun runs')", id)
	}
	run, err := journal.Open(dir, id)
	if err != nil {
		return nil, err
	}
	if err := resumable(run.Header); err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	switch run.State {
	case journal.StateFinished:
		return nil, fmt.Errorf("run %s finished at %s (exit code %d): there is nothing to resume; start a new run instead",
			id, run.End.Time.Local().Format(time.DateTime), run.End.ExitCode)
	case journal.StateRunning:
		return nil, fmt.Errorf("run %s is still running (its process holds the run's lock): wait for it, or stop it first", id)
	}
	return run, nil
}

// resumable says why a run's command cannot be resumed, if it cannot.
func resumable(h journal.Header) error {
	switch {
	case h.Command == report.CmdScan:
		return errors.New("it is a scan: only patch and reboot runs can be resumed; a scan changes nothing, so run it again")
	case h.Command == report.CmdExec:
		return errors.New("it is an exec: only patch and reboot runs can be resumed; resuming would run its command a second time on hosts that may have run it")
	case h.DryRun:
		return errors.New("it is a --dry-run: it changed nothing, so run it again")
	case h.Command != report.CmdPatch && h.Command != report.CmdReboot:
		return fmt.Errorf("it is a %q run: only patch and reboot runs can be resumed", h.Command)
	}
	return nil
}

// prepare turns the reloaded inventory into the resumed run's hosts and
// the runner's resume state: the run's hosts in its order, each as the
// inventory describes it now; one removed from the inventory is skipped
// with a reason unless it had ended already.
func (j *resumeJob) prepare(loaded []inventory.Host) ([]inventory.Host, *runner.ResumeState, error) {
	byName := make(map[string]inventory.Host, len(loaded))
	for _, h := range loaded {
		byName[h.Name] = h
	}
	run := j.run
	rs := &runner.ResumeState{Hosts: make(map[string]runner.ResumedHost, len(run.Header.Hosts))}
	hosts := make([]inventory.Host, 0, len(run.Header.Hosts))
	var ended []string
	for _, name := range run.Header.Hosts {
		h, ok := byName[name]
		if !ok {
			h = inventory.Host{Name: name}
			rs.Hosts[name] = runner.ResumedHost{Skip: "not resumed: removed from the inventory since the run started"}
		} else if cp, ok := run.LastCheckpoint(name); ok {
			rs.Hosts[name] = runner.ResumedHost{Checkpoint: cp}
			rs.Batches = max(rs.Batches, cp.Batch)
		}
		hosts = append(hosts, h)
		if _, ok := run.Ended(name); ok {
			ended = append(ended, name)
		}
	}
	err := run.Results(ended, func(res report.HostResult) error {
		rs.Batches = max(rs.Batches, res.RebootBatch)
		if runner.EndedForGood(res) {
			rs.Hosts[res.Name] = runner.ResumedHost{Ended: &res}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: reading its results: %w", run.ID, err)
	}
	return hosts, rs, nil
}

// appendJournal continues the resumed run's journal, recording who
// resumed it with which command line.
func (j *resumeJob) appendJournal(argv []string, digest string) (*journal.Writer, error) {
	hostname, _ := os.Hostname()
	w, err := journal.Append(j.stateDir, j.run.ID, journal.Resumed{
		Argv: argv, InventorySHA256: digest,
		Controller: journal.Controller{Hostname: hostname, User: currentUser(), PID: os.Getpid()},
	})
	if errors.Is(err, journal.ErrRunLive) {
		return nil, fmt.Errorf("run %s is still running (its process holds the run's lock): wait for it, or stop it first", j.run.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("--state-dir %s: %w", j.stateDir, err)
	}
	return w, nil
}
