package windows

import (
	"context"
	"fmt"
	"strconv"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/winrm"
)

// runReadyCommand runs Options.ReadyCommand, if any: exit 0 means ready.
// It is PowerShell rather than cmd.exe because that is what a Windows
// administrator writes a service check in (Get-Service, Test-NetConnection).
func (b *Backend) runReadyCommand(ctx context.Context, t transport.Transport) error {
	cmd := b.opts.ReadyCommand
	if cmd == "" {
		return nil
	}
	what := "ready check " + strconv.Quote(cmd)
	res, err := winrm.RunPowerShell(ctx, t, cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if res.ExitCode != 0 {
		return patch.NewCommandError(what, res.ExitCode, res.Stdout, res.Stderr)
	}
	return nil
}
