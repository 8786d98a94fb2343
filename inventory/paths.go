package inventory

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchrun/patchrun/internal/fsread"
)

// path turns a path setting into an absolute, clean path: "~" is the home
// directory, relative paths start at the inventory file's directory (so an
// inventory works the same from any working directory, cron included).
func (r *resolver) path(st setting) (string, bool) {
	p := st.val
	if p == "" {
		r.probs.add(st.line, st.key, "empty path", "give a file path or remove the key")
		return "", false
	}
	if msg := checkControl(p); msg != "" {
		r.probs.add(st.line, st.key, msg, "remove the control character")
		return "", false
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		if r.home == "" {
			r.probs.add(st.line, st.key, "cannot expand ~: home directory unknown", "write the full path")
			return "", false
		}
		p = filepath.Join(r.home, p[1:])
	} else if strings.HasPrefix(p, "~") {
		r.probs.add(st.line, st.key, "~user paths are not supported", "write the full path")
		return "", false
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.dir, p)
	}
	return filepath.Clean(p), true
}

func joinPath(elem ...string) string { return filepath.Join(elem...) }

// fileProblem says why the file at p (a what such as "password file", or
// "") can't be used, naming the path and, for an oversized file, the limit.
func fileProblem(what, p string, err error) string {
	name := strings.TrimSpace(what + " " + p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "cannot use " + name + ": no such file"
	case errors.Is(err, fs.ErrPermission):
		return "cannot use " + name + ": permission denied"
	case isDir(p):
		return name + " is a directory, not a file"
	case errors.Is(err, fsread.ErrNotRegular), errors.Is(err, fsread.ErrTooLarge):
		return strings.TrimSpace(what + " " + err.Error()) // fsread's message starts with the path
	}
	return "cannot use " + name + ": " + err.Error()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
