package fleet

import (
	"context"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dnf 4 / yum (Rocky 9), rpm and needs-restarting, modelled on the captures
// in patch/unix/testdata/dnf and rpm.

type dnfOpts struct {
	bin      string
	verb     string
	rest     []string
	quiet    bool
	verbose  bool // -v: updateinfo list prints each advisory's date
	withCVE  bool // updateinfo list --with-cve: one row per CVE
	yes      bool
	security bool
	bugfix   bool
	enhance  bool
	reboot   bool // needs-restarting -r
}

func parseDnfArgs(args []string) dnfOpts {
	o := dnfOpts{bin: path.Base(args[0])}
	takesValue := map[string]bool{"-e": true, "-d": true, "--setopt": true, "--enablerepo": true,
		"--disablerepo": true, "--repo": true, "--repoid": true, "--advisory": true, "--advisories": true,
		"--sec-severity": true, "--secseverity": true, "--releasever": true, "-x": true, "--exclude": true}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-q" || a == "--quiet":
			o.quiet = true
		case a == "-y" || a == "--assumeyes":
			o.yes = true
		case a == "--security":
			o.security = true
		case a == "-v" || a == "--verbose":
			o.verbose = true
		case a == "--with-cve":
			o.withCVE = true
		case a == "--bugfix":
			o.bugfix = true
		case a == "--enhancement":
			o.enhance = true
		case a == "-r" || a == "--reboothint":
			o.reboot = true
		case takesValue[a]:
			i++
		case strings.HasPrefix(a, "-"):
			for _, c := range a[1:] { // -qy
				if strings.HasPrefix(a, "--") {
					break
				}
				switch c {
				case 'q':
					o.quiet = true
				case 'y':
					o.yes = true
				case 'v':
					o.verbose = true
				}
			}
		case o.verb == "":
			o.verb = a
		default:
			o.rest = append(o.rest, a)
		}
	}
	return o
}

func progDnf(ctx context.Context, p *proc) int {
	o := parseDnfArgs(p.args)
	switch o.verb {
	case "makecache":
		if !dnfLock(ctx, p) {
			return 1
		}
		if !o.quiet {
			for _, r := range sortedRepoKeys(p.h.prof.repos) {
				p.outf("%-48s %s\n", p.h.prof.repos[r].Dist, "4.1 MB/s | 2.3 MB     00:00")
			}
			p.outf("Metadata cache created.\n")
		}
		return 0
	case "check-update", "check-upgrade":
		return dnfCheckUpdate(p, o)
	case "updateinfo":
		return dnfUpdateinfo(p, o)
	case "upgrade", "update", "upgrade-minimal", "update-minimal", "install":
		return dnfUpgrade(ctx, p, o)
	case "needs-restarting":
		return progNeedsRestarting(ctx, &proc{sh: p.sh, h: p.h, env: p.env, io: p.io,
			args: append([]string{"needs-restarting"}, p.args[1:]...)})
	case "repolist":
		p.outf("repo id                         repo name\n")
		for _, r := range sortedRepoKeys(p.h.prof.repos) {
			p.outf("%-31s %s\n", r, p.h.prof.repos[r].Dist)
		}
		return 0
	case "list":
		return dnfList(p, o)
	case "":
		if containsStr(p.args, "--version") {
			p.outf("4.14.0\n  Installed: dnf-0:4.14.0-25.el9.noarch at Mon 02 Jun 2025 09:12:44 AM GMT\n")
			return 0
		}
		p.errf("usage: %s [options] COMMAND\n", o.bin)
		return 1
	}
	p.errf("No such command: %s. Please use /usr/bin/%s --help\nIt could be a DNF plugin command, try: \"%s install 'dnf-command(%s)'\"\n", o.verb, o.bin, o.bin, o.verb)
	return 1
}

// dnfLock: dnf 4 waits for another dnf to finish (no timeout).
func dnfLock(ctx context.Context, p *proc) bool {
	if p.h.lockRemaining() == 0 {
		return true
	}
	p.outf("Waiting for process with pid %d to finish.\n", p.h.prof.lockPID)
	return p.waitLock(ctx, -1)
}

func (p *proc) metadataLine() {
	p.outf("Last metadata expiration check: 0:03:12 ago on %s.\n", time.Now().UTC().Format("Mon 02 Jan 2006 03:04:05 PM MST"))
}

