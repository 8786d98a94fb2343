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
)

// Exit codes; docs/exit-codes.md explains them.
const (
	ExitOK          = 0
	ExitCantStart   = 1 // bad flags, bad inventory
	ExitHostsFailed = 2 // one or more hosts failed or were unreachable
	ExitHalted      = 3 // the failure budget was spent
	ExitInterrupted = 130
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
}

// Main runs patchrun with the process's arguments and returns the exit code.
func Main() int {
	return Run(context.Background(), os.Args[1:], Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Getenv: os.Getenv, IsTerminal: isTerminal,
	})
}

// Run runs patchrun with args and returns the exit code. Tests call it
// directly.
func Run(ctx context.Context, args []string, s Streams) int {
	if s.Getenv == nil {
		s.Getenv = func(string) string { return "" }
	}
	if s.IsTerminal == nil {
		s.IsTerminal = func(any) bool { return false }
	}
	app := &app{streams: s}
	root := app.newRootCmd()
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return app.exitCode
	}
	var ce *codedError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintf(s.Err, "patchrun: %v\n", ce.err)
		}
		return ce.code
	}
	fmt.Fprintf(s.Err, "patchrun: %v\n", err)
	return ExitCantStart
}

// app carries what every command shares: the streams and, after a run, the
// exit code it chose.
type app struct {
	streams  Streams
	exitCode int
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "patchrun",
		Short: "Agentless remote patch runner: scan, install and reboot fleets over SSH and WinRM",
		Long: `patchrun reads a host inventory, connects to Unix hosts over SSH and Windows
hosts over WinRM in parallel, finds missing updates, installs them, and reboots
hosts in controlled batches, confirming each one really came back.

Exit codes: 0 all hosts fine; 1 the run could not start (bad flags or
inventory); 2 one or more hosts failed or were unreachable; 3 halted because
the failure budget was spent; 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &codedError{code: ExitCantStart, err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(
		a.newScanCmd(),
		a.newPatchCmd(),
		a.newRebootCmd(),
		a.newExecCmd(),
		a.newInventoryCmd(),
		a.newDemoCmd(),
		a.newVersionCmd(),
	)
	return root
}

// codedError carries an exit code through cobra. A nil err means the
// message was already printed.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *codedError) Unwrap() error { return e.err }

// cantStart marks err as "the run could not start" (exit 1).
func cantStart(err error) error { return &codedError{code: ExitCantStart, err: err} }
