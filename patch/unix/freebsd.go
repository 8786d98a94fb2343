package unix

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// FreeBSDBase is the name of the one update that stands for the
// base-system patches freebsd-update has fetched.
const FreeBSDBase = "FreeBSD-base"

// freebsdBackend drives pkg (packages) and freebsd-update (the base
// system) on FreeBSD. One per host and worker.
type freebsdBackend struct{ host }

var _ patch.Backend = (*freebsdBackend)(nil)

// RecoveryHint: pkg check finds and repairs broken dependencies and
// damaged files.
func (b *freebsdBackend) RecoveryHint() string {
	return "run pkg check -d -a and pkg check -s -a to find broken dependencies and damaged files; freebsd-update IDS checks the base system"
}

func (b *freebsdBackend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	return b.facts(ctx, t, b.RebootRequired)
}

// Refresh: pkg update, the vulnerability database, freebsd-update fetch.
func (b *freebsdBackend) Refresh(ctx context.Context, t transport.Transport) error {
	return simpleRefresh(ctx, b.jobs(t, jobRefresh), "pkg update, freebsd-update fetch", b.priv(CmdPkgRefresh))
}

// scanPackages lists package upgrades, flagged Security when pkg audit
// lists the installed version as vulnerable.
func (b *freebsdBackend) scanPackages(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	res, err := run(ctx, t, "pkg upgrade -n", b.priv(CmdPkgScan))
	if err != nil {
		return nil, err
	}
	ups := parsePkgUpgradeDryRun(string(res.Stdout))
	// pkg upgrade -n exits 1 when it would upgrade something.
	if res.ExitCode != 0 && (res.ExitCode != 1 || len(ups) == 0) {
		return nil, commandFailed("pkg upgrade -n", res)
	}
	if len(ups) == 0 {
		return nil, nil
	}
	res, err = run(ctx, t, "pkg audit", CmdPkgAudit)
	if err != nil {
		return nil, err
	}
	if res.ExitCode > 1 {
		return nil, commandFailed("pkg audit", res)
	}
	vuln := parsePkgAudit(string(res.Stdout))
	for i := range ups {
		ups[i].Security = vuln[ups[i].Name]
	}
	return ups, nil
}

// Scan: package upgrades, then whether freebsd-update has base-system
// patches ready (fetched by Refresh). Those are one update, FreeBSDBase,
// counted as security (base patches are security advisories and errata
// notices) and predicted to need a reboot (a kernel patch does).
func (b *freebsdBackend) Scan(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	ups, err := b.scanPackages(ctx, t)
	if err != nil {
		return nil, err
	}
	res, err := run(ctx, t, "freebsd-update updatesready", b.priv(CmdFreeBSDUpdatesReady))
	if err != nil {
		return nil, err
	}
	switch res.ExitCode {
	case 0:
		ups = append(ups, patch.Update{Name: FreeBSDBase, Current: b.probe.kernel, Available: "fetched",
			Repo: "freebsd-update", Security: true, RebootRequired: true})
	case 2: // nothing fetched
	default:
		return nil, commandFailed("freebsd-update updatesready", res)
	}
	return ups, nil
}

// Install: `pkg upgrade -y` (with the package names unless full), then
// `freebsd-update install` when FreeBSDBase is among the updates.
// Verified by rescanning.
func (b *freebsdBackend) Install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool) (patch.InstallResult, error) {
	p, pkgs := b.planFor(updates)
	// Only the base system: no package to name, so the host-wide line
	// (which is then freebsd-update install alone) runs.
	return b.install(ctx, t, updates, full || pkgs == 0, p, "")
}

// installPlan is the plan of a package-only install; a job being followed
// runs whatever line it was started with.
func (b *freebsdBackend) installPlan() installPlan {
	p, _ := b.planFor(nil)
	return p
}

// planFor is the install plan for updates and how many of them are
// packages. The line runs as one detached job, under sudo as a whole when
// the backend uses it.
func (b *freebsdBackend) planFor(updates []patch.Update) (installPlan, int) {
	base, pkgs := "", 0
	for _, u := range updates {
		if u.Name == FreeBSDBase {
			base = " && " + CmdFreeBSDUpdateInstall
		} else {
			pkgs++
		}
	}
	line := func(pkgLine string) string {
		if pkgs == 0 && base != "" {
			return b.priv(CmdFreeBSDUpdateInstall)
		}
		return b.priv(pkgLine + base)
	}
	return installPlan{
		what:     "pkg upgrade",
		full:     line(CmdPkgUpgradeAll),
		subset:   func(names []string) string { return line(CmdPkgUpgrade(names)) },
		pin:      func(u patch.Update) string { return u.Name },
		nameable: func(u patch.Update) bool { return u.Name != FreeBSDBase },
		exec:     simpleExec,
		rescan:   b.Scan,
	}, pkgs
}

// RebootRequired: the documented FreeBSD rule, the installed kernel
// (freebsd-version -k) differs from the running one (uname -r).
func (b *freebsdBackend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	res, err := run(ctx, t, "freebsd-version -k", CmdFreeBSDKernels)
	if err != nil {
		return false, nil, fmt.Errorf("reboot required: %w", err)
	}
	if r := freebsdKernelSignal(string(res.Stdout)); r != "" {
		return true, []string{r}, nil
	}
	return false, nil, nil
}
