package fleet

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// The virtual filesystem: a flat map of regular files plus a set of explicit
// directories; any prefix of a file path is a directory too. A few /proc
// files are computed from the running state. All methods need h.mu held.

// cleanPath normalises p and folds the usrmerge alias /usr/lib/modules onto
// /lib/modules.
func cleanPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/root/" + p // the login user's home is the working directory
	}
	p = path.Clean(p)
	if p == "/usr/lib/modules" || strings.HasPrefix(p, "/usr/lib/modules/") {
		p = strings.TrimPrefix(p, "/usr")
	}
	return p
}

// readFileLocked returns a file's content and whether it exists.
func (h *SimHost) readFileLocked(p string) (string, bool) {
	p = cleanPath(p)
	switch p {
	case "/proc/sys/kernel/random/boot_id":
		return h.bootID + "\n", true
	case "/proc/uptime":
		up := time.Since(h.bootedAt).Seconds()
		return fmt.Sprintf("%.2f %.2f\n", up, up*1.9), true
	case "/proc/version":
		return "Linux version " + h.kernel + " (simulated) #1 SMP PREEMPT_DYNAMIC\n", true
	case "/proc/sys/kernel/hostname":
		return h.name + "\n", true
	case "/dev/null":
		return "", true
	case "/var/log/dpkg.log":
		if h.prof.manager == "apt" {
			return h.dpkgLogLocked(), true
		}
	case "/var/log/pacman.log":
		if h.prof.manager == "pacman" {
			return h.pacmanLogLocked(), true
		}
	}
	s, ok := h.files[p]
	return s, ok
}

func (h *SimHost) isDirLocked(p string) bool {
	p = cleanPath(p)
	if p == "/" || h.dirs[p] {
		return true
	}
	switch p {
	case "/proc", "/proc/sys", "/proc/sys/kernel", "/proc/sys/kernel/random", "/dev":
		return true
	}
	prefix := p + "/"
	for f := range h.files {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	for d := range h.dirs {
		if strings.HasPrefix(d, prefix) {
			return true
		}
	}
	return false
}

// listDirLocked returns the sorted names directly inside directory p.
func (h *SimHost) listDirLocked(p string) []string {
	p = cleanPath(p)
	prefix := p + "/"
	if p == "/" {
		prefix = "/"
	}
	set := map[string]bool{}
	add := func(full string) {
		if !strings.HasPrefix(full, prefix) {
			return
		}
		rest := strings.TrimPrefix(full, prefix)
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i]
		}
		if rest != "" {
			set[rest] = true
		}
	}
	for f := range h.files {
		add(f)
	}
	for d := range h.dirs {
		add(d)
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// writeFileLocked creates or replaces (or appends to) a file. It fails like
// dash when the parent directory does not exist.
func (h *SimHost) writeFileLocked(p, data string, appendTo bool) error {
	p = cleanPath(p)
	if p == "/dev/null" {
		return nil
	}
	if strings.HasPrefix(p, "/proc/") || h.isDirLocked(p) {
		return fmt.Errorf("cannot create %s: Permission denied", p)
	}
	if !h.isDirLocked(path.Dir(p)) {
		return fmt.Errorf("cannot create %s: Directory nonexistent", p)
	}
	if appendTo {
		data = h.files[p] + data
	}
	h.files[p] = data
	return nil
}

// removeLocked deletes a file or (recursive) a directory tree.
func (h *SimHost) removeLocked(p string, recursive bool) bool {
	p = cleanPath(p)
	if _, ok := h.files[p]; ok {
		delete(h.files, p)
		return true
	}
	if !recursive || !h.isDirLocked(p) {
		return false
	}
	prefix := p + "/"
	for f := range h.files {
		if strings.HasPrefix(f, prefix) {
			delete(h.files, f)
		}
	}
	for d := range h.dirs {
		if d == p || strings.HasPrefix(d, prefix) {
			delete(h.dirs, d)
		}
	}
	return true
}

// clearTmpfsLocked empties /run and /tmp, as a boot does with tmpfs mounts.
func (h *SimHost) clearTmpfsLocked() {
	for f := range h.files {
		if strings.HasPrefix(f, "/run/") || strings.HasPrefix(f, "/tmp/") {
			delete(h.files, f)
		}
	}
	for d := range h.dirs {
		if strings.HasPrefix(d, "/run/") || strings.HasPrefix(d, "/tmp/") {
			delete(h.dirs, d)
		}
	}
}
