package unix

import (
	"context"
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// Installed-package listings, for matching advisories (--advisories): one
// command per host, run only when advisory files are given.
const (
	// CmdDpkgPackages lists installed packages with their source package
	// and its version (${source:Package} is the binary's own name when it
	// has no separate source).
	CmdDpkgPackages = envC + `dpkg-query -W -f '${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n'`
	// CmdRPMPackages lists installed packages with their source RPM.
	CmdRPMPackages = envC + `rpm -qa --qf '%{NAME}\t%{EPOCH}\t%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'`

	// maxPackageList caps the listing (a few hundred KiB on a full server).
	maxPackageList = 16 << 20
)

var (
	_ patch.PackageLister = (*aptBackend)(nil)
	_ patch.PackageLister = (*rpmBackend)(nil)
	_ patch.PackageLister = (*zypperBackend)(nil)
)

// InstalledPackages lists dpkg's installed packages.
func (b *aptBackend) InstalledPackages(ctx context.Context, t transport.Transport) ([]patch.Package, error) {
	out, err := listPackages(ctx, t, "dpkg-query -W", CmdDpkgPackages)
	if err != nil {
		return nil, err
	}
	return parseDpkgPackages(out), nil
}

// InstalledPackages lists the RPM database.
func (b *rpmBackend) InstalledPackages(ctx context.Context, t transport.Transport) ([]patch.Package, error) {
	return rpmPackages(ctx, t)
}

// InstalledPackages lists the RPM database.
func (b *zypperBackend) InstalledPackages(ctx context.Context, t transport.Transport) ([]patch.Package, error) {
	return rpmPackages(ctx, t)
}

func rpmPackages(ctx context.Context, t transport.Transport) ([]patch.Package, error) {
	out, err := listPackages(ctx, t, "rpm -qa", CmdRPMPackages)
	if err != nil {
		return nil, err
	}
	return parseRPMPackages(out), nil
}

func listPackages(ctx context.Context, t transport.Transport, what, line string) (string, error) {
	res, err := t.Run(ctx, transport.Command{Line: line, MaxOutput: maxPackageList})
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if res.ExitCode != 0 {
		return "", commandFailed(what, res)
	}
	if res.Truncated {
		return "", fmt.Errorf("%s: the list is longer than %d MiB", what, maxPackageList>>20)
	}
	return string(res.Stdout), nil
}

// parseDpkgPackages reads CmdDpkgPackages' lines, keeping installed
// packages ("ii", or "hi" when held).
func parseDpkgPackages(out string) []patch.Package {
	var pkgs []patch.Package
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 || len(f[0]) < 2 || f[0][1] != 'i' {
			continue
		}
		p := patch.Package{Name: f[1], Version: f[2], Arch: f[3], Source: f[4], SourceVersion: f[5]}
		// ${source:Package} may carry the source's version in parentheses
		// on old dpkg; keep the name.
		if name, _, ok := strings.Cut(p.Source, " "); ok {
			p.Source = name
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// parseRPMPackages reads CmdRPMPackages' lines. The source package's name
// and version come from the source RPM's file name
// (NAME-VERSION-RELEASE.src.rpm), with the binary's epoch.
func parseRPMPackages(out string) []patch.Package {
	var pkgs []patch.Package
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) < 5 || f[0] == "gpg-pubkey" {
			continue
		}
		epoch := ""
		if f[1] != "(none)" && f[1] != "" && f[1] != "0" {
			epoch = f[1] + ":"
		}
		p := patch.Package{Name: f[0], Version: epoch + f[2], Arch: f[3]}
		srpm := strings.TrimSuffix(strings.TrimSuffix(f[4], ".rpm"), ".src")
		if i := strings.LastIndexByte(srpm, '-'); i > 0 {
			if j := strings.LastIndexByte(srpm[:i], '-'); j > 0 {
				p.Source, p.SourceVersion = srpm[:j], epoch+srpm[j+1:]
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}
