package fleet

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apk-tools 2.14 (Alpine 3.20), in the formats patch/unix parses
// (testdata/apk): `apk update`, `apk list -u`, `apk upgrade [NAME…]`.
// --wait N waits N (scaled) seconds for a held database lock. Exit codes:
// 0 ok, 99 not root, 1 locked.

func progApk(ctx context.Context, p *proc) int {
	verb, names, wait := "", []string(nil), time.Duration(0)
	upgradable := false
	for i := 1; i < len(p.args); i++ {
		a := p.args[i]
		switch {
		case a == "--wait" && i+1 < len(p.args):
			i++
			if n, err := strconv.Atoi(p.args[i]); err == nil {
				wait = p.h.f.cfg.scale(time.Duration(n) * time.Second)
			}
		case a == "-u" || a == "--upgradable" || a == "--upgradeable":
			upgradable = true
		case a == "--version" || a == "-V":
			p.outf("apk-tools 2.14.4, compiled for x86_64.\n")
			return 0
		case strings.HasPrefix(a, "-"):
		case verb == "":
			verb = a
		default:
			names = append(names, a)
		}
	}
	switch verb {
	case "update", "upgrade":
		if !isRoot(p.env) {
			p.errf("ERROR: Unable to lock database: Permission denied\nERROR: Failed to open apk database: Permission denied\n")
			return 99
		}
		if !p.waitLock(ctx, wait) {
			p.errf("ERROR: Unable to lock database: temporary error (try again later)\nERROR: Failed to open apk database: temporary error (try again later)\n")
			return 1
		}
	}
	switch verb {
	case "update":
		for _, r := range []string{"main", "community"} {
			p.outf("fetch %s/x86_64/APKINDEX.tar.gz\n", p.h.prof.repos[r].URL)
		}
		for _, r := range []string{"main", "community"} {
			p.outf("%s [%s]\n", p.h.prof.repos[r].Dist, p.h.prof.repos[r].URL)
		}
		p.outf("OK: 24170 distinct packages available\n")
		return 0
	case "list":
		if !upgradable {
			p.errf("ERROR: only apk list -u is simulated\n")
			return 1
		}
		h := p.h
		h.mu.Lock()
		for _, u := range h.pendingLocked() {
			p.outf("%s-%s %s {%s} (GPL-2.0-only) [upgradable from: %s-%s]\n", u.Name, u.Version, u.Arch, u.Repo, u.Name, h.installed[u.Name].newest())
		}
		h.mu.Unlock()
		return 0
	case "upgrade":
		return apkUpgrade(ctx, p, names)
	}
	p.errf("apk-tools 2.14.4, compiled for x86_64.\n\nusage: apk [<OPTIONS>...] COMMAND [<ARGUMENTS>...]\n")
	return 1
}

func apkUpgrade(ctx context.Context, p *proc, names []string) int {
	h := p.h
	h.mu.Lock()
	want := h.pendingLocked()
	if len(names) > 0 {
		want, _, _ = h.selectLocked(names)
	}
	steps := h.planLocked(want)
	h.mu.Unlock()
	var once sync.Once
	apply := func() { once.Do(func() { h.mu.Lock(); h.applyLocked(steps); h.mu.Unlock() }) }
	for i, s := range steps {
		if i == len(steps)/2 && p.maybeDrop(apply) {
			return 1
		}
		p.outf("(%d/%d) Upgrading %s (%s -> %s)\n", i+1, len(steps), s.U.Name, s.Old, s.U.Version)
		if s.U.Name == "busybox" {
			p.outf("Executing busybox-%s.post-upgrade\n", s.U.Version)
		}
	}
	if !p.installPause(ctx, len(steps)) {
		return 1
	}
	apply()
	if len(steps) > 0 {
		p.outf("Executing busybox-1.36.1-r30.trigger\n")
	}
	h.mu.Lock()
	n := len(h.installed)
	h.mu.Unlock()
	p.outf("OK: 12 MiB in %d packages\n", n)
	return 0
}

// progStat answers `stat -c %Y FILE` (busybox and coreutils alike): the
// file's modification time in seconds. The apk database moves with every
// install.
func progStat(_ context.Context, p *proc) int {
	if len(p.args) != 4 || p.args[1] != "-c" || p.args[2] != "%Y" {
		p.errf("stat: only stat -c %%Y FILE is simulated\n")
		return 1
	}
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	f := cleanPath(p.args[3])
	if _, ok := h.readFileLocked(f); !ok && f != "/lib/apk/db/installed" {
		p.errf("stat: can't stat '%s': No such file or directory\n", p.args[3])
		return 1
	}
	p.outf("%d\n", h.lastInstall.Unix())
	return 0
}

// progLn answers `ln [-sfn] TARGET LINK`: the link is a file holding
// "-> TARGET".
func progLn(_ context.Context, p *proc) int {
	var args []string
	for _, a := range p.args[1:] {
		if !strings.HasPrefix(a, "-") {
			args = append(args, a)
		}
	}
	if len(args) != 2 {
		p.errf("ln: missing file operand\n")
		return 1
	}
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	p.h.files[cleanPath(args[1])] = "-> " + args[0]
	return 0
}

// pacmanLogLocked is /var/log/pacman.log as pacman 6 writes it: the last
// install's line and the transaction's end.
func (h *SimHost) pacmanLogLocked() string {
	ts := h.lastInstall.UTC().Format("2006-01-02T15:04:05-0700")
	pkg, old, cur := "glibc", "2.40+r16+gaa533d58ee-1", "2.40+r16+gaa533d58ee-2"
	if h.lastPkg != "" {
		pkg, old, cur = h.lastPkg, h.lastOld, h.lastNew
	}
	return fmt.Sprintf("[%s] [PACMAN] Running 'pacman -Syu --noconfirm'\n[%s] [ALPM] transaction started\n[%s] [ALPM] upgraded %s (%s -> %s)\n[%s] [ALPM] transaction completed\n",
		ts, ts, ts, pkg, old, cur, ts)
}