func dnfCheckUpdate(p *proc, o dnfOpts) int {
	h := p.h
	h.mu.Lock()
	pending := h.pendingLocked()
	h.mu.Unlock()
	if !o.quiet {
		p.metadataLine()
	}
	if len(pending) == 0 {
		return 0
	}
	p.outf("\n")
	rows := make([][3]string, 0, len(pending))
	for _, u := range pending {
		if o.security && !u.Security {
			continue
		}
		rows = append(rows, [3]string{u.Name + "." + u.Arch, u.Version, u.Repo})
	}
	p.columns3(rows, 42, 33)
	return 100
}

// columns3 prints three-column rows the way dnf lays them out: the first
// two columns padded to their widest cell (at least w0 and w1).
func (p *proc) columns3(rows [][3]string, w0, w1 int) {
	for _, r := range rows {
		w0, w1 = max(w0, len(r[0])), max(w1, len(r[1]))
	}
	for _, r := range rows {
		p.outf("%-*s %-*s %s\n", w0, r[0], w1, r[1], r[2])
	}
}

// nevra prints name-[epoch:]version-release.arch.
func nevra(name, evr, arch string) string { return name + "-" + evr + "." + arch }

func advisoryType(u Update) string {
	switch u.category() {
	case "security":
		sev := u.Severity
		if sev == "" {
			sev = "Unknown"
		}
		return sev + "/Sec."
	case "enhancement":
		return "enhancement"
	}
	return "bugfix"
}

func dnfUpdateinfo(p *proc, o dnfOpts) int {
	for _, w := range o.rest {
		switch w {
		case "security", "sec":
			o.security = true
		case "bugfix":
			o.bugfix = true
		case "enhancement":
			o.enhance = true
		}
	}
	h := p.h
	h.mu.Lock()
	pending := h.pendingLocked()
	h.mu.Unlock()
	filtered := pending[:0:0]
	for _, u := range pending {
		if u.Advisory == "" {
			continue
		}
		c := u.category()
		if (o.security || o.bugfix || o.enhance) &&
			!(o.security && c == "security" || o.bugfix && c == "bugfix" || o.enhance && c == "enhancement") {
			continue
		}
		filtered = append(filtered, u)
	}
	if !o.quiet {
		p.metadataLine()
	}
	if containsStr(o.rest, "summary") || containsStr(p.args, "--summary") {
		counts := map[string]int{}
		for _, u := range filtered {
			counts[u.category()]++
		}
		p.outf("Updates Information Summary: available\n")
		for _, c := range []string{"security", "bugfix", "enhancement"} {
			if n := counts[c]; n > 0 {
				p.outf("    %d %s notice(s)\n", n, map[string]string{"security": "Security", "bugfix": "Bugfix", "enhancement": "Enhancement"}[c])
			}
		}
		return 0
	}
	sort.SliceStable(filtered, func(i, j int) bool {
		if filtered[i].Advisory != filtered[j].Advisory {
			return filtered[i].Advisory < filtered[j].Advisory
		}
		return filtered[i].Name < filtered[j].Name
	})
	if o.withCVE {
		// dnf 4 --with-cve: "CVE-ID  TYPE  NEVRA", security advisories only.
		var rows [][3]string
		for _, u := range filtered {
			for _, c := range u.CVEs {
				rows = append(rows, [3]string{c, advisoryType(u), nevra(u.Name, u.Version, u.Arch)})
			}
		}
		p.columns3(rows, 0, 0)
		return 0
	}
	if o.verbose {
		// dnf -v prints its configuration on stdout first (as the real
		// capture shows), then a date column: the advisory's date, the
		// epoch when it has none.
		p.outf("DNF version: 4.14.0\ncachedir: /var/cache/dnf\n")
	}
	w0, w1, w2 := 0, 0, 0
	for _, u := range filtered {
		w0, w1, w2 = max(w0, len(u.Advisory)), max(w1, len(advisoryType(u))), max(w2, len(nevra(u.Name, u.Version, u.Arch)))
	}
	for _, u := range filtered {
		if !o.verbose {
			p.outf("%-*s %-*s %s\n", w0, u.Advisory, w1, advisoryType(u), nevra(u.Name, u.Version, u.Arch))
			continue
		}
		issued := u.Issued
		if issued.IsZero() {
			issued = time.Unix(0, 0)
		}
		p.outf("%-*s %-*s %-*s %s\n", w0, u.Advisory, w1, advisoryType(u), w2, nevra(u.Name, u.Version, u.Arch), issued.UTC().Format(time.DateTime))
	}
	return 0
}

