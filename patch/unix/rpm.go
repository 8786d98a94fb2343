package unix

import (
	"context"
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// rpmBackend drives dnf, dnf5 or yum (RHEL family, Fedora, Amazon Linux).
// One per host and worker.
type rpmBackend struct {
	host
	bin string // "dnf", "dnf5" or "yum"
}

var _ patch.Backend = (*rpmBackend)(nil)

// check-update exit codes (dnf and yum alike).
const (
	checkUpdateNone    = 0
	checkUpdatePending = 100
)

// RecoveryHint: rpm verifies installed files; the tool's history shows the
// transaction that was cut short.
func (b *rpmBackend) RecoveryHint() string {
	return "run rpm -Va to find damaged packages and " + b.bin + " history to see the interrupted transaction"
}

func (b *rpmBackend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	return b.facts(ctx, t, b.RebootRequired)
}

func (b *rpmBackend) Refresh(ctx context.Context, t transport.Transport) error {
	what := b.bin + " makecache"
	res, err := run(ctx, b.jobs(t, jobRefresh), what, b.priv(CmdRPMRefresh(b.bin)))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return commandFailed(what, res)
	}
	return nil
}

// checkUpdate lists pending updates without versions or security flags.
func (b *rpmBackend) checkUpdate(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	what := b.bin + " check-update"
	res, err := run(ctx, t, what, b.priv(CmdRPMCheckUpdate(b.bin)))
	if err != nil {
		return nil, err
	}
	switch res.ExitCode {
	case checkUpdateNone:
		return nil, nil
	case checkUpdatePending:
		return parseCheckUpdate(string(res.Stdout)), nil
	}
	return nil, commandFailed(what, res)
}

// pendingVersions: check-update (exit 100 = updates), then rpm -q for the
// installed versions.
func (b *rpmBackend) pendingVersions(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	ups, err := b.checkUpdate(ctx, t)
	if err != nil || len(ups) == 0 {
		return ups, err
	}
	var names []string
	seen := map[string]bool{}
	for _, u := range ups {
		if safeName.MatchString(u.Name) && !seen[u.Name] {
			seen[u.Name] = true
			names = append(names, u.Name)
		}
	}
	// rpm -q exits with the number of packages not installed: data, not failure.
	res, err := run(ctx, t, "rpm -q", CmdRPMInstalled(names))
	if err != nil {
		return nil, err
	}
	current := parseRPMQuery(string(res.Stdout))
	for i := range ups {
		ups[i].Current = current[ups[i].Name+"."+ups[i].Arch]
	}
	return ups, nil
}

// Scan: pending updates with their installed versions, then (one more
// round trip) their advisories: type, severity, date and CVEs, which also
// give the Security flag.
func (b *rpmBackend) Scan(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	ups, err := b.pendingVersions(ctx, t)
	if err != nil || len(ups) == 0 {
		return ups, err
	}
	what := b.bin + " updateinfo"
	res, err := run(ctx, t, what, CmdRPMAdvisories(b.bin, b.priv("")))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, commandFailed(what, res)
	}
	applyAdvisories(ups, parseRPMAdvisories(string(res.Stdout), b.bin == "dnf5"))
	return ups, nil
}

// Install runs `upgrade` (yum: `update`) with no names when full, else
// with exactly the given packages at their offered versions
// (name-version.arch); verified by rerunning check-update, and rpm -q for
// a package still listed (a newer version offered since its scan).
func (b *rpmBackend) Install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool) (patch.InstallResult, error) {
	return b.install(ctx, t, updates, full, b.installPlan(), "")
}

func (b *rpmBackend) installPlan() installPlan {
	return installPlan{
		what:   b.bin + " upgrade",
		full:   b.priv(CmdRPMUpgrade(b.bin, nil)),
		subset: func(specs []string) string { return b.priv(CmdRPMUpgrade(b.bin, specs)) },
		pin:    func(u patch.Update) string { return RPMPin(u.Name, u.Available, u.Arch) },
		exec:   simpleExec,
		rescan: b.pendingVersions,
	}
}

// RebootRequired: flag files, the kernel backstop, and needs-restarting
// (exit 1 = reboot needed). A missing plugin also exits 1 ("No such
// command"), and yum-utils may be absent (127): neither counts as a signal.
func (b *rpmBackend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	reasons, err := b.fileRebootSignals(ctx, t)
	if err != nil {
		return false, nil, fmt.Errorf("reboot required: %w", err)
	}
	res, err := run(ctx, t, "needs-restarting", b.priv(CmdRPMNeedsRestarting(b.bin)))
	if err != nil {
		return false, nil, fmt.Errorf("reboot required: %w", err)
	}
	if r, ok := parseNeedsRestarting(res); ok {
		reasons = append(reasons, r)
	}
	return len(reasons) > 0, reasons, nil
}

// parseNeedsRestarting turns a needs-restarting result into a reason.
func parseNeedsRestarting(res transport.Result) (string, bool) {
	if res.ExitCode != 1 {
		return "", false
	}
	all := string(res.Stdout) + "\n" + string(res.Stderr)
	if strings.Contains(all, "No such command") || strings.Contains(all, "command not found") {
		return "", false
	}
	var pkgs []string
	for _, l := range nonEmptyLines(string(res.Stdout)) {
		if p, ok := strings.CutPrefix(l, "* "); ok {
			pkgs = append(pkgs, strings.TrimSpace(p))
		}
	}
	r := "needs-restarting"
	if len(pkgs) > 0 {
		r += " (" + strings.Join(pkgs, ", ") + ")"
	}
	return r, true
}
