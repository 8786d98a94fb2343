package unix

import (
	"context"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// aptBackend drives apt-get (Debian, Ubuntu). One per host and worker.
type aptBackend struct{ host }

var (
	_ patch.Backend    = (*aptBackend)(nil)
	_ patch.BootStater = (*aptBackend)(nil)
)

// RecoveryHint: dpkg lists and finishes half-installed packages.
func (b *aptBackend) RecoveryHint() string {
	return "run dpkg --audit, then dpkg --configure -a to finish half-configured packages"
}

func (b *aptBackend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	return b.facts(ctx, t, b.RebootRequired)
}

func (b *aptBackend) Refresh(ctx context.Context, t transport.Transport) error {
	return simpleRefresh(ctx, b.jobs(t, jobRefresh), "apt-get update", b.priv(CmdAptRefresh))
}

func (b *aptBackend) Scan(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	return scanOnce(ctx, t, b.scanCommand())
}

// scanCommand: no sudo, a simulation with Debug::NoLocking needs no
// privileges.
func (b *aptBackend) scanCommand() scanCommand {
	return scanCommand{what: "apt-get -s dist-upgrade", line: CmdAptScan, parse: parseIfZero(parseAptSimulation)}
}

// Install runs dist-upgrade when full, else `install --only-upgrade` with
// exactly the given, already-installed packages at their offered versions
// (name=version; a new
// package in the list comes in as its parent's dependency). Success is
// verified by rescanning: an update still pending is not installed.
func (b *aptBackend) Install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool) (patch.InstallResult, error) {
	return b.install(ctx, t, updates, full, b.installPlan(), "")
}

func (b *aptBackend) installPlan() installPlan {
	return installPlan{
		what: "apt-get install",
		full: b.priv(CmdAptUpgradeAll),
		subset: func(specs []string) string {
			return b.priv(CmdAptInstall(specs))
		},
		pin: func(u patch.Update) string { return AptPin(u.Name, u.Available) },
		// Only already-installed packages may be named with --only-upgrade.
		nameable: func(u patch.Update) bool { return u.Current != "" },
		exec:     simpleExec,
		rescan:   b.Scan,
	}
}

// RebootRequired: /run/reboot-required (+ .pkgs) and the kernel backstop.
func (b *aptBackend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	return b.fileRebootRequired(ctx, t)
}

// BootState: the boot id and, in the same command, every signal
// RebootRequired reads (and the scan, when asked).
func (b *aptBackend) BootState(ctx context.Context, t transport.Transport, q patch.BootQuery) (patch.BootState, error) {
	return b.fileBootState(ctx, t, q, b.scanCommand())
}
