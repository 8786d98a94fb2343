package unix

import (
	"context"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// apkBackend drives apk (Alpine Linux). One per host and worker.
type apkBackend struct{ host }

var (
	_ patch.Backend    = (*apkBackend)(nil)
	_ patch.BootStater = (*apkBackend)(nil)
)

// RecoveryHint: apk fix reinstalls packages an interrupted apk left
// half-installed.
func (b *apkBackend) RecoveryHint() string {
	return "run apk fix to repair packages an interrupted apk left half-installed"
}

func (b *apkBackend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	return b.facts(ctx, t, b.RebootRequired)
}

func (b *apkBackend) Refresh(ctx context.Context, t transport.Transport) error {
	return simpleRefresh(ctx, b.jobs(t, jobRefresh), "apk update", b.priv(CmdApkRefresh))
}

// Scan: `apk list -u` against the cached indexes.
func (b *apkBackend) Scan(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	return scanOnce(ctx, t, b.scanCommand())
}

func (b *apkBackend) scanCommand() scanCommand {
	return scanCommand{what: "apk list -u", line: CmdApkScan, parse: parseIfZero(parseApkList)}
}

// Install runs `apk upgrade` with no names when full, else with exactly the
// given package names (apk takes no version there: see CmdApkUpgrade);
// verified by rescanning.
func (b *apkBackend) Install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool) (patch.InstallResult, error) {
	return b.install(ctx, t, updates, full, b.installPlan(), "")
}

func (b *apkBackend) installPlan() installPlan {
	return installPlan{
		what:   "apk upgrade",
		full:   b.priv(CmdApkUpgradeAll),
		subset: func(names []string) string { return b.priv(CmdApkUpgrade(names)) },
		pin:    func(u patch.Update) string { return u.Name },
		exec:   simpleExec,
		rescan: b.Scan,
	}
}

// RebootRequired: the running kernel differs from the installed one. apk
// replaces a kernel package in place, so its upgrade removes the running
// kernel's /lib/modules directory and adds the new one: the kernel
// backstop (with the generic flag files, absent on Alpine) is the signal.
func (b *apkBackend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	return b.fileRebootRequired(ctx, t)
}

// simpleRefresh runs a metadata refresh whose only success is exit 0.
func simpleRefresh(ctx context.Context, t transport.Transport, what, line string) error {
	res, err := run(ctx, t, what, line)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return commandFailed(what, res)
	}
	return nil
}

// BootState: the boot id and, in the same command, every signal
// RebootRequired reads (and the scan, when asked).
func (b *apkBackend) BootState(ctx context.Context, t transport.Transport, q patch.BootQuery) (patch.BootState, error) {
	return b.fileBootState(ctx, t, q, b.scanCommand())
}
