package connect

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"

	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/transport/ssh"
)

// userSSHConfig is the user's OpenSSH client config (~/.ssh/config), read
// at most once per Dialer, on first use, so a run that dials no SSH host
// never touches it. Safe for concurrent use: once guards the read and
// everything it sets is read-only afterwards.
type userSSHConfig struct {
	path string // "" means do not use one

	once      sync.Once
	data      []byte // nil when off or the file does not exist
	err       error  // read or syntax error; returned for every host
	localUser string // for %u; "" when unknown
}

// load reads and checks the file. Errors that do not depend on the host
// (syntax, and bad values in blocks every host gets) are found here, so
// they fail every SSH host of the run the same way.
func (c *userSSHConfig) load() ([]byte, error) {
	c.once.Do(func() {
		if c.path == "" {
			return
		}
		data, err := fsread.ReadFile(c.path, fsread.LimitConfig)
		if errors.Is(err, fs.ErrNotExist) {
			return // ssh without a config file is the normal case
		}
		if err != nil {
			c.err = fmt.Errorf("read ssh config: %w", err)
			return
		}
		if _, err := ssh.ParseSSHConfig(bytes.NewReader(data), ""); err != nil {
			c.err = fmt.Errorf("%s: %w", c.path, err)
			return
		}
		c.data = data
		if u, err := user.Current(); err == nil {
			// Windows says DOMAIN\name; ssh's %u is the name.
			c.localUser = u.Username[strings.LastIndex(u.Username, `\`)+1:]
		}
	})
	return c.data, c.err
}

// lookup returns what the file says for an inventory host name, exactly as
// `ssh NAME` would look it up: by the name, never by an address.
func (c *userSSHConfig) lookup(name string) (ssh.SSHConfigEntry, error) {
	data, err := c.load()
	if err != nil || data == nil {
		return ssh.SSHConfigEntry{}, err
	}
	e, err := ssh.ParseSSHConfig(bytes.NewReader(data), name)
	if err != nil {
		return ssh.SSHConfigEntry{}, fmt.Errorf("%s: %w", c.path, err)
	}
	return e, nil
}

// explicit reports whether the inventory set key k for h. A value that
// differs from the inventory's own default must have been set, which keeps
// hosts built in code (without Explicit marks) from being overridden.
func explicit(h inventory.Host, k inventory.ExplicitKeys) bool {
	if h.Explicit.Has(k) {
		return true
	}
	switch k {
	case inventory.ExplicitAddress:
		return h.Address != "" && h.Address != h.Name
	case inventory.ExplicitPort:
		return h.Port != 0 && h.Port != ssh.DefaultPort
	case inventory.ExplicitSSHKey:
		return h.SSH != nil && h.SSH.Key != ""
	case inventory.ExplicitProxyJump:
		return h.SSH != nil && h.SSH.ProxyJump != ""
	}
	return false
}

// applyEntry fills cfg's address, user and port from the ssh config entry
// where the inventory left them at their defaults. Precedence is OpenSSH's:
// what the inventory wrote (its command line) > ssh config > defaults.
// Address is also what known_hosts is checked against (ssh.Config.Address),
// so a HostName from the config is looked up there, as ssh does.
func applyEntry(cfg *ssh.Config, h inventory.Host, e ssh.SSHConfigEntry) {
	if e.HostName != "" && !explicit(h, inventory.ExplicitAddress) {
		cfg.Address = e.HostName
	}
	if e.User != "" && !explicit(h, inventory.ExplicitUser) {
		cfg.User = e.User
	}
	if e.Port != 0 && !explicit(h, inventory.ExplicitPort) {
		cfg.Port = e.Port
	}
}

// identityFiles expands the config's IdentityFile values for the host being
// dialled and keeps the files that exist: ssh skips a missing identity
// silently, and so do we. This is the one place they are expanded: a second
// pass would turn an escaped %% back into a token.
func (c *userSSHConfig) identityFiles(files []string, home string, cfg ssh.Config, name string) ([]string, error) {
	var out []string
	for _, f := range files {
		p, err := expandTokens(f, tokens{home: home, localUser: c.localUser, remoteUser: cfg.User, host: cfg.Address, port: cfg.Port, name: name})
		if err != nil {
			return nil, fmt.Errorf("%s: IdentityFile %q: %w", c.path, f, err)
		}
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// tokens are the values ssh_config's % tokens expand to.
type tokens struct {
	home       string // %d and ~
	localUser  string // %u
	remoteUser string // %r
	host       string // %h: the address dialled, after HostName
	port       int    // %p
	name       string // %n: the name as given, before HostName
}

// expandTokens expands a leading ~ and the supported % tokens in an
// IdentityFile path, in one pass: values inserted (a home directory with a %
// in its name) are never expanded again.
func expandTokens(p string, t tokens) (string, error) {
	var b strings.Builder
	start := 0
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		if t.home == "" {
			return "", errors.New("~ used but the home directory is unknown")
		}
		b.WriteString(t.home)
		start = 1
	}
	for i := start; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+1 == len(p) {
			return "", errors.New("path ends in a lone %")
		}
		i++
		var v string
		switch p[i] {
		case 'd':
			v = t.home
		case 'u':
			v = t.localUser
		case 'r':
			v = t.remoteUser
		case 'h':
			v = t.host
		case 'n':
			v = t.name
		case 'p':
			v = strconv.Itoa(cmp.Or(t.port, ssh.DefaultPort))
		case '%':
			v = "%"
		default:
			return "", fmt.Errorf("token %%%c is not supported (patchrun expands ~, %%d, %%u, %%r, %%h, %%n, %%p); write the path out or set ssh_key in the inventory", p[i])
		}
		if v == "" {
			return "", fmt.Errorf("token %%%c has no value here", p[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
