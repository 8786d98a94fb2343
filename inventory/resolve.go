package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/internal/fsread"
)

// resolver turns hostSpecs into Hosts with one set of rules for every
// format. Owned by one Load call; not safe for concurrent use.
type resolver struct {
	file        string // inventory path as given, for Source
	dir         string // absolute directory of the inventory
	home        string // "" when unknown
	getenv      func(string) string
	defaultUser string
	probs       *problems
	warns       *problems
	secretFiles map[string]fileSecret // password files read once per Load
	fileChecks  map[string]error      // paths checked once per Load, not once per host

	// Hosts with equal settings or group lists share one copy.
	ssh    shared[SSHSettings]
	winrm  shared[WinRMSettings]
	groups sharedLists
}

// shared hands out one pointer per distinct value.
type shared[T comparable] map[T]*T

func (s shared[T]) get(v T) *T {
	if p, ok := s[v]; ok {
		return p
	}
	p := &v
	s[v] = p
	return p
}

// sharedLists hands out one slice per distinct list of names.
type sharedLists map[string][]string

func (s sharedLists) get(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	key := strings.Join(list, "\x00") // names hold no NUL: checkHostName refuses it
	if l, ok := s[key]; ok {
		return l
	}
	l := slices.Clip(list)
	s[key] = l
	return l
}

func newResolver(path string, opts LoadOptions, probs, warns *problems) (*resolver, error) {
	dir, err := inventoryDir(path)
	if err != nil {
		return nil, err
	}
	r := &resolver{
		file:        path,
		dir:         dir,
		home:        opts.Home,
		getenv:      opts.Getenv,
		defaultUser: opts.DefaultUser,
		probs:       probs,
		warns:       warns,
		secretFiles: map[string]fileSecret{},
		fileChecks:  map[string]error{},
		ssh:         shared[SSHSettings]{},
		winrm:       shared[WinRMSettings]{},
		groups:      sharedLists{},
	}
	if r.getenv == nil {
		r.getenv = os.Getenv
	}
	if r.home == "" {
		r.home, _ = os.UserHomeDir() // "" is handled where ~ is used
	}
	if r.defaultUser == "" {
		r.defaultUser = currentUser(r.getenv)
	}
	return r, nil
}

// resolveHost applies layers (defaults < groups < host) and validates every
// value, reporting problems at the line where the winning value was written.
func (r *resolver) resolveHost(s hostSpec) Host {
	v := values{spec: s, p: r.probs}
	h := Host{
		Name:   s.name,
		Groups: r.groups.get(s.groups),
		File:   r.file,
		Line:   s.line,
		Vars:   s.vars,
	}
	h.Transport = v.choice(keyTransport, TransportSSH, "ssh (default) or winrm", TransportSSH, TransportWinRM)
	h.Address = v.text(keyAddress, s.name)
	// Only a value text accepted: an empty or control-character one is
	// reported already.
	if st, _, ok := v.get(keyAddress); ok && st.val == h.Address {
		if msg := checkAddress(st.val); msg != "" {
			r.probs.add(st.line, st.key, msg, "write only the host: user, port and options have their own keys")
		}
	}
	h.User = v.text(keyUser, r.defaultUser)
	if st, _, ok := v.get(keyUser); ok && st.val == h.User {
		if msg := checkUser(st.val, h.Transport); msg != "" {
			r.probs.add(st.line, st.key, msg, "write the login name alone")
		}
	}
	if h.User == "" {
		r.probs.add(s.line, s.key+".user", "no user given and the current user is unknown", "set user: in defaults")
	}
	h.ConnectTimeout = v.duration(keyConnectTimeout)
	h.RebootTimeout = v.duration(keyRebootTimeout)
	h.RebootDelay = v.duration(keyRebootDelay)
	h.ReadyCommand = v.text(keyReadyCommand, "")
	h.PreCmd = v.text(keyPreCmd, "")
	h.HealthCmd = v.text(keyHealthCmd, "")
	h.PostCmd = v.text(keyPostCmd, "")
	r.wakeOnLAN(v, &h)
	h.Password = r.password(v)

	// SSH settings are checked only for SSH hosts: defaults often carry an
	// ssh_key that Windows hosts in the same file never use.
	ssh := SSHSettings{
		HostKeyPolicy: v.choice(keyHostKeyPolicy, HostKeyStrict, "strict (default) or accept-new", HostKeyStrict, HostKeyAcceptNew),
		ProxyJump:     v.text(keyProxyJump, ""),
	}
	if strings.ContainsAny(ssh.ProxyJump, " \t") {
		st, _, _ := v.get(keyProxyJump)
		r.probs.add(st.line, st.key, "must not contain spaces", `write it as "user@jumphost:22"`)
	} else if msg := checkProxyJump(ssh.ProxyJump); msg != "" {
		st, _, _ := v.get(keyProxyJump)
		r.probs.add(st.line, st.key, msg, `write it as "user@jumphost:22", hops separated by commas`)
	}
	if h.Transport == TransportSSH {
		ssh.Key = r.existingFile(v, keySSHKey, "remove ssh_key to use ssh-agent and ~/.ssh/config instead")
		ssh.KnownHosts = r.knownHosts(v)
		h.SSH = r.ssh.get(ssh)
	}

	w := WinRMSettings{
		HTTPS:          v.boolean(keyWinRMHTTPS),
		Auth:           v.choice(keyWinRMAuth, "ntlm", "ntlm (default), basic or kerberos", "ntlm", "basic", "kerberos"),
		ServerName:     v.text(keyWinRMServerName, ""),
		Insecure:       v.boolean(keyWinRMInsecure),
		AllowBasicHTTP: v.boolean(keyWinRMAllowBasic),
		Encryption:     v.choice(keyWinRMEncryption, "auto", "auto (default) or never", "auto", "never"),
	}
	if h.Transport == TransportWinRM {
		w.CACert = r.existingFile(v, keyWinRMCACert, "remove winrm_ca_cert to trust the system roots")
		if w.Auth == "basic" && !w.HTTPS && !w.AllowBasicHTTP {
			st, _, _ := v.get(keyWinRMAuth)
			r.probs.add(st.line, st.key, "basic auth over plain HTTP sends the password readable on the wire",
				"set winrm_https: true, or winrm_allow_basic_http: true if you accept that")
		}
	}
	r.kerberos(v, &h, &w)
	if h.Transport == TransportWinRM {
		h.WinRM = r.winrm.get(w)
	}
	var portSet bool
	h.Port, portSet = r.port(v, h.Transport, w.HTTPS)
	h.Explicit = explicitKeys(v, h, portSet)
	return h
}

