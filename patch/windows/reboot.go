package windows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// shutdown.exe exit codes the reboot handles.
const (
	exitShutdownScheduled  = 1190 // ERROR_SHUTDOWN_IS_SCHEDULED
	exitShutdownInProgress = 1115 // ERROR_SHUTDOWN_IN_PROGRESS
	exitNoShutdown         = 1116 // ERROR_NO_SHUTDOWN_IN_PROGRESS (shutdown /a found none to abort)
)

// rebootReport is the reboot script's result.
type rebootReport struct {
	FirstExit    int  `json:"first_exit"`
	Exit         int  `json:"exit"`
	AbortedOther bool `json:"aborted_other"`
}

// rebootArgs are the reboot script's arguments.
type rebootArgs struct {
	DelaySeconds int `json:"delay_seconds"`
}

// Reboot implements patch.Backend: shutdown.exe /r /t N (Options.RebootDelay
// in whole seconds, rounded up). A shutdown that is
// already scheduled is aborted and ours retried once (in the script); one
// already in progress (1115) counts as started, and so does a connection
// that drops while the command runs. The caller confirms the reboot by a
// changed BootID.
func (b *Backend) Reboot(ctx context.Context, t transport.Transport) error {
	var r rebootReport
	err := runScript(ctx, t, ScriptReboot, b.rebootArgs(), &r)
	switch {
	case errors.Is(err, transport.ErrConnLost):
		return nil
	case err != nil:
		return fmt.Errorf("reboot: %w", err)
	case r.Exit == 0, r.Exit == exitShutdownInProgress:
		return nil
	case r.Exit == exitShutdownScheduled:
		return fmt.Errorf("reboot: %w: another shutdown is still scheduled after shutdown /a (exit 1190)", patch.ErrCommandFailed)
	}
	return fmt.Errorf("reboot: %w: shutdown.exe exit status %d", patch.ErrCommandFailed, r.Exit)
}

// CancelReboot implements patch.Backend: shutdown.exe /a aborts the
// shutdown Reboot scheduled while its /t delay runs.
func (b *Backend) CancelReboot(ctx context.Context, t transport.Transport) error {
	var r struct {
		Exit int `json:"exit"`
	}
	if err := runScript(ctx, t, ScriptCancelReboot, nil, &r); err != nil {
		return fmt.Errorf("cancel reboot: %w", err)
	}
	switch r.Exit {
	case 0:
		return nil
	case exitNoShutdown:
		return fmt.Errorf("cancel reboot: %w (shutdown /a: no shutdown to abort, exit 1116)", patch.ErrRebootNotPending)
	}
	return fmt.Errorf("cancel reboot: %w: shutdown /a exit status %d", patch.ErrCommandFailed, r.Exit)
}

// ErrServicingBusy: the servicing stack is still working after a reboot.
var ErrServicingBusy = errors.New("servicing stack busy")

type readyReport struct {
	ServicingInProgress bool   `json:"servicing_in_progress"`
	TrustedInstaller    string `json:"trusted_installer"`
	Idle                bool   `json:"idle"`
}

// Ready implements patch.Backend: the servicing stack must be idle on two
// probes Options.ReadyPause apart (Windows often finishes update work just
// after a boot, and one good answer can be a lull). The runner retries
// Ready until it succeeds or its reboot timeout ends.
func (b *Backend) Ready(ctx context.Context, t transport.Transport) error {
	for i := range 2 {
		if i > 0 {
			if err := sleep(ctx, b.opts.ReadyPause); err != nil {
				return fmt.Errorf("ready: %w", err)
			}
		}
		var r readyReport
		if err := runScript(ctx, t, ScriptReady, nil, &r); err != nil {
			return fmt.Errorf("ready: %w", err)
		}
		if !r.Idle {
			return fmt.Errorf("ready: %w (servicing in progress: %t, TrustedInstaller: %s)",
				ErrServicingBusy, r.ServicingInProgress, r.TrustedInstaller)
		}
	}
	return b.runReadyCommand(ctx, t)
}

// rebootArgs: shutdown /t takes whole seconds.
func (b *Backend) rebootArgs() rebootArgs {
	return rebootArgs{DelaySeconds: int((b.opts.RebootDelay + time.Second - 1) / time.Second)}
}
