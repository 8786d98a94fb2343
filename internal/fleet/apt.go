package fleet

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apt-get / apt, modelled on apt 2.6 (Debian 12) output: see
// patch/unix/testdata/apt for the real captures these formats follow.

type aptOpts struct {
	bin         string
	verb        string
	pkgs        []string
	simulate    bool
	yes         bool
	quiet       int
	onlyUpgrade bool
	noLocking   bool
	lockTimeout time.Duration // DPkg::Lock::Timeout; 0 = fail at once
	confOld     bool
	confNew     bool
}

func parseAptArgs(args []string) (aptOpts, string) {
	o := aptOpts{bin: path.Base(args[0])}
	setOpt := func(kv string) string {
		k, v, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "dpkg::lock::timeout":
			n, err := strconv.Atoi(v)
			if err != nil {
				return "E: Option DPkg::Lock::Timeout: value is not a number"
			}
			o.lockTimeout = time.Duration(n) * time.Second
		case "debug::nolocking":
			o.noLocking = v == "1" || v == "true"
		case "dpkg::options::":
			o.confOld = o.confOld || v == "--force-confold"
			o.confNew = o.confNew || v == "--force-confnew"
		case "apt::get::assume-yes":
			o.yes = v == "1" || v == "true"
		}
		return ""
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "--option":
			if i+1 < len(args) {
				i++
				if e := setOpt(args[i]); e != "" {
					return o, e
				}
			}
		case strings.HasPrefix(a, "-o") && !strings.HasPrefix(a, "--"):
			if e := setOpt(a[2:]); e != "" {
				return o, e
			}
		case a == "--simulate" || a == "--dry-run" || a == "--just-print" || a == "--no-act" || a == "--recon":
			o.simulate = true
		case a == "--yes" || a == "--assume-yes":
			o.yes = true
		case a == "--quiet":
			o.quiet++
		case a == "--only-upgrade":
			o.onlyUpgrade = true
		case a == "--upgradable" || a == "--installed":
			o.pkgs = append(o.pkgs, a)
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, c := range a[1:] {
				switch c {
				case 's':
					o.simulate = true
				case 'y':
					o.yes = true
				case 'q':
					o.quiet++
				}
			}
		case o.verb == "":
			o.verb = a
		default:
			o.pkgs = append(o.pkgs, a)
		}
	}
	return o, ""
}

func isRoot(env map[string]string) bool { return env["USER"] == "root" }

