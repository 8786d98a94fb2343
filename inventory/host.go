package inventory

import (
	"log/slog"
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
type Host struct {
	Name    string   // unique inventory name
	Address string   // DNS name or IP; defaults to Name
	Port    int      // 22 for ssh; 5985/5986 for winrm unless set
	Groups  []string // groups the host belongs to, in inventory order
	Source  string   // "file:line" where the host was defined, for error messages

	Transport string // TransportSSH or TransportWinRM
	User      string
	Password  Secret // may be empty

	// SSH
	SSHKey        string // absolute path to a private key file; "" means agent / defaults
	KnownHosts    string // absolute path to the known_hosts file
	HostKeyPolicy string // HostKeyStrict or HostKeyAcceptNew
	ProxyJump     string // optional "user@host:port" jump host

	// Explicit marks the connection keys the inventory wrote itself; the
	// rest (Address = Name, User = current user, Port 22, no key, no jump)
	// are defaults that ~/.ssh/config may replace.
	Explicit ExplicitKeys

	// WinRM
	WinRMHTTPS          bool
	WinRMAuth           string // "ntlm" (default) | "basic" | "kerberos"
	WinRMCACert         string // absolute path to a PEM CA bundle; "" means system roots
	WinRMServerName     string // TLS server name override
	WinRMInsecure       bool   // skip TLS verification: only when explicitly named
	WinRMAllowBasicHTTP bool   // allow Basic auth over plain HTTP: only when explicitly named
	WinRMEncryption     string // "auto" (default: sealed NTLM over HTTP) | "never"

	// Kerberos (WinRMAuth "kerberos" only; empty for every other host).
	WinRMKerberosRealm  string // the user's realm, upper case; "" only with a credential cache
	WinRMKrb5Conf       string // absolute path to krb5.conf; "" means /etc/krb5.conf
	WinRMKerberosCCache string // absolute path to a file credential cache; "" means log in with the password
	WinRMKerberosSPN    string // service principal "HTTP/host"; "" means HTTP/<Address>

	// Per-host timeouts and behaviour overrides; zero means "use the run's".
	ConnectTimeout time.Duration
	RebootTimeout  time.Duration
	ReadyCommand   string // readiness probe after reboot; "" means the backend default

	// Vars holds any extra key: value pairs a host carried (Ansible vars we
	// do not interpret), for display only.
	Vars map[string]string
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
