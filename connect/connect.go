// Package connect turns an inventory host into an open transport and picks
// its OS backend: the one place that knows every concrete transport and
// backend. The runner sees only the Dialer and DetectFunc it provides.
package connect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/unix"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/ssh"
)

// Options configure every connection of a run.
type Options struct {
	AgentSocket    string        // SSH_AUTH_SOCK as set (see ssh.Config.AgentSocket)
	ConnectTimeout time.Duration // default for hosts without their own
	// Home is the user's home directory, where hosts without an ssh_key
	// find OpenSSH's default identities (~/.ssh/id_ed25519, …); "" means
	// none are tried.
	Home string
	// SSHConfig is the user's OpenSSH client config file (~/.ssh/config).
	// It fills, per host, what the inventory did not set: HostName
	// (looked up by the inventory name, as `ssh NAME` does), User, Port,
	// IdentityFile and ProxyJump; jump hosts are looked up in it too. It is
	// read once per Dialer, on first use; a missing file is ignored. ""
	// means none is used (--no-ssh-config).
	SSHConfig string
	// Windows tunes the Windows Update backend (status polling, timeouts);
	// the zero value is right for real hosts.
	Windows windows.Options
}

// Dialer opens SSH and WinRM transports for inventory hosts. It is safe for
// concurrent use: workers share it, and it shares one known_hosts database
// per file across all of them (accept-new writes must not race).
type Dialer struct {
	opts       Options
	userConfig *userSSHConfig // read once, then read-only
	keys       *ssh.KeyFiles  // each key file parsed once per run

	mu         sync.Mutex
	knownHosts map[string]*ssh.KnownHosts // by file and policy
}

// NewDialer returns a Dialer; Close it when the run ends.
func NewDialer(opts Options) *Dialer {
	return &Dialer{opts: opts, userConfig: &userSSHConfig{path: opts.SSHConfig}, keys: &ssh.KeyFiles{}, knownHosts: map[string]*ssh.KnownHosts{}}
}

// CheckSSHConfig reads Options.SSHConfig now (if no Dial has yet) and
// returns the error every SSH host would get from it, so a caller can
// refuse to start a run on a broken file instead of failing each host.
// Errors inside a Host block that only some hosts match still surface
// when those hosts are dialled.
func (d *Dialer) CheckSSHConfig() error {
	_, err := d.userConfig.load()
	return err
}

// Close releases shared state. Transports are closed by their owners.
func (d *Dialer) Close() error { return nil }

// Dial connects to h with its transport.
func (d *Dialer) Dial(ctx context.Context, h inventory.Host) (transport.Transport, error) {
	switch h.Transport {
	case inventory.TransportSSH, "":
		return d.dialSSH(ctx, h)
	case inventory.TransportWinRM:
		return d.dialWinRM(ctx, h)
	}
	return nil, fmt.Errorf("host %s: unknown transport %q", h.Name, h.Transport)
}

func (d *Dialer) connectTimeout(h inventory.Host) time.Duration {
	return h.DialTimeout(d.opts.ConnectTimeout)
}

func (d *Dialer) hostKeys(path, policy string) (*ssh.KnownHosts, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := policy + "\x00" + path
	if kh, ok := d.knownHosts[key]; ok {
		return kh, nil
	}
	kh, err := ssh.OpenKnownHosts(path, policy)
	if err != nil {
		return nil, err
	}
	d.knownHosts[key] = kh
	return kh, nil
}

// defaultIdentities lists the OpenSSH default key files that exist, in
// OpenSSH's order, for hosts that name no ssh_key.
func (d *Dialer) defaultIdentities() []string {
	if d.opts.Home == "" {
		return nil
	}
	var keys []string
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(d.opts.Home, ".ssh", name)
		if _, err := os.Stat(p); err == nil {
			keys = append(keys, p)
		}
	}
	return keys
}

// sshConfig builds the client config for h: the inventory's values, then
// the user's ssh config for whatever the inventory left at its defaults,
// then the built-in defaults (OpenSSH's identities, port 22).
func (d *Dialer) sshConfig(h inventory.Host) (ssh.Config, error) {
	s := h.SSH
	if s == nil {
		s = &inventory.SSHSettings{} // a Host built by hand: no key, no jump
	}
	kh, err := d.hostKeys(s.KnownHosts, s.HostKeyPolicy)
	if err != nil {
		return ssh.Config{}, fmt.Errorf("host %s: %w", h.Name, err)
	}
	own, err := d.userConfig.lookup(h.Name)
	if err != nil {
		return ssh.Config{}, fmt.Errorf("host %s: %w", h.Name, err)
	}
	cfg := ssh.Config{
		Address:        h.Address,
		Port:           h.Port,
		User:           h.User,
		Password:       h.Password.Reveal(),
		HostKeys:       kh,
		Keys:           d.keys,
		AgentSocket:    d.opts.AgentSocket,
		ConnectTimeout: d.connectTimeout(h),
	}
	applyEntry(&cfg, h, own)
	switch {
	case s.Key != "":
		cfg.KeyFiles = []string{s.Key}
	case own.IdentityFiles != nil:
		// As in ssh, configured identities replace the default ones.
		if cfg.KeyFiles, err = d.userConfig.identityFiles(own.IdentityFiles, d.opts.Home, cfg, h.Name); err != nil {
			return ssh.Config{}, fmt.Errorf("host %s: %w", h.Name, err)
		}
	default:
		cfg.KeyFiles = d.defaultIdentities()
	}
	jump := own.ProxyJump
	if explicit(h, inventory.ExplicitProxyJump) {
		jump = s.ProxyJump
	}
	if jump != "" {
		if cfg.Jump, err = d.proxyJump(jump, cfg); err != nil {
			return ssh.Config{}, fmt.Errorf("host %s: proxy_jump: %w", h.Name, err)
		}
	}
	return cfg, nil
}

func (d *Dialer) dialSSH(ctx context.Context, h inventory.Host) (transport.Transport, error) {
	cfg, err := d.sshConfig(h)
	if err != nil {
		return nil, err
	}
	return ssh.Dial(ctx, cfg)
}

// Detect picks the backend for a host: Windows Update over WinRM,
// otherwise the package manager the Unix probe finds, with this Dialer's
// backend options. It is a runner.DetectFunc.
func (d *Dialer) Detect(ctx context.Context, h inventory.Host, t transport.Transport) (patch.Backend, error) {
	if h.Transport == inventory.TransportWinRM {
		return d.windowsBackend(h), nil
	}
	return unix.Detect(ctx, t, unixOptions(h))
}

// unixOptions: a login that is not root runs privileged commands through
// `sudo -n` (never prompting, so a missing sudo rule fails loudly instead of
// hanging the run); the backend applies it only when `id -u` is not 0.
func unixOptions(h inventory.Host) unix.Options {
	return unix.Options{Sudo: true, ReadyCommand: h.ReadyCommand, RebootDelay: h.RebootDelay}
}
