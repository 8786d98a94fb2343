package unix

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/internal/tail"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// tailLines is how much of a failed command's output goes into its error.
const tailLines = 20

// run sends one command line. A transport error is wrapped so errors.Is
// still sees transport.ErrConnLost and friends; a non-zero exit is data.
func run(ctx context.Context, t transport.Transport, what, line string) (transport.Result, error) {
	res, err := t.Run(ctx, transport.Command{Line: line})
	if err != nil {
		return transport.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

// commandFailed is the error for a command that ran and failed: it wraps
// patch.ErrCommandFailed and carries the exit code and the output's tail.
func commandFailed(what string, res transport.Result) error {
	out, _ := tail.Output(res.Stdout, res.Stderr, tailLines, tail.MaxBytes)
	return fmt.Errorf("%s: exit status %d: %w: %s", what, res.ExitCode, patch.ErrCommandFailed, out)
}

// excerpt bounds the output kept in InstallResult.Output.
func excerpt(res transport.Result) string {
	out, _ := tail.Output(res.Stdout, res.Stderr, tail.MaxLines, tail.MaxBytes)
	return out
}