func progApt(ctx context.Context, p *proc) int {
	o, bad := parseAptArgs(p.args)
	if bad != "" {
		p.errf("%s\n", bad)
		return 100
	}
	switch o.verb {
	case "update":
		return aptUpdate(ctx, p, o)
	case "upgrade", "dist-upgrade", "full-upgrade", "install":
		if o.verb == "full-upgrade" && o.bin == "apt-get" {
			o.verb = "dist-upgrade"
		}
		return aptInstall(ctx, p, o)
	case "list":
		if o.bin == "apt" {
			return aptList(p, o)
		}
	case "check", "clean", "autoclean", "autoremove":
		p.outf("Reading package lists...\nBuilding dependency tree...\nReading state information...\n")
		if o.verb == "autoremove" {
			p.outf("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
		}
		return 0
	case "":
		p.outf("apt 2.6.1 (amd64)\nUsage: %s [options] command\n", o.bin)
		return 1
	}
	p.errf("E: Invalid operation %s\n", o.verb)
	return 100
}

// aptLock takes a dpkg/apt lock, honouring DPkg::Lock::Timeout (scaled).
func aptLock(ctx context.Context, p *proc, o aptOpts, file string) bool {
	if p.h.lockRemaining() == 0 {
		return true
	}
	holder := fmt.Sprintf("It is held by process %d (unattended-upgr)", p.h.prof.lockPID)
	if o.lockTimeout > 0 {
		p.errf("Waiting for cache lock: Could not get lock %s. %s...\n", file, holder)
		if p.waitLock(ctx, p.h.f.cfg.scale(o.lockTimeout)) {
			return true
		}
	}
	p.errf("E: Could not get lock %s. %s\nN: Be aware that removing the lock file is not a solution and may break your system.\n", file, holder)
	if strings.HasSuffix(file, "lock-frontend") {
		p.errf("E: Unable to acquire the dpkg frontend lock (%s), is another process using it?\n", file)
	} else {
		p.errf("E: Unable to lock directory %s\n", path.Dir(file)+"/")
	}
	return false
}

func aptUpdate(ctx context.Context, p *proc, o aptOpts) int {
	const lists = "/var/lib/apt/lists/lock"
	if !isRoot(p.env) {
		p.errf("E: Could not open lock file %s - open (13: Permission denied)\nE: Unable to lock directory /var/lib/apt/lists/\n", lists)
		return 100
	}
	if !aptLock(ctx, p, o, lists) {
		return 100
	}
	if o.quiet >= 2 {
		return 0
	}
	repos := sortedRepoKeys(p.h.prof.repos)
	n := 0
	total := 0
	for _, r := range repos {
		ri := p.h.prof.repos[r]
		suite, _, _ := strings.Cut(ri.Dist, "/")
		n++
		if n == 1 {
			p.outf("Hit:%d %s %s InRelease\n", n, ri.URL, suite)
			continue
		}
		size := 40_000 + sizeOf(r)%20_000
		total += size
		p.outf("Get:%d %s %s InRelease [%s]\n", n, ri.URL, suite, kBDot(size))
	}
	p.outf("Fetched %s in 0s (%s/s)\nReading package lists...\n", kBDot(total), kBDot(total*3))
	return 0
}

// kBDot formats like apt's fetch sizes: "48.0 kB".
func kBDot(n int) string { return fmt.Sprintf("%.1f kB", float64(n)/1000) }

func sortedRepoKeys(m map[string]repoInfo) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// aptPlan is what an upgrade/install would do.
type aptPlan struct {
	steps       []txStep
	kept        []string
	newest      []string // "X is already the newest version (V)."
	skipped     []string // --only-upgrade of a package not installed
	unknown     string
	badVersion  string // name=version with no such version
	notUpgraded int
	half        []string
}

func (h *SimHost) aptPlanLocked(o aptOpts) aptPlan {
	var pl aptPlan
	for name := range h.halfConfig {
		pl.half = append(pl.half, name)
	}
	sort.Strings(pl.half)
	pending := h.pendingLocked()
	var want []Update
	switch o.verb {
	case "upgrade":
		for _, u := range pending {
			// apt-get upgrade never installs new packages: a kernel
			// metapackage that pulls a new image is kept back.
			newDep := false
			for _, r := range u.Requires {
				if h.installed[r] == nil {
					newDep = true
				}
			}
			if newDep && o.bin == "apt-get" {
				pl.kept = append(pl.kept, u.Name)
				continue
			}
			want = append(want, u)
		}
	case "dist-upgrade", "full-upgrade":
		want = pending
	case "install":
		for _, spec := range o.pkgs {
			name, version, pinned := strings.Cut(spec, "=")
			name, _, _ = strings.Cut(name, ":")
			u, inCatalog := h.offerLocked(name, version)
			ip := h.installed[name]
			if pinned && !inCatalog {
				if _, known := h.updates[name]; known || ip != nil {
					pl.badVersion = fmt.Sprintf("Version '%s' for '%s' was not found", version, name)
					return pl
				}
			}
			switch {
			case ip != nil && inCatalog && ip.newest() != u.Version:
				want = append(want, u)
			case ip != nil:
				pl.newest = append(pl.newest, fmt.Sprintf("%s is already the newest version (%s).", name, ip.newest()))
			case inCatalog && o.onlyUpgrade:
				pl.skipped = append(pl.skipped, fmt.Sprintf("Skipping %s, it is not installed and only upgrades are requested.", name))
			case inCatalog:
				want = append(want, u)
			default:
				pl.unknown = name
				return pl
			}
		}
	}
	pl.steps = h.planLocked(want)
	inTx := map[string]bool{}
	for _, s := range pl.steps {
		inTx[s.U.Name] = true
	}
	for _, u := range pending {
		if !inTx[u.Name] {
			pl.notUpgraded++
		}
	}
	return pl
}

func aptInstall(ctx context.Context, p *proc, o aptOpts) int {
	const frontend = "/var/lib/dpkg/lock-frontend"
	if !o.simulate {
		if !isRoot(p.env) {
			p.errf("E: Could not open lock file %s - open (13: Permission denied)\nE: Unable to acquire the dpkg frontend lock (%s), are you root?\n", frontend, frontend)
			return 100
		}
		if !aptLock(ctx, p, o, frontend) {
			return 100
		}
	}
	h := p.h
	h.mu.Lock()
	pl := h.aptPlanLocked(o)
	h.mu.Unlock()
	if len(pl.half) > 0 && !o.simulate {
		p.errf("E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n")
		return 100
	}
	p.outf("Reading package lists...\nBuilding dependency tree...\nReading state information...\n")
	if pl.unknown != "" {
		p.errf("E: Unable to locate package %s\n", pl.unknown)
		return 100
	}
	if pl.badVersion != "" {
		p.errf("E: %s\n", pl.badVersion)
		return 100
	}
	if o.verb != "install" {
		p.outf("Calculating upgrade...\n")
	}
	for _, l := range append(pl.newest, pl.skipped...) {
		p.outf("%s\n", l)
	}
	var newPkgs, upgraded []string
	for _, s := range pl.steps {
		if s.Old == "" {
			newPkgs = append(newPkgs, s.U.Name)
		} else {
			upgraded = append(upgraded, s.U.Name)
		}
	}
	if len(newPkgs) > 0 {
		p.outf("The following NEW packages will be installed:\n%s", wrapList(newPkgs))
	}
	if len(pl.kept) > 0 {
		p.outf("The following packages have been kept back:\n%s", wrapList(pl.kept))
	}
	if len(upgraded) > 0 {
		p.outf("The following packages will be upgraded:\n%s", wrapList(upgraded))
	}
	p.outf("%d upgraded, %d newly installed, 0 to remove and %d not upgraded.\n", len(upgraded), len(newPkgs), pl.notUpgraded)
	if o.simulate {
		for i, s := range pl.steps {
			origin := fmt.Sprintf("%s %s [%s]", s.U.Version, s.U.Repo, s.U.Arch)
			suffix := ""
			if i%3 == 1 { // real apt appends "[]" when it reorders for dependencies
				suffix = " []"
			}
			if s.Old != "" {
				p.outf("Inst %s [%s] (%s)%s\n", s.U.Name, s.Old, origin, suffix)
			} else {
				p.outf("Inst %s (%s)%s\n", s.U.Name, origin, suffix)
			}
			p.outf("Conf %s (%s)\n", s.U.Name, origin)
		}
		return 0
	}
	if len(pl.steps) == 0 {
		return 0
	}
	download := 0
	for _, s := range pl.steps {
		download += sizeOf(s.U.Name)
	}
	p.outf("Need to get %s of archives.\nAfter this operation, %s of additional disk space will be used.\n", kB(download), kB(download/3))
	if !o.yes {
		p.outf("Do you want to continue? [Y/n] Abort.\n")
		return 1
	}
	return aptCommit(ctx, p, o, pl.steps, download)
}

// aptCommit downloads, unpacks and configures the steps.
func aptCommit(ctx context.Context, p *proc, o aptOpts, steps []txStep, download int) int {
	h := p.h
	for i, s := range steps {
		ri := h.prof.repos[s.U.Repo]
		p.outf("Get:%d %s %s %s %s %s %s [%s]\n", i+1, ri.URL, ri.Dist, s.U.Arch, s.U.Name, s.U.Arch, s.U.Version, kB(sizeOf(s.U.Name)))
	}
	p.outf("Fetched %s in 1s (%s/s)\n", kB(download), kB(download))
	p.outf("(Reading database ... 34567 files and directories currently installed.)\n")
	for _, s := range steps {
		deb := fmt.Sprintf("%s_%s_%s.deb", s.U.Name, strings.ReplaceAll(s.U.Version, ":", "%3a"), s.U.Arch)
		if s.Old == "" {
			p.outf("Selecting previously unselected package %s.\n", s.U.Name)
		}
		p.outf("Preparing to unpack .../%s ...\n", deb)
		if s.Old == "" {
			p.outf("Unpacking %s (%s) ...\n", s.U.Name, s.U.Version)
		} else {
			p.outf("Unpacking %s (%s) over (%s) ...\n", s.U.Name, s.U.Version, s.Old)
		}
	}
	// Which conffiles the admin modified, decided before dpkg touches them.
	dirty := map[string]bool{}
	h.mu.Lock()
	for _, s := range steps {
		if s.U.Conffile != "" && h.confDirty[s.U.Name] {
			dirty[s.U.Name] = true
		}
	}
	h.mu.Unlock()
	keepsPrompting := !o.confOld && !o.confNew
	var failed []string
	for _, s := range steps {
		if dirty[s.U.Name] && keepsPrompting {
			failed = append(failed, s.U.Name)
		}
	}
	var once sync.Once
	apply := func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.applyLocked(steps)
			for name := range dirty {
				if keepsPrompting {
					h.halfConfig[name] = true
				} else if o.confNew {
					delete(h.confDirty, name)
				}
			}
		})
	}
	if p.maybeDrop(apply) {
		return 1
	}
	if !p.installPause(ctx, len(steps)) {
		return 130
	}
	apply()
	for _, s := range steps {
		p.outf("Setting up %s (%s) ...\n", s.U.Name, s.U.Version)
		if dirty[s.U.Name] {
			aptConffileText(p, s.U, o, keepsPrompting)
		}
		if s.U.Kernel != "" {
			p.outf("I: /vmlinuz is now a symlink to boot/vmlinuz-%s\n/etc/kernel/postinst.d/initramfs-tools:\nupdate-initramfs: Generating /boot/initrd.img-%s\n", s.U.Kernel, s.U.Kernel)
		}
	}
	if len(failed) > 0 {
		p.errf("Errors were encountered while processing:\n")
		for _, f := range failed {
			p.errf(" %s\n", f)
		}
		p.errf("E: Sub-process /usr/bin/dpkg returned an error code (1)\n")
		return 100
	}
	p.outf("Processing triggers for libc-bin (2.36-9+deb12u10) ...\n")
	return 0
}

