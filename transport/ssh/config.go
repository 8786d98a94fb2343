package ssh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Defaults applied to zero Config fields.
const (
	DefaultPort              = 22
	DefaultConnectTimeout    = 10 * time.Second
	DefaultHandshakeTimeout  = 15 * time.Second
	DefaultKeepaliveInterval = 10 * time.Second
	DefaultKeepaliveCountMax = 3
	DefaultHandshakeRetries  = 4
	DefaultRetryBackoff      = 250 * time.Millisecond
	maxRetryBackoff          = 5 * time.Second
)

// Config says how to reach and authenticate to one host. The zero value of
// every tunable means its default; a Config is a plain value, copied by Dial.
//
// Config's String, GoString and LogValue redact Password, so printing or
// logging a Config cannot leak it.
type Config struct {
	Address string // DNS name or IP, as written in known_hosts
	Port    int    // 0 means 22
	User    string

	// KeyFiles are private key paths tried in order, before agent keys.
	// Passphrase-protected keys are refused with a hint to use ssh-agent.
	KeyFiles []string
	// Keys, when set, shares parsed key files between the Dials of a run
	// (see KeyFiles); nil reads them on every Dial.
	Keys *KeyFiles
	// AgentSocket is SSH_AUTH_SOCK as the user set it. On Unix it is the
	// agent's socket and "" means no agent. On Windows "" means the OpenSSH
	// agent service (WindowsAgentPipe), as ssh.exe does; the value may name
	// another pipe (\\.\pipe\...) or a Unix socket. An agent that cannot
	// be reached is skipped, and the auth error says why.
	AgentSocket string
	// Password, when set, enables "password" and "keyboard-interactive"
	// auth. It is an already-resolved secret: never logged, never in errors.
	Password string

	// HostKeys verifies the server's key. Required: there is no "insecure"
	// mode.
	HostKeys *KnownHosts

	ConnectTimeout   time.Duration // TCP connect; 0 means 10s
	HandshakeTimeout time.Duration // SSH handshake + auth; 0 means 15s

	// KeepaliveInterval and KeepaliveCountMax follow OpenSSH's
	// ServerAliveInterval/ServerAliveCountMax: a keepalive@openssh.com
	// request every interval; after CountMax intervals without an answer the
	// connection is closed and in-flight commands fail with ErrConnLost.
	// 0 means 10s and 3; a negative interval disables keepalives.
	KeepaliveInterval time.Duration
	KeepaliveCountMax int

	// HandshakeRetries bounds retries of a handshake the server dropped
	// (connection reset or EOF, as sshd's MaxStartups does under load);
	// 0 means 4, negative means none. RetryBackoff is the first delay,
	// doubled each retry with jitter; 0 means 250ms.
	HandshakeRetries int
	RetryBackoff     time.Duration

	// Jump, when set, is a ProxyJump host: the target's TCP stream is a
	// direct-tcpip channel on the jump host's connection. A nil
	// Jump.HostKeys, Jump.Keys or Jump.DialContext is inherited from this
	// Config.
	Jump *Config

	// DialContext opens the TCP connection (a test seam); nil means a
	// net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// hostport is the "host:port" we dial and check in known_hosts.
func (c Config) hostport() string {
	return net.JoinHostPort(c.Address, strconv.Itoa(c.Port))
}

// withDefaults returns c with every zero tunable set.
func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.KeepaliveInterval == 0 {
		c.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if c.KeepaliveCountMax <= 0 {
		c.KeepaliveCountMax = DefaultKeepaliveCountMax
	}
	if c.HandshakeRetries == 0 {
		c.HandshakeRetries = DefaultHandshakeRetries
	} else if c.HandshakeRetries < 0 {
		c.HandshakeRetries = 0
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.DialContext == nil {
		c.DialContext = (&net.Dialer{}).DialContext
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Address == "":
		return errors.New("ssh config: no address")
	case c.User == "":
		return fmt.Errorf("ssh config %s: no user", c.Address)
	case c.HostKeys == nil:
		return fmt.Errorf("ssh config %s: no known_hosts file (host keys are always verified)", c.Address)
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("ssh config %s: port %d out of range", c.Address, c.Port)
	}
	return nil
}

// String describes c without its password.
func (c Config) String() string {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	s := fmt.Sprintf("%s@%s", c.User, c.hostport())
	if c.Jump != nil {
		s += " via " + c.Jump.String()
	}
	return s
}

// GoString keeps %#v from printing the password.
func (c Config) GoString() string { return "ssh.Config{" + c.String() + "}" }

// LogValue keeps slog from printing the password.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
