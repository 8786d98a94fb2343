package unix

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// zypper exit codes (zypper(8) "EXIT CODES").
const (
	zypperOK            = 0
	zypperLocked        = 7
	zypperUpdates       = 100 // INF_UPDATE_NEEDED
	zypperSecUpdates    = 101 // INF_SEC_UPDATE_NEEDED
	zypperRebootNeeded  = 102 // INF_REBOOT_NEEDED
	zypperRestartNeeded = 103 // INF_RESTART_NEEDED: zypper updated itself, run again
	zypperReposSkipped  = 106 // INF_REPOS_SKIPPED: some repository failed to refresh
)

// zypperBackend drives zypper (SLES, openSUSE). One per host and worker.
type zypperBackend struct{ host }

var _ patch.Backend = (*zypperBackend)(nil)

// zypperRun runs a zypper line, retrying (bounded) while the lock is held
// (exit 7; ZYPP_LOCK_TIMEOUT already waited on the host) and rerunning when
// zypper updated itself (103). It reports whether zypper asked for a
// reboot (102). Other informational codes count as success.
func zypperRun(ctx context.Context, t transport.Transport, what, line string) (transport.Result, bool, error) {
	locked, reruns := 0, 0
	for {
		res, err := run(ctx, t, what, line)
		if err != nil {
			return res, false, err
		}
		switch res.ExitCode {
		case zypperOK, zypperUpdates, zypperSecUpdates, zypperReposSkipped:
			return res, false, nil
		case zypperRebootNeeded:
			return res, true, nil
		case zypperRestartNeeded:
			if reruns++; reruns <= maxZypperReruns {
				continue
			}
		case zypperLocked:
			if locked++; locked < maxZypperLockTry {
				continue
			}
		}
		return res, false, commandFailed(what, res)
	}
}

// RecoveryHint: zypper verify finds and fixes broken dependencies.
func (b *zypperBackend) RecoveryHint() string {
	return "run zypper verify to find and repair broken dependencies"
}

func (b *zypperBackend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	return b.facts(ctx, t, b.RebootRequired)
}

func (b *zypperBackend) Refresh(ctx context.Context, t transport.Transport) error {
	_, _, err := zypperRun(ctx, b.jobs(t, jobRefresh), "zypper refresh", b.priv(CmdZypperRefresh))
	return err
}

// listUpdates lists pending package updates without security flags.
func (b *zypperBackend) listUpdates(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	res, _, err := zypperRun(ctx, t, "zypper list-updates", b.priv(CmdZypperListUpdates))
	if err != nil {
		return nil, err
	}
	ups, err := parseZypperListUpdates(string(res.Stdout))
	if err != nil {
		return nil, fmt.Errorf("zypper list-updates: %w", err)
	}
	return ups, nil
}

// Scan: list-updates, then the patches (advisories: category, severity,
// date, CVEs) and, when any is pending, one more round trip for the
// packages each patch upgrades. A package in a security patch is a
// security update.
func (b *zypperBackend) Scan(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	ups, err := b.listUpdates(ctx, t)
	if err != nil || len(ups) == 0 {
		return ups, err
	}
	res, _, err := zypperRun(ctx, t, "zypper list-patches", b.priv(CmdZypperPatches))
	if err != nil {
		return nil, err
	}
	patches, err := parseZypperPatches(string(res.Stdout))
	if err != nil {
		return nil, fmt.Errorf("zypper list-patches: %w", err)
	}
	var names []string
	for _, p := range patches {
		if safeName.MatchString(p.ID) {
			names = append(names, p.ID)
		}
	}
	if len(names) == 0 {
		return ups, nil
	}
	res, _, err = zypperRun(ctx, t, "zypper info -t patch", b.priv(CmdZypperPatchInfo(names)))
	if err != nil {
		return nil, err
	}
	applyAdvisories(ups, zypperAdvisories(patches, parseZypperPatchInfo(string(res.Stdout))))
	return ups, nil
}

// Install runs `zypper update` when full, else `zypper install` with exactly
// the given packages at their offered versions (name=version); 103 reruns, 102 means installed and reboot needed. Verified by
// rerunning list-updates.
func (b *zypperBackend) Install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool) (patch.InstallResult, error) {
	return b.install(ctx, t, updates, full, b.installPlan(), "")
}

func (b *zypperBackend) installPlan() installPlan {
	return installPlan{
		what:   "zypper update",
		full:   b.priv(CmdZypperUpdate),
		subset: func(specs []string) string { return b.priv(CmdZypperInstall(specs)) },
		pin:    func(u patch.Update) string { return ZypperPin(u.Name, u.Available) },
		exec:   zypperRun,
		rescan: b.listUpdates,
	}
}

// RebootRequired: flag files, the kernel backstop and `zypper
// needs-rebooting` (exit 102). Any other exit (an old zypper without the
// command) is no signal.
func (b *zypperBackend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	reasons, err := b.fileRebootSignals(ctx, t)
	if err != nil {
		return false, nil, fmt.Errorf("reboot required: %w", err)
	}
	res, err := run(ctx, t, "zypper needs-rebooting", b.priv(CmdZypperNeedsRebooting))
	if err != nil {
		return false, nil, fmt.Errorf("reboot required: %w", err)
	}
	if res.ExitCode == zypperRebootNeeded {
		reasons = append(reasons, "zypper needs-rebooting")
	}
	return len(reasons) > 0, reasons, nil
}
