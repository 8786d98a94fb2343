// Package cmd is patchrun's command line: the cobra tree, flag → plan
// mapping, output rendering, signal handling and the error → exit-code
// table. It holds no patch logic and calls no SSH or WinRM library directly.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/runner"
)

// Streams are the process's standard streams, replaceable in tests.
type Streams struct {
	In     io.Reader
	Out    io.Writer // results only (table or JSON)
	Err    io.Writer // logs, progress, prompts
	Getenv func(string) string
	// IsTerminal reports whether a stream is an interactive terminal (for
	// progress bars and --ask-pass).
	IsTerminal func(f any) bool
	// Width is the number of columns of a terminal stream, 0 for anything
	// else (the table is fitted to it).
	Width func(f any) int
}

// Main runs patchrun with the process's arguments and returns the exit code.
func Main() int {
	// A closed pipe on stdout is a failed write of the result (exit 5), not
	// a silent death by SIGPIPE.
	ignoreSIGPIPE()
	code := Run(context.Background(), os.Args[1:], Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Getenv: os.Getenv, IsTerminal: isTerminal, Width: terminalWidth,
	})
	// Some file systems (NFS) report a failed write only at close. Go
	// reopens a closed descriptor 1 on /dev/null before any of our code
	// runs, so `>&-` cannot be told from output discarded on purpose.
	if err := os.Stdout.Close(); err != nil && code != ExitResultNotWritten {
		fmt.Fprintf(os.Stderr, "patchrun: write result: %v\n", err)
		return ExitResultNotWritten
	}
	return code
}

// Run runs patchrun with args and returns the exit code. Tests call it
// directly.
func Run(ctx context.Context, args []string, s Streams) int {
	return newApp(s).execute(ctx, args)
}

// app carries what every command shares: the streams, and the seam where a
// command line becomes a run.
type app struct {
	streams Streams
	args    []string // the command line as given, for the run journal
	stdout  any      // the Out stream as given, for its terminal width
	// fleetRun, when set, replaces running a plan: a test sees the options,
	// plan and hosts a command line produced, exactly as typed, without
	// contacting a host.
	fleetRun func(o *commonOptions, plan runner.Plan, hosts []inventory.Host) error
	// resuming is set while `resume` runs an interrupted run's command line
	// again: that run's hosts, journal and state continue.
	resuming *resumeJob
	// view is how the run's result is shown as text: -v adds each
	// update's advisory, CVEs and why it was held back; --order risk lists
	// the highest-risk hosts first.
	view textView
}

type textView struct {
	detail, riskOrder bool
}

func newApp(s Streams) *app {
	if s.Getenv == nil {
		s.Getenv = func(string) string { return "" }
	}
	if s.IsTerminal == nil {
		s.IsTerminal = func(any) bool { return false }
	}
	if s.Width == nil {
		s.Width = func(any) int { return 0 }
	}
	return &app{streams: s, stdout: s.Out}
}

// execute runs the command line args and returns the exit code.
func (a *app) execute(ctx context.Context, args []string) int {
	// Every write to stdout goes through out: a failed one (a full disk, a
	// closed pipe) fails the run even where the writer's error was lost
	// (cobra's help, a tabwriter).
	out := &checkedWriter{w: a.streams.Out}
	a.streams.Out = out
	a.args = args
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(a.streams.In)
	root.SetOut(out)
	root.SetErr(a.streams.Err)
	err := root.ExecuteContext(ctx)
	if out.err != nil && !errors.As(err, new(*resultError)) {
		if err != nil && errors.Is(err, out.err) {
			err = &resultError{fmt.Errorf("write result: %w", err)} // the command returned the write error
		} else {
			err = errors.Join(&resultError{fmt.Errorf("write result: %w", out.err)}, err)
		}
	}
	for _, line := range errorLines(err) {
		// Errors echo inventory values and file contents.
		fmt.Fprintf(a.streams.Err, "patchrun: %s\n", termtext.Text(line))
	}
	return exitCode(err)
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "patchrun",
		Short: "Agentless remote patch runner: scan, install and reboot fleets over SSH and WinRM",
		Long: `patchrun reads a host inventory, connects to Unix hosts over SSH and Windows
hosts over WinRM in parallel, finds missing updates, installs them, and reboots
hosts in controlled batches, confirming each one really came back.

` + exitCodeHelp(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(
		a.newScanCmd(),
		a.newFactsCmd(),
		a.newPatchCmd(),
		a.newRebootCmd(),
		a.newExecCmd(),
		a.newUnlockCmd(),
		a.newInventoryCmd(),
		a.newRunsCmd(),
		a.newResumeCmd(),
		a.newHostsCmd(),
		a.newReportCmd(),
		a.newWakeCmd(),
		a.newDemoCmd(),
		a.newVersionCmd(),
	)
	return root
}

// checkedWriter keeps the first write error of the writer it wraps.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
