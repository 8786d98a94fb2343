package unix

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/internal/tail"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// run sends one command line. A transport error is wrapped so errors.Is
// still sees transport.ErrConnLost and friends; a non-zero exit is data.
func run(ctx context.Context, t transport.Transport, what, line string) (transport.Result, error) {
	res, err := t.Run(ctx, transport.Command{Line: line})
	if err != nil {
		return transport.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

// commandFailed is the error for a command that ran and failed: a
// *patch.CommandError with the exit code, the line that says why and the
// output's bounded tail.
func commandFailed(what string, res transport.Result) error {
	return patch.NewCommandError(what, res.ExitCode, res.Stdout, res.Stderr)
}

// excerpt bounds the output kept in InstallResult.Output.
func excerpt(res transport.Result) string {
	out, _ := tail.Output(res.Stdout, res.Stderr, tail.MaxLines, tail.MaxBytes)
	return out
}
