package fleet

import (
	"fmt"
	"time"
)

// Config describes a fleet to start. The zero value plus a Count is a valid
// fleet; every duration has a test-friendly default.
type Config struct {
	// Hosts lists hosts explicitly. When empty, PerDistro and then Count
	// generate hosts named "<distro-short>-NNN" (debian-001, rocky-002, …).
	Hosts []HostSpec
	// PerDistro asks for this many hosts of each distro.
	PerDistro map[Distro]int
	// Count hosts spread round-robin over Distros() (used when Hosts and
	// PerDistro are empty).
	Count int

	// User is the login name the servers accept (default "root"). Any other
	// name is rejected like a wrong key.
	User string
	// Password, when set, is accepted as password auth besides the client key.
	Password string

	// Seed makes host keys, the client key and boot ids reproducible; 0
	// picks a random seed.
	Seed uint64

	// TimeScale multiplies the delays that come from commands (`sleep 5`,
	// `systemd-run --on-active=5`, `shutdown -r +1`, lock timeouts). Default
	// 0.01, so a 5 s reboot delay takes 50 ms. The demo may use 0.2.
	TimeScale float64
	// RebootDelay is how long an immediate `reboot` / `systemctl reboot`
	// takes to cut the link (wall time; default 10 ms), so the command itself
	// can still return.
	RebootDelay time.Duration
	// DownTime is how long a host refuses connections while "rebooting"
	// (wall time; default 50 ms).
	DownTime time.Duration
	// Latency is added before every command on every host (wall time).
	Latency time.Duration
	// InstallTime is the wall time each package of an install transaction
	// takes (default 0).
	InstallTime time.Duration
	// HandshakeTimeout bounds one incoming SSH handshake (default 10 s).
	HandshakeTimeout time.Duration

	// Faults apply to every host; a HostSpec's own Faults replace them.
	Faults Faults

	// Logf, when set, receives one line per notable server event (boots,
	// power-offs, dropped connections). Called from many goroutines.
	Logf func(format string, args ...any)
}

// HostSpec is one explicitly listed host.
type HostSpec struct {
	Name   string // unique; required
	Distro Distro // required
	// Faults, when non-zero, replace Config.Faults for this host.
	Faults Faults
}

// Faults are the failure modes a host can be told to show. Set them at
// start (Config.Faults, HostSpec.Faults) or at run time with
// SimHost.SetFaults. Counters (DropDuringInstall, HandshakeResets) count down
// as the fault fires.
type Faults struct {
	// RejectAuth makes the server refuse every credential.
	RejectAuth bool
	// ChangedHostKey makes the server present a different host key than the
	// one written to known_hosts (a re-installed or spoofed host).
	ChangedHostKey bool
	// DropDuringInstall: the next N install commands (apt-get install /
	// upgrade / dist-upgrade, dnf/yum upgrade, zypper update/patch) print
	// part of their output and then the TCP connection is closed. The
	// transaction itself completes on the host (as a package manager that is
	// not on a pty keeps running when sshd goes away), so a reconnecting
	// client finds the packages installed.
	DropDuringInstall int
	// NeverReturn: after its next power-off the host stays down for good.
	NeverReturn bool
	// Latency is added before every command on this host (a slow host).
	Latency time.Duration
	// LockHeld: another process holds the package-manager lock for this
	// long (wall time) from the moment the fault is set. apt waits up to its
	// DPkg::Lock::Timeout (scaled) or fails with "Could not get lock"; dnf
	// waits; zypper waits up to ZYPP_LOCK_TIMEOUT (scaled) or exits 7.
	LockHeld time.Duration
	// HandshakeResets: the next N connections are reset before the SSH
	// banner, like sshd's MaxStartups dropping excess handshakes.
	HandshakeResets int
	// ModifiedConffile (apt hosts): packages that ship a conffile find it
	// locally modified; an upgrade without --force-confold/--force-confnew
	// fails at the conffile prompt with exit 100 and leaves the package
	// half-configured until `dpkg --configure -a`.
	ModifiedConffile bool
	// Unhealthy: the host's health-check program always fails;
	// UnhealthyChecks: the next N checks fail (then it is healthy).
	Unhealthy       bool
	UnhealthyChecks int
	// FailHook: the hook program exits 1 for this hook name.
	FailHook string
}

func (f Faults) isZero() bool { return f == Faults{} }

const (
	defaultTimeScale        = 0.01
	defaultRebootDelay      = 10 * time.Millisecond
	defaultDownTime         = 50 * time.Millisecond
	defaultHandshakeTimeout = 10 * time.Second
)

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.User == "" {
		c.User = "root"
	}
	if c.TimeScale <= 0 {
		c.TimeScale = defaultTimeScale
	}
	if c.RebootDelay <= 0 {
		c.RebootDelay = defaultRebootDelay
	}
	if c.DownTime <= 0 {
		c.DownTime = defaultDownTime
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = defaultHandshakeTimeout
	}
	return c
}

// specs resolves the host list the config asks for.
func (c Config) specs() ([]HostSpec, error) {
	var out []HostSpec
	switch {
	case len(c.Hosts) > 0:
		out = append(out, c.Hosts...)
	case len(c.PerDistro) > 0:
		for _, d := range Distros() {
			for i := 0; i < c.PerDistro[d]; i++ {
				out = append(out, HostSpec{Name: fmt.Sprintf("%s-%03d", profileFor(d).short, i+1), Distro: d})
			}
		}
		for d := range c.PerDistro {
			if profileFor(d) == nil {
				return nil, fmt.Errorf("fleet config: unknown distro %q", d)
			}
		}
	case c.Count > 0:
		ds := Distros()
		counts := map[Distro]int{}
		for i := 0; i < c.Count; i++ {
			d := ds[i%len(ds)]
			counts[d]++
			out = append(out, HostSpec{Name: fmt.Sprintf("%s-%03d", profileFor(d).short, counts[d]), Distro: d})
		}
	default:
		return nil, fmt.Errorf("fleet config: no hosts (set Hosts, PerDistro or Count)")
	}
	seen := map[string]bool{}
	for i, s := range out {
		if s.Name == "" {
			return nil, fmt.Errorf("fleet config: host %d has no name", i)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("fleet config: duplicate host name %q", s.Name)
		}
		seen[s.Name] = true
		if profileFor(s.Distro) == nil {
			return nil, fmt.Errorf("fleet config: host %s: unknown distro %q", s.Name, s.Distro)
		}
		if out[i].Faults.isZero() {
			out[i].Faults = c.Faults
		}
	}
	return out, nil
}

// scale converts a delay named by a command into simulated wall time.
func (c Config) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.TimeScale)
}