func dnfList(p *proc, o dnfOpts) int {
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if containsStr(o.rest, "updates") || containsStr(o.rest, "upgrades") || containsStr(p.args, "--upgrades") || containsStr(p.args, "--updates") {
		p.outf("Available Upgrades\n")
		for _, u := range h.pendingLocked() {
			p.outf("%-42s %-33s %s\n", u.Name+"."+u.Arch, u.Version, u.Repo)
		}
		return 0
	}
	p.outf("Installed Packages\n")
	names := h.installedNamesLocked()
	for _, n := range names {
		ip := h.installed[n]
		for _, v := range ip.versions {
			p.outf("%-42s %-33s @anaconda\n", n+"."+ip.arch, v)
		}
	}
	return 0
}

func dnfUpgrade(ctx context.Context, p *proc, o dnfOpts) int {
	if !isRoot(p.env) {
		p.errf("Error: This command has to be run with superuser privileges (under the root user on most systems).\n")
		return 1
	}
	if !dnfLock(ctx, p) {
		return 1
	}
	h := p.h
	h.mu.Lock()
	var want []Update
	var unknown []string
	if len(o.rest) == 0 {
		for _, u := range h.pendingLocked() {
			if o.security && !u.Security {
				continue
			}
			want = append(want, u)
		}
	} else {
		want, unknown, _ = h.selectLocked(o.rest)
		if o.security {
			want = filterSecurity(want)
		}
	}
	steps := h.planLocked(want)
	h.mu.Unlock()

	if !o.quiet {
		p.metadataLine()
	}
	for _, u := range unknown {
		p.outf("No match for argument: %s\n", u)
	}
	if len(steps) == 0 {
		if len(unknown) > 0 && len(unknown) == len(o.rest) {
			p.errf("Error: No packages marked for upgrade.\n")
			return 1
		}
		p.outf("Dependencies resolved.\nNothing to do.\nComplete!\n")
		return 0
	}
	var installs, upgrades []txStep
	for _, s := range steps {
		if s.Old == "" || s.U.InstallOnly {
			installs = append(installs, s)
		} else {
			upgrades = append(upgrades, s)
		}
	}
	total := 0
	for _, s := range steps {
		total += sizeOf(s.U.Name)
	}
	if !o.quiet {
		rule := strings.Repeat("=", 80)
		p.outf("Dependencies resolved.\n%s\n %-20s %-16s %-20s %-14s %5s\n%s\n", rule, "Package", "Architecture", "Version", "Repository", "Size", rule)
		section := func(title string, ss []txStep) {
			if len(ss) == 0 {
				return
			}
			p.outf("%s:\n", title)
			for _, s := range ss {
				p.outf(" %-20s %-16s %-20s %-14s %5s\n", s.U.Name, s.U.Arch, s.U.Version, s.U.Repo, humanSize(sizeOf(s.U.Name), "M", "k"))
			}
		}
		section("Installing", installs)
		section("Upgrading", upgrades)
		p.outf("\nTransaction Summary\n%s\n", rule)
		if len(installs) > 0 {
			p.outf("Install  %d %s\n", len(installs), plural(len(installs), "Package", "Packages"))
		}
		if len(upgrades) > 0 {
			p.outf("Upgrade  %d %s\n", len(upgrades), plural(len(upgrades), "Package", "Packages"))
		}
		p.outf("\nTotal download size: %s\n", humanSize(total, "M", "k"))
	}
	if !o.yes {
		p.outf("Is this ok [y/N]: Operation aborted.\n")
		return 1
	}
	if !o.quiet {
		p.outf("Downloading Packages:\n")
		for i, s := range steps {
			p.outf("(%d/%d): %-50s 3.1 MB/s | %7s     00:00\n", i+1, len(steps), nevraNoEpoch(s.U)+".rpm", humanSize(sizeOf(s.U.Name), "MB", "kB"))
		}
		p.outf("Running transaction check\nTransaction check succeeded.\nRunning transaction test\nTransaction test succeeded.\nRunning transaction\n  Preparing        :                                                        1/1 \n")
	}
	var once sync.Once
	apply := func() { once.Do(func() { h.mu.Lock(); h.applyLocked(steps); h.mu.Unlock() }) }
	n := len(steps) + len(upgrades)
	if !o.quiet {
		for i, s := range steps {
			verb := "Upgrading"
			if s.Old == "" || s.U.InstallOnly {
				verb = "Installing"
			}
			p.outf("  %-17s: %-53s %d/%d \n", verb, nevra(s.U.Name, s.U.Version, s.U.Arch), i+1, n)
		}
	}
	if p.maybeDrop(apply) {
		return 1
	}
	if !p.installPause(ctx, len(steps)) {
		return 130
	}
	apply()
	if !o.quiet {
		for i, s := range upgrades {
			p.outf("  %-17s: %-53s %d/%d \n", "Cleanup", nevra(s.U.Name, s.Old, s.U.Arch), len(steps)+i+1, n)
		}
		for _, s := range steps {
			if s.U.Kernel != "" {
				p.outf("  %-17s: %-53s %d/%d \n", "Running scriptlet", nevra(s.U.Name, s.U.Version, s.U.Arch), n, n)
			}
		}
		p.outf("\n")
		list := func(title string, ss []txStep) {
			if len(ss) == 0 {
				return
			}
			names := make([]string, 0, len(ss))
			for _, s := range ss {
				names = append(names, nevra(s.U.Name, s.U.Version, s.U.Arch))
			}
			p.outf("%s:\n%s", title, wrapList(names))
		}
		list("Upgraded", upgrades)
		list("Installed", installs)
		p.outf("\nComplete!\n")
	}
	return 0
}