// wakeOnLAN reads mac, wol_broadcast and wol_port.
func (r *resolver) wakeOnLAN(v values, h *Host) {
	if st, _, ok := v.get(keyMAC); ok {
		mac, err := net.ParseMAC(st.val)
		if err != nil || len(mac) != 6 {
			r.probs.add(st.line, st.key, fmt.Sprintf("host %s: bad MAC address %q", h.Name, st.val), `six hex bytes such as "52:54:00:12:34:56" (":" or "-" between them)`)
		} else {
			h.MAC = mac
		}
	}
	if st, _, ok := v.get(keyWOLBroadcast); ok {
		a, err := netip.ParseAddr(st.val)
		if err != nil || !a.Is4() {
			r.probs.add(st.line, st.key, fmt.Sprintf("bad broadcast address %q", st.val), `an IPv4 address such as "192.0.2.255" (the host's subnet broadcast) or 255.255.255.255`)
		} else {
			h.WOLBroadcast = a.String()
		}
	}
	if st, _, ok := v.get(keyWOLPort); ok {
		n, err := strconv.Atoi(st.val)
		if err != nil || n < 1 || n > 65535 {
			r.probs.add(st.line, st.key, fmt.Sprintf("bad port %q", st.val), "a number from 1 to 65535 (magic packets usually go to 9 or 7)")
		} else {
			h.WOLPort = n
		}
	}
}

// port picks the port. An inherited port that is the standard port of a
// different transport is skipped: "port: 22" in defaults must not send a
// WinRM host to 22, while "ansible_port: 5986" in a windows group still applies.
// set reports whether the inventory's own value was used.
func (r *resolver) port(v values, transport string, https bool) (port int, set bool) {
	def := 22
	if transport == TransportWinRM {
		def = 5985
		if https {
			def = 5986
		}
	}
	st, at, ok := v.get(keyPort)
	if !ok {
		return def, false
	}
	n, err := strconv.Atoi(st.val)
	if err != nil || n < 1 || n > 65535 {
		r.probs.add(st.line, st.key, fmt.Sprintf("bad port %q", st.val), "a number from 1 to 65535")
		return 0, false
	}
	if inherited := at < len(v.spec.layers)-1; inherited {
		if t := v.transportAt(at); t != transport && isDefaultPort(t, n) {
			return def, false
		}
	}
	return n, true
}

