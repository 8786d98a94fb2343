package inventory

import (
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Transport names.
const (
	TransportSSH   = "ssh"
	TransportWinRM = "winrm"
)

// Host key policies.
const (
	HostKeyStrict    = "strict"     // unknown or changed key: refuse
	HostKeyAcceptNew = "accept-new" // unknown key: record it; changed key: refuse
)

// Host is one fully resolved, validated target: defaults and group vars are
// already applied, paths are absolute, secrets are resolved references.
//
// Hosts loaded from one file share what they have in common (Groups, Vars,
// SSH, WinRM point at the same values), so a big inventory costs little per
// host: treat everything a Host points at as read-only, and copy before
// changing it.
type Host struct {
	Name    string   // unique inventory name
	Address string   // DNS name or IP; defaults to Name
	Port    int      // 22 for ssh; 5985/5986 for winrm unless set
	Groups  []string // groups the host belongs to, in inventory order
	File    string   // the inventory file the host was defined in, as given to Load
	Line    int      // the line of File where the host was defined

	Transport string // TransportSSH or TransportWinRM
	User      string
	Password  Secret // may be empty

	// Transport settings: SSH is set for SSH hosts, WinRM for WinRM hosts;
	// the other is nil.
	SSH   *SSHSettings
	WinRM *WinRMSettings

	// Explicit marks the connection keys the inventory wrote itself; the
	// rest (Address = Name, User = current user, Port 22, no key, no jump)
	// are defaults that ~/.ssh/config may replace.
	Explicit ExplicitKeys

	// Per-host timeouts and behaviour overrides; zero means "use the run's".
	ConnectTimeout time.Duration
	RebootTimeout  time.Duration
	RebootDelay    time.Duration // from the reboot command to the reboot; 0 means the backend default
	ReadyCommand   string        // readiness probe after reboot; "" means the backend default

	// Rollout steps run on the host ("" means none): PreCmd before its
	// first install, HealthCmd once it is verified (exit 0 = healthy),
	// PostCmd after a passed health check. The run's flags override them.
	PreCmd    string
	HealthCmd string
	PostCmd   string
	// Wake-on-LAN (`patchrun wake`, `patch --wake`): the MAC address
	// magic packets wake (nil: none given), sent as a UDP datagram to
	// WOLBroadcast:WOLPort.
	MAC          net.HardwareAddr
	WOLBroadcast string // an IPv4 address; "" means DefaultWOLBroadcast
	WOLPort      int    // 0 means DefaultWOLPort

	// Vars holds any extra key: value pairs a host carried (Ansible vars we
	// do not interpret), for display only; nil when there are none.
	Vars map[string]string
}

// Wake-on-LAN defaults: the limited broadcast address and the discard
// port, where network cards listen for magic packets.
const (
	DefaultWOLBroadcast = "255.255.255.255"
	DefaultWOLPort      = 9
)

// WakeAddr is where the host's magic packets go: "broadcast:port".
func (h Host) WakeAddr() string {
	b, p := h.WOLBroadcast, h.WOLPort
	if b == "" {
		b = DefaultWOLBroadcast
	}
	if p == 0 {
		p = DefaultWOLPort
	}
	return net.JoinHostPort(b, strconv.Itoa(p))
}

// Source is "file:line" where the host was defined, for messages. It is
// built on demand: a million hosts need not carry a million copies of the
// inventory path.
func (h Host) Source() string {
	if h.Line == 0 {
		return h.File
	}
	return h.File + ":" + strconv.Itoa(h.Line)
}

// SSHSettings are what an SSH host needs beyond address, port and user.
type SSHSettings struct {
	Key           string // absolute path to a private key file; "" means agent / defaults
	KnownHosts    string // absolute path to the known_hosts file
	HostKeyPolicy string // HostKeyStrict or HostKeyAcceptNew
	ProxyJump     string // optional "user@host:port" jump host
}

// WinRMSettings are what a WinRM host needs beyond address, port and user.
type WinRMSettings struct {
	HTTPS          bool
	Auth           string // "ntlm" (default) | "basic" | "kerberos"
	CACert         string // absolute path to a PEM CA bundle; "" means system roots
	ServerName     string // TLS server name override
	Insecure       bool   // skip TLS verification: only when explicitly named
	AllowBasicHTTP bool   // allow Basic auth over plain HTTP: only when explicitly named
	Encryption     string // "auto" (default: sealed NTLM over HTTP) | "never"

	// Kerberos (Auth "kerberos" only; empty for every other host).
	KerberosRealm  string // the user's realm, upper case; "" only with a credential cache
	Krb5Conf       string // absolute path to krb5.conf; "" means /etc/krb5.conf
	KerberosCCache string // absolute path to a file credential cache; "" means log in with the password
	KerberosSPN    string // service principal "HTTP/host"; "" means HTTP/<Address>
}

// DialTimeout is how long one connection attempt to h may take: the host's
// own connect_timeout wins over the run's. Every dialer and the runner ask
// here, so the rule is spelled once.
func (h Host) DialTimeout(runDefault time.Duration) time.Duration {
	if h.ConnectTimeout > 0 {
		return h.ConnectTimeout
	}
	return runDefault
}

// Secret holds a resolved password. Its String, GoString and LogValue never
// reveal it, so a Secret can't leak through fmt or slog by accident.
type Secret struct {
	value  string
	source string // "env:NAME", "file:/path", "prompt"
}

// NewSecret wraps a value resolved from source (for messages only).
func NewSecret(value, source string) Secret { return Secret{value: value, source: source} }

// Reveal returns the secret for handing to an auth library. Never log it.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether a secret was given.
func (s Secret) IsSet() bool { return s.value != "" || s.source != "" }

// Source says where the secret came from ("env:WIN_PASS"), safe to print.
func (s Secret) Source() string { return s.source }

func (s Secret) String() string {
	if !s.IsSet() {
		return ""
	}
	return "[redacted " + s.source + "]"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (JSON, YAML) from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