// aptConffileText prints dpkg's conffile dialogue.
func aptConffileText(p *proc, u Update, o aptOpts, failed bool) {
	p.outf("\nConfiguration file '%s'\n ==> Modified (by you or by a script) since installation.\n ==> Package distributor has shipped an updated version.\n", u.Conffile)
	switch {
	case o.confNew:
		p.outf(" ==> Using new config file as default.\n")
	case !failed:
		p.outf(" ==> Keeping old config file as default.\n")
	default:
		p.outf("   What would you like to do about it ?  Your options are:\n    Y or I  : install the package maintainer's version\n    N or O  : keep your currently-installed version\n      D     : show the differences between the versions\n      Z     : start a shell to examine the situation\n The default action is to keep your current version.\n*** %s (Y/I/N/O/D/Z) [default=N] ? ", path.Base(u.Conffile))
		p.errf("dpkg: error processing package %s (--configure):\n end of file on stdin at conffile prompt\n", u.Name)
	}
}

// aptList implements `apt list --upgradable` / `--installed`.
func aptList(p *proc, o aptOpts) int {
	p.errf("\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n")
	p.outf("Listing...\n")
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if containsStr(o.pkgs, "--upgradable") {
		for _, u := range h.pendingLocked() {
			suite := u.Repo
			if i := strings.LastIndexByte(suite, '/'); i >= 0 {
				suite = suite[i+1:]
			}
			p.outf("%s/%s %s %s [upgradable from: %s]\n", u.Name, suite, u.Version, u.Arch, h.installed[u.Name].newest())
		}
		return 0
	}
	names := h.installedNamesLocked()
	for _, n := range names {
		ip := h.installed[n]
		p.outf("%s/now %s %s [installed]\n", n, ip.newest(), ip.arch)
	}
	return 0
}

