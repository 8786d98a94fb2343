package windows

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// ErrStaleHeartbeat: the installer stopped beating before it finished.
var ErrStaleHeartbeat = errors.New("installer heartbeat stale")

// ErrInstallTimeout: the install ran past Options.InstallTimeout.
var ErrInstallTimeout = errors.New("install timed out")

type startArgs struct {
	RunID     string   `json:"run_id"`
	UpdateIDs []string `json:"update_ids"`
	Installer string   `json:"installer"` // base64 of installer.ps1
}

type runArgs struct {
	RunID string `json:"run_id"`
}

// Install implements patch.Backend: one round of download and install of
// exactly the given updates, run by a SYSTEM scheduled task and followed by
// polling its status file. Its first round on a host removes what earlier
// runs killed before their own cleanup left behind (sweepLeftovers). The
// runner reboots and calls Install again for another round. full changes nothing: Windows Update has no host-wide
// upgrade that differs from installing every id.
func (b *Backend) Install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool) (patch.InstallResult, error) {
	var ids []string
	for _, u := range updates {
		if u.ID == "" {
			return patch.InstallResult{}, fmt.Errorf("install: update %q has no update id", u.Name)
		}
		ids = append(ids, u.ID)
	}
	if len(ids) == 0 {
		return patch.InstallResult{}, nil
	}
	runID, err := b.opts.NewRunID()
	if err != nil {
		return patch.InstallResult{}, fmt.Errorf("install: %w", err)
	}
	installer, err := Script(ScriptInstaller)
	if err != nil {
		return patch.InstallResult{}, fmt.Errorf("install: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, b.opts.InstallTimeout)
	defer cancel()
	var swept []string
	if !b.leftoversSwept {
		b.leftoversSwept = true
		swept = b.sweepLeftovers(ctx, t)
	}
	// Cleanup runs even when ctx ended (Ctrl-C, timeout): a task left behind
	// would keep its files forever. It is bounded on its own.
	defer b.cleanup(ctx, t, runID)

	var started struct {
		Task    string `json:"task"`
		WorkDir string `json:"work_dir"`
		Method  string `json:"method"`
	}
	args := startArgs{RunID: runID, UpdateIDs: ids, Installer: base64.StdEncoding.EncodeToString([]byte(installer))}
	if err := runScript(ctx, t, ScriptInstallStart, args, &started); err != nil {
		return patch.InstallResult{}, fmt.Errorf("install: start task: %w", err)
	}

	st, err := b.waitInstaller(ctx, t, runID)
	if err != nil {
		return patch.InstallResult{}, fmt.Errorf("install (task %s): %w", started.Task, err)
	}
	res := patch.InstallResult{
		Updates:        applyResults(updates, st),
		RebootRequired: st.RebootRequired,
		Output:         sweptLine(swept) + summary(started.Task, st),
	}
	if st.Phase == PhaseFailed {
		return res, &patch.CommandError{Command: "installer task " + started.Task, ExitCode: -1,
			Reason: "installer failed: " + st.Error, Output: res.Output}
	}
	return res, nil
}

// waitInstaller polls install-status until the installer wrote its final
// phase. Polls that fail because the connection dropped or the host is
// unreachable are retried with backoff: the task keeps running on the host.
func (b *Backend) waitInstaller(ctx context.Context, t transport.Transport, runID string) (*InstallStatus, error) {
	wait := b.opts.PollInterval
	var lastErr error
	for {
		if err := sleep(ctx, wait); err != nil {
			if lastErr != nil {
				return nil, fmt.Errorf("%w (last poll: %v)", ErrInstallTimeout, lastErr)
			}
			return nil, fmt.Errorf("%w: %w", ErrInstallTimeout, err)
		}
		var r StatusReport
		err := runScript(ctx, t, ScriptInstallStatus, runArgs{RunID: runID}, &r)
		if err != nil {
			if ctx.Err() == nil && (errors.Is(err, transport.ErrConnLost) || errors.Is(err, transport.ErrUnreachable)) {
				lastErr = err
				wait = min(2*wait, b.opts.RetryMax)
				continue
			}
			return nil, fmt.Errorf("status: %w", err)
		}
		lastErr, wait = nil, b.opts.PollInterval
		if r.Status.finished() {
			return r.Status, nil
		}
		if age, ok := r.heartbeatAge(); ok && age > b.opts.StaleAfter {
			return nil, fmt.Errorf("%w: last beat %s ago in phase %s (task %s)", ErrStaleHeartbeat,
				age.Round(time.Second), r.Status.Phase, r.TaskState)
		}
		if !r.TaskRunning && !r.Found {
			return nil, fmt.Errorf("%w: the installer task is %s and wrote no status", patch.ErrCommandFailed, r.TaskState)
		}
	}
}

// cleanup removes the task and its work directory, best effort.
func (b *Backend) cleanup(ctx context.Context, t transport.Transport, runID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.CleanupTimeout)
	defer cancel()
	var out struct {
		Removed bool `json:"removed"`
	}
	_ = runScript(ctx, t, ScriptInstallCleanup, runArgs{RunID: runID}, &out)
}

// summary is InstallResult.Output: one line per update.
func summary(task string, st *InstallStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "task %s: phase %s", task, st.Phase)
	if st.Error != "" {
		fmt.Fprintf(&b, ": %s", st.Error)
	}
	for _, r := range st.Updates {
		fmt.Fprintf(&b, "\n%s %s: %s", r.ID, r.Title, resultNames[r.ResultCode])
		if r.ResultCode != ResultSucceeded && r.HResult != "" {
			fmt.Fprintf(&b, " %s", r.HResult)
		}
	}
	if st.RebootRequired {
		b.WriteString("\nreboot required")
	}
	return b.String()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
