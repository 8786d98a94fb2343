package fleet

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// Shared by the package-manager programs: the lock fault, install pacing,
// the mid-install drop fault, fake sizes.

// waitLock waits for the package-manager lock the LockHeld fault holds.
// limit < 0 waits as long as ctx allows. It reports whether the lock is free.
func (p *proc) waitLock(ctx context.Context, limit time.Duration) bool {
	rem := p.h.lockRemaining()
	if rem == 0 {
		return true
	}
	if limit >= 0 && rem > limit {
		sleepCtx(ctx, limit)
		return false
	}
	return sleepCtx(ctx, rem) && p.h.lockRemaining() == 0
}

// installPause spends the configured per-package install time.
func (p *proc) installPause(ctx context.Context, n int) bool {
	return sleepCtx(ctx, time.Duration(n)*p.h.f.cfg.InstallTime)
}

// maybeDrop fires the DropDuringInstall fault: the transaction is applied
// (it keeps running on the host) and the connection is cut. It reports
// whether the caller must stop producing output. A detached job's
// transaction goes on as if nothing happened: only its follower's
// connection is cut.
func (p *proc) maybeDrop(apply func()) bool {
	if !p.h.takeDropFault() {
		return false
	}
	if p.sh.sess.detached {
		p.h.logf("dropping connection mid-install (fault); the detached job goes on")
		p.sh.sess.drop()
		return false
	}
	apply()
	p.h.logf("dropping connection mid-install (fault)")
	p.sh.sess.dropConn()
	return true
}

// sizeOf invents a stable download size in bytes for a package.
func sizeOf(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return 20_000 + int(h.Sum32()%2_000_000)
}

// kB formats bytes like apt: "1,234 kB".
func kB(n int) string {
	k := (n + 999) / 1000
	s := fmt.Sprint(k)
	if k >= 1000 {
		s = fmt.Sprintf("%d,%03d", k/1000, k%1000)
	}
	return s + " kB"
}

// humanSize formats bytes like dnf/zypper: "1.2 M", "512 k".
func humanSize(n int, mega, kilo string) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f %s", float64(n)/(1<<20), mega)
	default:
		return fmt.Sprintf("%.1f %s", float64(n)/(1<<10), kilo)
	}
}

// wrapList prints names as apt and zypper do: two-space indent, lines
// wrapped before 80 columns.
func wrapList(names []string) string {
	var b, line strings.Builder
	for _, n := range names {
		if line.Len() > 0 && line.Len()+1+len(n) > 78 {
			b.WriteString("  " + line.String() + "\n")
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(n)
	}
	if line.Len() > 0 {
		b.WriteString("  " + line.String() + "\n")
	}
	return b.String()
}

// splitEVR splits an rpm version "[epoch:]version-release".
func splitEVR(evr string) (epoch, version, release string) {
	if e, rest, ok := strings.Cut(evr, ":"); ok {
		epoch, evr = e, rest
	}
	if i := strings.LastIndexByte(evr, '-'); i >= 0 {
		return epoch, evr[:i], evr[i+1:]
	}
	return epoch, evr, ""
}

// matchSpec reports whether a package-manager argument names update u
// (name, name.arch, name-version, name-version.arch).
func matchSpec(spec string, name, version, arch string) bool {
	if spec == name || spec == name+"."+arch {
		return true
	}
	_, v, r := splitEVR(version)
	for _, full := range []string{name + "-" + version, name + "-" + v + "-" + r} {
		if spec == full || spec == full+"."+arch {
			return true
		}
	}
	return false
}

// pinnedOfferLocked finds the offer a versioned spec names: zypper's
// name=version, or an rpm name-version[.arch] of an offer a newer one
// superseded. An offer already installed is not one.
func (h *SimHost) pinnedOfferLocked(spec string) (Update, bool) {
	var cands []Update
	if name, version, ok := strings.Cut(spec, "="); ok {
		if u, ok := h.offerLocked(name, version); ok {
			cands = append(cands, u)
		}
	} else {
		for _, offers := range h.superseded {
			for _, u := range offers {
				if matchSpec(spec, u.Name, u.Version, u.Arch) && spec != u.Name && spec != u.Name+"."+u.Arch {
					cands = append(cands, u)
				}
			}
		}
	}
	for _, u := range cands {
		if ip := h.installed[u.Name]; ip != nil && !containsStr(ip.versions, u.Version) {
			return u, true
		}
	}
	return Update{}, false
}

// pendingByName finds pending updates matching the specs; unknown lists the
// specs that named no installed package.
func (h *SimHost) selectLocked(specs []string) (want []Update, unknown []string, current []string) {
	pending := h.pendingLocked()
	for _, s := range specs {
		found := false
		for _, u := range pending {
			if matchSpec(s, u.Name, u.Version, u.Arch) {
				want = append(want, u)
				found = true
			}
		}
		if u, ok := h.pinnedOfferLocked(s); ok && !found {
			want = append(want, u)
			found = true
		}
		if found {
			continue
		}
		isInstalled := false
		for name, ip := range h.installed {
			if matchSpec(s, name, ip.newest(), ip.arch) {
				isInstalled = true
				current = append(current, name)
				break
			}
		}
		if !isInstalled {
			unknown = append(unknown, s)
		}
	}
	return want, unknown, current
}
