// Package unix holds patchrun's Unix OS backends: apt (Debian, Ubuntu),
// dnf/dnf5 and yum (RHEL family, Fedora, Amazon Linux), zypper (SLES,
// openSUSE), apk (Alpine), pacman (Arch) and, on FreeBSD, pkg with
// freebsd-update for the base system. Detect probes a host over its transport and returns the
// backend that drives its package manager. Every command line sent is in
// commands.go.
package unix

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// familyManagers is the preferred package manager order per family; a host
// carrying several (a Debian box with dnf installed) is driven by its own.
var familyManagers = map[string][]string{
	"debian":  {"apt-get"},
	"rhel":    {"dnf5", "dnf", "yum"},
	"suse":    {"zypper"},
	"alpine":  {"apk"},
	"arch":    {"pacman"},
	"freebsd": {"pkg"},
}

// fallbackManagers is the probing order when the family says nothing.
var fallbackManagers = []string{"apt-get", "dnf5", "dnf", "yum", "zypper", "apk", "pacman"}

// Detect probes the host in one round trip (os-release, kernel, boot id,
// package managers present, uid, systemd-run) and returns the backend for
// its package manager. The choice is by what is installed (dnf before yum,
// dnf5 before dnf), guided by the os-release family. A host without a
// supported manager yields an error wrapping patch.ErrUnsupported.
func Detect(ctx context.Context, t transport.Transport, opts Options) (patch.Backend, error) {
	res, err := run(ctx, t, "detect", CmdProbe)
	if err != nil {
		return nil, err
	}
	p := parseProbe(string(res.Stdout))
	if p.kernel == "" && len(p.managers) == 0 && p.os.ID == "" {
		return nil, fmt.Errorf("detect: probe printed nothing usable: %w", commandFailed("probe", res))
	}
	return backendFor(p, opts)
}

// backendFor chooses the backend for a parsed probe.
func backendFor(p probe, opts Options) (patch.Backend, error) {
	order := append(append([]string{}, familyManagers[p.os.Family()]...), fallbackManagers...)
	for _, m := range order {
		if !p.managers[m] {
			continue
		}
		switch m {
		case "apt-get":
			return withPlan(&aptBackend{newHost(p, "apt", opts)}), nil
		case "dnf5", "dnf", "yum":
			return withPlan(&rpmBackend{host: newHost(p, m, opts), bin: m}), nil
		case "zypper":
			return withPlan(&zypperBackend{newHost(p, "zypper", opts)}), nil
		case "apk":
			return withPlan(&apkBackend{newHost(p, "apk", opts)}), nil
		case "pacman":
			return withPlan(&pacmanBackend{newHost(p, "pacman", opts)}), nil
		case "pkg":
			if p.os.Family() != "freebsd" {
				continue // another OS's "pkg" (Termux, Solaris)
			}
			if opts.JobDir == "" {
				opts.JobDir = FreeBSDJobDir
			}
			return withPlan(&freebsdBackend{newHost(p, "pkg", opts)}), nil
		}
	}
	found := make([]string, 0, len(p.managers))
	for m := range p.managers {
		found = append(found, m)
	}
	sort.Strings(found)
	what := "no package manager found"
	if len(found) > 0 {
		what = "package manager " + strings.Join(found, ", ") + " not supported"
	}
	return nil, fmt.Errorf("detect %s: %s: %w", p.os, what, patch.ErrUnsupported)
}

// planner is a Linux/BSD backend: its install plan, and the host it embeds.
type planner interface {
	installPlan() installPlan
	base() *host
}

// withPlan gives b's embedded host b's install plan, so that
// ReattachInstall (a host method) can follow a job another process started.
func withPlan[B planner](b B) B {
	b.base().plan = b.installPlan
	return b
}
