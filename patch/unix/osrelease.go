package unix

import (
	"strconv"
	"strings"
)

// osRelease holds the os-release fields the backends use.
type osRelease struct {
	ID        string
	IDLike    []string
	VersionID string
	Pretty    string
	Name      string // NAME: "Debian GNU/Linux"
}

// parseOSRelease reads os-release(5) text: KEY=value lines, values
// optionally quoted with shell quoting.
func parseOSRelease(text string) osRelease {
	var r osRelease
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		val = unquoteOSRelease(val)
		switch key {
		case "ID":
			r.ID = strings.ToLower(val)
		case "ID_LIKE":
			r.IDLike = strings.Fields(strings.ToLower(val))
		case "VERSION_ID":
			r.VersionID = val
		case "PRETTY_NAME":
			r.Pretty = val
		case "NAME":
			r.Name = val
		}
	}
	return r
}

func unquoteOSRelease(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	return v
}

// String is "ID VERSION_ID" ("debian 12", "rocky 9.3"), or "unknown".
func (r osRelease) String() string {
	s := strings.TrimSpace(r.ID + " " + r.VersionID)
	if s == "" {
		return "unknown"
	}
	return s
}

// Family names the distribution family: debian, rhel, suse, arch, alpine,
// or the ID itself when nothing is known about it.
func (r osRelease) Family() string {
	for _, id := range append([]string{r.ID}, r.IDLike...) {
		switch {
		case id == "debian" || id == "ubuntu":
			return "debian"
		case id == "rhel" || id == "fedora" || id == "centos" || id == "amzn":
			return "rhel"
		case id == "suse" || id == "sles" || strings.HasPrefix(id, "opensuse"):
			return "suse"
		case id == "arch" || id == "alpine":
			return id
		}
	}
	return r.ID
}
