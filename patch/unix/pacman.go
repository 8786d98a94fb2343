package unix

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// pacmanBackend drives pacman (Arch Linux). One per host and worker.
//
// Arch supports only full upgrades: the scan syncs into a separate
// database path (PacmanScanDB, as checkupdates does) so it never leaves
// the host half-synced, and an install is always `pacman -Syu`. A
// selection that leaves some pending update out is refused, not applied
// as a partial upgrade.
type pacmanBackend struct{ host }

var (
	_ patch.Backend    = (*pacmanBackend)(nil)
	_ patch.BootStater = (*pacmanBackend)(nil)
)

// pacmanPartialRefused is the error of every update of a refused partial
// install.
const pacmanPartialRefused = "not installed: Arch Linux supports only full upgrades (pacman -Syu); select every pending update of this host (no --include, --exclude or --security-only narrowing it) to patch it"

// RecoveryHint: an interrupted pacman leaves its lock file behind.
func (b *pacmanBackend) RecoveryHint() string {
	return "if no pacman runs, remove /var/lib/pacman/db.lck, then run pacman -Syu; pacman -Qk checks installed files"
}

func (b *pacmanBackend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	return b.facts(ctx, t, b.RebootRequired)
}

// Refresh syncs the repositories' databases into PacmanScanDB only.
func (b *pacmanBackend) Refresh(ctx context.Context, t transport.Transport) error {
	return simpleRefresh(ctx, b.jobs(t, jobRefresh), "pacman -Sy (scan database)", b.priv(CmdPacmanRefresh))
}

// Scan: `pacman -Qu` against PacmanScanDB. Exit 1 with nothing printed
// means nothing is pending.
func (b *pacmanBackend) Scan(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	return scanOnce(ctx, t, b.scanCommand())
}

func (b *pacmanBackend) scanCommand() scanCommand {
	return scanCommand{what: "pacman -Qu", line: CmdPacmanScan, parse: parsePacmanScan}
}

// parsePacmanScan reads `pacman -Qu`: exit 1 with nothing printed means
// nothing is pending.
func parsePacmanScan(what string, res transport.Result) ([]patch.Update, error) {
	ups := parsePacmanQueryUpgrades(string(res.Stdout))
	switch {
	case res.ExitCode == 0 && len(ups) > 0:
		return ups, nil
	case res.ExitCode == 1 && len(nonEmptyLines(string(res.Stdout))) == 0 && len(nonEmptyLines(string(res.Stderr))) == 0:
		return nil, nil
	}
	return nil, commandFailed(what+" (run without --no-refresh once to create "+PacmanScanDB+")", res)
}

// Install always runs `pacman -Syu --noconfirm`. Without full, the given
// updates must still be every pending update at the version it offers
// (a saved plan made of all of them); otherwise nothing is installed and
// each update says why. Verified by rescanning.
func (b *pacmanBackend) Install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool) (patch.InstallResult, error) {
	if !full && len(updates) > 0 {
		pending, err := b.Scan(ctx, t)
		if err != nil {
			res := patch.InstallResult{Updates: append([]patch.Update(nil), updates...)}
			markUnset(res.Updates, "not installed: scan before install failed")
			return res, fmt.Errorf("pacman: %w", err)
		}
		if !coversAll(updates, pending) {
			res := patch.InstallResult{Updates: append([]patch.Update(nil), updates...)}
			markUnset(res.Updates, pacmanPartialRefused)
			return res, nil
		}
	}
	return b.install(ctx, t, updates, true, b.installPlan(), "")
}

func (b *pacmanBackend) installPlan() installPlan {
	return installPlan{
		what:   "pacman -Syu",
		full:   b.priv(CmdPacmanUpgradeAll),
		pin:    func(u patch.Update) string { return u.Name },
		exec:   simpleExec,
		rescan: b.Scan,
	}
}

// coversAll reports whether chosen holds every pending update at the
// version it offers now.
func coversAll(chosen, pending []patch.Update) bool {
	want := map[string]string{}
	for _, u := range chosen {
		want[u.Name] = u.Available
	}
	for _, u := range pending {
		if v, ok := want[u.Name]; !ok || v != u.Available {
			return false
		}
	}
	return true
}

// RebootRequired: the running kernel differs from the installed one. A
// kernel upgrade on Arch removes the running kernel's modules directory
// (/usr/lib/modules, which /lib/modules links to), so the kernel backstop
// is the signal.
func (b *pacmanBackend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	return b.fileRebootRequired(ctx, t)
}

// BootState: the boot id and, in the same command, every signal
// RebootRequired reads (and the scan, when asked).
func (b *pacmanBackend) BootState(ctx context.Context, t transport.Transport, q patch.BootQuery) (patch.BootState, error) {
	return b.fileBootState(ctx, t, q, b.scanCommand())
}
