package inventory

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
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

// statReason says briefly why a file can't be used.
func statReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