// progDpkg: --configure -a (recovery), -l, -s, --print-architecture, --audit.
func progDpkg(ctx context.Context, p *proc) int {
	args := p.args[1:]
	confOld := hasArg(args, "--force-confold", "--force-confdef")
	confNew := hasArg(args, "--force-confnew")
	h := p.h
	switch {
	case hasArg(args, "--print-architecture"):
		p.outf("amd64\n")
		return 0
	case hasArg(args, "--configure"):
		if !isRoot(p.env) {
			p.errf("dpkg: error: requested operation requires superuser privilege\n")
			return 2
		}
		if !p.waitLock(ctx, 0) {
			p.errf("dpkg: error: dpkg frontend lock was locked by another process with pid %d\nNote: removing the lock file is always wrong, and can end up damaging the\nlocked area and the entire system. See <https://wiki.debian.org/Teams/Dpkg/FAQ#db-lock>.\n", h.prof.lockPID)
			return 2
		}
		h.mu.Lock()
		var names []string
		for n := range h.halfConfig {
			names = append(names, n)
		}
		sort.Strings(names)
		h.mu.Unlock()
		code := 0
		for _, n := range names {
			h.mu.Lock()
			u, ver := h.updates[n], h.installed[n].newest()
			h.mu.Unlock()
			p.outf("Setting up %s (%s) ...\n", n, ver)
			if !confOld && !confNew {
				aptConffileText(p, u, aptOpts{}, true)
				code = 1
				continue
			}
			aptConffileText(p, u, aptOpts{confOld: confOld, confNew: confNew}, false)
			h.mu.Lock()
			delete(h.halfConfig, n)
			if confNew {
				delete(h.confDirty, n)
			}
			h.mu.Unlock()
		}
		if code != 0 {
			p.errf("Errors were encountered while processing:\n")
			for _, n := range names {
				p.errf(" %s\n", n)
			}
		}
		return code
	case hasArg(args, "--audit", "-C"):
		h.mu.Lock()
		defer h.mu.Unlock()
		for n := range h.halfConfig {
			p.outf("The following packages are only half configured, probably due to problems\nconfiguring them the first time.  The configuration should be retried using\ndpkg --configure <package> or the configure menu option in dselect:\n %-20s %s\n", n, n)
		}
		return 0
	case hasArg(args, "-l", "--list"):
		return dpkgList(p, nonFlags(args))
	case hasArg(args, "-s", "--status"):
		return progDpkgQuery(ctx, &proc{sh: p.sh, h: p.h, env: p.env, io: p.io,
			args: append([]string{"dpkg-query", "-s"}, nonFlags(args)...)})
	}
	p.errf("dpkg: error: need an action option\n\nType dpkg --help for help about installing and deinstalling packages [*];\n")
	return 2
}