// isDefaultPort reports whether port is a standard port of transport.
func isDefaultPort(transport string, port int) bool {
	if transport == TransportWinRM {
		return port == 5985 || port == 5986
	}
	return port == 22
}

func (r *resolver) knownHosts(v values) string {
	st, _, ok := v.get(keyKnownHosts)
	if !ok {
		if r.home == "" {
			r.probs.add(v.spec.line, v.spec.key+".known_hosts", "home directory unknown, so no default known_hosts",
				"set known_hosts: to a file path")
			return ""
		}
		return joinPath(r.home, ".ssh", "known_hosts")
	}
	p, ok := r.path(st)
	if !ok {
		return ""
	}
	// A missing file is fine: accept-new creates it, and strict refuses
	// every host with a message saying the key is unknown.
	if err := r.checkRegular(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.probs.add(st.line, st.key, fileProblem("known_hosts file", p, err), "give the path of a known_hosts file")
		return ""
	}
	return p
}

// existingFile resolves a path setting and checks the file is there.
func (r *resolver) existingFile(v values, key, hint string) string {
	st, _, ok := v.get(key)
	if !ok {
		return ""
	}
	return r.fileAt(st, hint)
}

// fileAt resolves the path written in st and checks it is a regular file,
// so a directory or a device (/dev/zero) is refused now, not at dial time.
func (r *resolver) fileAt(st setting, hint string) string {
	p, ok := r.path(st)
	if !ok {
		return ""
	}
	if err := r.checkRegular(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(st.val) && !strings.HasPrefix(st.val, "~") {
			hint = joinHints("relative paths start at the inventory file's directory", hint)
		}
		r.probs.add(st.line, st.key, fileProblem("", p, err), hint)
		return ""
	}
	return p
}

// checkRegular is fsread.CheckRegular, once per path per Load.
func (r *resolver) checkRegular(p string) error {
	err, ok := r.fileChecks[p]
	if !ok {
		err = fsread.CheckRegular(p)
		r.fileChecks[p] = err
	}
	return err
}

// values looks settings up through a hostSpec's layers and converts them,
// reporting bad values. It is a view; it owns nothing.
type values struct {
	spec hostSpec
	p    *problems
}

// get returns the highest-precedence setting for key and its layer index.
func (v values) get(key string) (setting, int, bool) {
	for i := len(v.spec.layers) - 1; i >= 0; i-- {
		if st, ok := v.spec.layers[i][key]; ok {
			return st, i, true
		}
	}
	return setting{}, -1, false
}

// transportAt is the transport in effect counting layers up to index at.
func (v values) transportAt(at int) string {
	for i := at; i >= 0; i-- {
		if st, ok := v.spec.layers[i][keyTransport]; ok {
			return st.val
		}
	}
	return TransportSSH
}

func (v values) text(key, def string) string {
	st, _, ok := v.get(key)
	if !ok {
		return def
	}
	if st.val == "" {
		v.p.add(st.line, st.key, "empty value", "give it a value or remove the key")
		return def
	}
	if msg := checkControl(st.val); msg != "" {
		v.p.add(st.line, st.key, msg, "remove the control character")
		return def
	}
	return st.val
}

func (v values) choice(key, def, hint string, allowed ...string) string {
	st, _, ok := v.get(key)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if st.val == a {
			return a
		}
	}
	v.p.add(st.line, st.key, fmt.Sprintf("bad %s %q", key, st.val), joinHints("use "+hint, didYouMean(st.val, allowed)))
	return def
}

func (v values) boolean(key string) bool {
	st, _, ok := v.get(key)
	if !ok {
		return false
	}
	switch strings.ToLower(st.val) {
	case "true", "yes", "on", "1":
		return true
	case "false", "no", "off", "0":
		return false
	}
	v.p.add(st.line, st.key, fmt.Sprintf("bad boolean %q", st.val), "use true or false")
	return false
}

func (v values) duration(key string) time.Duration {
	st, _, ok := v.get(key)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(st.val)
	switch {
	case err != nil:
		hint := `a Go duration such as "90s", "5m" or "1h30m"`
		if _, numErr := strconv.Atoi(st.val); numErr == nil {
			hint = fmt.Sprintf("add a unit: %q", st.val+"s")
		}
		v.p.add(st.line, st.key, fmt.Sprintf("bad duration %q", st.val), hint)
		return 0
	case d <= 0:
		v.p.add(st.line, st.key, fmt.Sprintf("duration %q must be positive", st.val), "remove the key to use the run's timeout")
		return 0
	}
	return d
}