func nevraNoEpoch(u Update) string {
	_, v, r := splitEVR(u.Version)
	return u.Name + "-" + v + "-" + r + "." + u.Arch
}

func filterSecurity(us []Update) []Update {
	var out []Update
	for _, u := range us {
		if u.Security {
			out = append(out, u)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// progNeedsRestarting: -r exits 1 when core packages changed since boot.
func progNeedsRestarting(_ context.Context, p *proc) int {
	o := parseDnfArgs(append([]string{"needs-restarting", "x"}, p.args[1:]...))
	if !o.reboot {
		return 0 // no long-running processes worth listing in the simulation
	}
	h := p.h
	h.mu.Lock()
	pkgs := append([]string(nil), h.rebootPkgs...)
	h.mu.Unlock()
	sort.Strings(pkgs)
	if len(pkgs) == 0 {
		p.outf("No core libraries or services have been updated since boot-up.\nReboot should not be necessary.\n")
		return 0
	}
	p.outf("Core libraries or services have been updated since boot-up:\n")
	for _, n := range pkgs {
		p.outf("  * %s\n", n)
	}
	p.outf("\nReboot is required to fully utilize these updates.\nMore information: https://access.redhat.com/solutions/27943\n")
	return 1
}

// progRpm: -q / -qa with --qf/--queryformat, --version.
func progRpm(_ context.Context, p *proc) int {
	format := "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n"
	query, all := false, false
	var names []string
	args := p.args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--qf" || a == "--queryformat":
			if i+1 < len(args) {
				i++
				format = args[i]
			}
		case strings.HasPrefix(a, "--qf=") || strings.HasPrefix(a, "--queryformat="):
			_, format, _ = strings.Cut(a, "=")
		case a == "--version":
			p.outf("RPM version 4.16.1.3\n")
			return 0
		case a == "--query":
			query = true
		case a == "--all":
			all = true
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-"):
			query = query || strings.Contains(a, "q")
			all = all || strings.Contains(a, "a")
		default:
			names = append(names, a)
		}
	}
	if !query {
		p.errf("rpm: no operation specified\n")
		return 1
	}
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	render := func(name string, ip *instPkg, ver string) {
		e, v, r := splitEVR(ver)
		epochNum := e
		if e == "" {
			e, epochNum = "(none)", "0"
		}
		rep := strings.NewReplacer("%{NAME}", name, "%{VERSION}", v, "%{RELEASE}", r, "%{ARCH}", ip.arch,
			"%{EPOCH}", e, "%{EPOCHNUM}", epochNum, "%{INSTALLTIME}", strconv.FormatInt(h.lastInstall.Unix(), 10),
			"%{NEVRA}", name+"-"+ver+"."+ip.arch, "%{SOURCERPM}", sourcePackage(name)+"-"+v+"-"+r+".src.rpm",
			`\n`, "\n", `\t`, "\t")
		p.outf("%s", rep.Replace(format))
	}
	if all {
		for _, n := range h.installedNamesLocked() {
			if len(names) > 0 && !matchAny(names, n) {
				continue
			}
			for _, v := range h.installed[n].versions {
				render(n, h.installed[n], v)
			}
		}
		return 0
	}
	if len(names) == 0 {
		p.errf("rpm: no arguments given for query\n")
		return 1
	}
	missing := 0
	for _, spec := range names {
		found := false
		for n, ip := range h.installed {
			for _, v := range ip.versions {
				if matchSpec(spec, n, v, ip.arch) {
					render(n, ip, v)
					found = true
				}
			}
		}
		if !found {
			p.outf("package %s is not installed\n", spec)
			missing++
		}
	}
	return min(missing, 255)
}