func nonFlags(args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

func dpkgList(p *proc, pats []string) int {
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	p.outf("Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n||/ Name           Version      Architecture Description\n+++-==============-============-============-=================================\n")
	names := h.installedNamesLocked()
	found := 0
	for _, n := range names {
		if len(pats) > 0 && !matchAny(pats, n) {
			continue
		}
		found++
		st := "ii"
		if h.halfConfig[n] {
			st = "iU"
		}
		ip := h.installed[n]
		p.outf("%s  %-14s %-12s %-12s %s\n", st, n, ip.newest(), ip.arch, n+" package")
	}
	if found == 0 && len(pats) > 0 {
		p.errf("dpkg-query: no packages found matching %s\n", pats[0])
		return 1
	}
	return 0
}

func matchAny(pats []string, name string) bool {
	for _, pt := range pats {
		if ok, _ := path.Match(pt, name); ok {
			return true
		}
	}
	return false
}

// progDpkgQuery: -W [-f FMT | --showformat=FMT] [pkg…], -s pkg.
func progDpkgQuery(_ context.Context, p *proc) int {
	format := "${binary:Package}\t${Version}\n"
	status := false
	var pats []string
	args := p.args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-f" || a == "--showformat":
			if i+1 < len(args) {
				i++
				format = args[i]
			}
		case strings.HasPrefix(a, "-f") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			format = strings.TrimPrefix(a[2:], "=")
		case strings.HasPrefix(a, "--showformat="):
			format = strings.TrimPrefix(a, "--showformat=")
		case a == "-s" || a == "--status":
			status = true
		case strings.HasPrefix(a, "-"):
		default:
			pats = append(pats, a)
		}
	}
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	names := h.installedNamesLocked()
	if len(pats) == 0 {
		pats = []string{"*"}
	}
	code := 0
	for _, pt := range pats {
		found := false
		for _, n := range names {
			if ok, _ := path.Match(pt, n); !ok {
				continue
			}
			found = true
			ip := h.installed[n]
			st, abbrev := "install ok installed", "ii "
			if h.halfConfig[n] {
				st, abbrev = "install ok half-configured", "iF "
			}
			if status {
				p.outf("Package: %s\nStatus: %s\nPriority: optional\nArchitecture: %s\nVersion: %s\n\n", n, st, ip.arch, ip.newest())
				continue
			}
			r := strings.NewReplacer("${Package}", n, "${binary:Package}", n, "${Version}", ip.newest(),
				"${source:Package}", sourcePackage(n), "${source:Version}", ip.newest(),
				"${Architecture}", ip.arch, "${Status}", st, "${db:Status-Abbrev}", abbrev,
				"${db:Status-Status}", strings.Fields(st)[2], `\n`, "\n", `\t`, "\t")
			p.outf("%s", r.Replace(format))
		}
		if !found {
			if status {
				p.errf("dpkg-query: package '%s' is not installed and no information is available\nUse dpkg --info (= dpkg-deb --info) to examine archive files.\n", pt)
			} else {
				p.errf("dpkg-query: no packages found matching %s\n", pt)
			}
			code = 1
		}
	}
	return code
}
