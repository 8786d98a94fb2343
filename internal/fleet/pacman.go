package fleet

import (
	"context"
	"strings"
	"sync"
)

// pacman 6/7 (Arch Linux), modelled on the captures in
// patch/unix/testdata/pacman: -Sy into a --dbpath (the scan database),
// -Qu against it ("name old -> new", exit 1 when nothing), -Syu
// --noconfirm, -Q NAME. A held lock fails at once, as pacman's db.lck does.

func progPacman(ctx context.Context, p *proc) int {
	op, dbpath := "", "/var/lib/pacman"
	var names []string
	for i := 1; i < len(p.args); i++ {
		a := p.args[i]
		switch {
		case a == "--dbpath" || a == "-b":
			if i+1 < len(p.args) {
				i++
				dbpath = strings.TrimSuffix(p.args[i], "/")
			}
		case a == "--logfile" || a == "--config" || a == "--root":
			i++
		case a == "--version" || a == "-V":
			p.outf(" .--.                  Pacman v7.0.0 - libalpm v15.0.0\n")
			return 0
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && op == "":
			op = a[1:]
		case !strings.HasPrefix(a, "-"):
			names = append(names, a)
		}
	}
	h := p.h
	scanDB := dbpath != "/var/lib/pacman"
	synced := func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.dirs[cleanPath(dbpath)] || h.isDirLocked(dbpath)
	}
	switch {
	case strings.HasPrefix(op, "Q") && strings.Contains(op, "u"):
		if scanDB && !synced() {
			p.errf("error: failed to initialize alpm library:\n(root: /, dbpath: %s/)\ncould not find or read directory\n", dbpath)
			return 255
		}
		h.mu.Lock()
		pending := h.pendingLocked()
		if scanDB && h.files[dbpath+"/sync/core.db"] == "" {
			pending = nil
		}
		for _, u := range pending {
			p.outf("%s %s -> %s\n", u.Name, h.installed[u.Name].newest(), u.Version)
		}
		h.mu.Unlock()
		if len(pending) == 0 {
			return 1
		}
		return 0
	case strings.HasPrefix(op, "Q"):
		h.mu.Lock()
		defer h.mu.Unlock()
		code := 0
		for _, n := range names {
			if ip := h.installed[n]; ip != nil {
				p.outf("%s %s\n", n, ip.newest())
			} else {
				p.errf("error: package '%s' was not found\n", n)
				code = 1
			}
		}
		return code
	case strings.HasPrefix(op, "S") && strings.Contains(op, "y"):
		if !isRoot(p.env) {
			p.errf("error: you cannot perform this operation unless you are root.\n")
			return 1
		}
		if h.lockRemaining() > 0 {
			p.errf("error: failed to init transaction (unable to lock database)\nerror: could not lock database: File exists\n  if you're sure a package manager is not already running, you can remove %s/db.lck\n", dbpath)
			return 1
		}
		p.outf(":: Synchronizing package databases...\n core downloading...\n extra downloading...\n")
		h.mu.Lock()
		h.files[dbpath+"/sync/core.db"] = "synced"
		h.mu.Unlock()
		if strings.Contains(op, "u") {
			return pacmanUpgrade(ctx, p)
		}
		return 0
	}
	p.errf("error: no operation specified (use -h for help)\n")
	return 1
}

func pacmanUpgrade(ctx context.Context, p *proc) int {
	h := p.h
	h.mu.Lock()
	steps := h.planLocked(h.pendingLocked())
	h.mu.Unlock()
	p.outf(":: Starting full system upgrade...\n")
	if len(steps) == 0 {
		p.outf(" there is nothing to do\n")
		return 0
	}
	var list []string
	for _, s := range steps {
		list = append(list, s.U.Name+"-"+s.U.Version)
	}
	p.outf("resolving dependencies...\nlooking for conflicting packages...\n\nPackages (%d) %s\n\n", len(steps), strings.Join(list, "  "))
	p.outf(":: Proceed with installation? [Y/n] \n:: Retrieving packages...\n")
	var once sync.Once
	apply := func() { once.Do(func() { h.mu.Lock(); h.applyLocked(steps); h.mu.Unlock() }) }
	p.outf("checking keyring...\nchecking package integrity...\nloading package files...\nchecking for file conflicts...\n:: Processing package changes...\n")
	for i, s := range steps {
		if i == len(steps)/2 && p.maybeDrop(apply) {
			return 1
		}
		p.outf("upgrading %s...\n", s.U.Name)
	}
	if !p.installPause(ctx, len(steps)) {
		return 1
	}
	apply()
	return 0
}
