package winrm

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Auth modes.
const (
	AuthNTLM     = "ntlm"
	AuthBasic    = "basic"
	AuthKerberos = "kerberos"
)

// Encryption modes for plain-HTTP endpoints.
const (
	// EncryptionAuto seals NTLM messages over plain HTTP (what a default
	// Windows HTTP listener demands); over HTTPS TLS already protects them.
	EncryptionAuto = "auto"
	// EncryptionNever sends SOAP in the clear over HTTP: the host must have
	// AllowUnencrypted=true. Naming it is the explicit opt-in.
	EncryptionNever = "never"
)

// Defaults applied by Config.withDefaults for zero fields.
const (
	DefaultOperationTimeout = 30 * time.Second
	DefaultConnectTimeout   = 10 * time.Second
	DefaultRecycleAfter     = 50
	// responseSlack is how much longer than the WS-Man OperationTimeout we
	// wait for HTTP response headers: the host answers a Receive at the
	// latest after OperationTimeout, so anything later means it is stuck.
	responseSlack = 30 * time.Second
)

// Config describes one WinRM endpoint and how to authenticate to it. The
// zero value of every duration means "use the default". A Config is plain
// data; Dial copies it.
type Config struct {
	Address string
	Port    int // 0: 5985, or 5986 with HTTPS
	HTTPS   bool
	Auth    string // AuthNTLM (default) | AuthBasic | AuthKerberos

	User string
	// Password is the resolved secret. It is handed to the auth library and
	// never logged or put in error text.
	Password string

	CACertPEM      []byte // PEM bundle to verify the host's certificate; nil: system roots
	ServerName     string // TLS server name override (certificate names another host)
	Insecure       bool   // skip TLS verification: only when explicitly named
	AllowBasicHTTP bool   // allow Basic over plain HTTP: only when explicitly named
	Encryption     string // EncryptionAuto (default) | EncryptionNever

	// OperationTimeout is the WS-Man OperationTimeout: how long the host
	// holds a Receive open waiting for output.
	OperationTimeout time.Duration
	// ResponseTimeout bounds the wait for HTTP response headers; it must
	// exceed OperationTimeout. Default OperationTimeout + 30s.
	ResponseTimeout time.Duration
	// ConnectTimeout bounds a TCP dial.
	ConnectTimeout time.Duration
	// CallTimeout is the watchdog: how long a library call may keep running
	// after its context ended before the Client abandons it. The library
	// notices a cancelled context only when the Receive in flight returns
	// (up to OperationTimeout), then signals the command and receives once
	// more, so the default is 2*OperationTimeout + 10s.
	CallTimeout time.Duration
	// RecycleAfter is how many commands run in one remote shell before it is
	// deleted and a fresh one created (hosts cap shells and their memory).
	RecycleAfter int

	// Kerberos (Auth == AuthKerberos).
	Realm     string // e.g. EXAMPLE.COM
	KrbConfig string // krb5.conf path; "" means /etc/krb5.conf
	KrbCCache string // optional credential cache path instead of a password
	SPN       string // service principal; "" means HTTP/<Address>
}

// Inventory keys named in policy errors so the user knows what to change.
const (
	keyHTTPS      = "winrm_https"
	keyAllowBasic = "winrm_allow_basic_http"
	keyEncryption = "winrm_encryption"
	keyCACert     = "winrm_ca_cert"
	keyServerName = "winrm_server_name"
	keyInsecure   = "winrm_insecure_skip_verify"
)

// ErrPolicy marks configurations refused before any network contact.
var ErrPolicy = errors.New("winrm policy")

func policyError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrPolicy}, args...)...)
}

// withDefaults returns a copy with zero fields filled in.
func (c Config) withDefaults() Config {
	if c.Auth == "" {
		c.Auth = AuthNTLM
	}
	c.Auth = strings.ToLower(c.Auth)
	if c.Encryption == "" {
		c.Encryption = EncryptionAuto
	}
	c.Encryption = strings.ToLower(c.Encryption)
	if c.Port == 0 {
		c.Port = 5985
		if c.HTTPS {
			c.Port = 5986
		}
	}
	if c.OperationTimeout <= 0 {
		c.OperationTimeout = DefaultOperationTimeout
	}
	if c.ResponseTimeout <= 0 {
		c.ResponseTimeout = c.OperationTimeout + responseSlack
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 2*c.OperationTimeout + 10*time.Second
	}
	if c.RecycleAfter <= 0 {
		c.RecycleAfter = DefaultRecycleAfter
	}
	return c
}

// validate enforces the security policy. It runs before anything touches
// the network, so a refused configuration never sends a credential.
func (c Config) validate() error {
	if c.Address == "" {
		return policyError("no address")
	}
	if c.Port < 1 || c.Port > 65535 {
		return policyError("port %d out of range", c.Port)
	}
	switch c.Encryption {
	case EncryptionAuto, EncryptionNever:
	default:
		return policyError("unknown %s %q (want auto or never)", keyEncryption, c.Encryption)
	}
	if c.ResponseTimeout <= c.OperationTimeout {
		return policyError("response timeout %s must exceed the operation timeout %s", c.ResponseTimeout, c.OperationTimeout)
	}
	if len(c.CACertPEM) > 0 && !x509.NewCertPool().AppendCertsFromPEM(c.CACertPEM) {
		return policyError("%s holds no PEM certificate", keyCACert)
	}
	switch c.Auth {
	case AuthNTLM:
		if c.User == "" {
			return policyError("ntlm needs a user")
		}
	case AuthBasic:
		if c.User == "" {
			return policyError("basic auth needs a user")
		}
		if !c.HTTPS && !c.AllowBasicHTTP {
			return policyError("basic auth over plain HTTP would send the password readable on the wire; "+
				"use %s: true (better), or set %s: true if you accept that", keyHTTPS, keyAllowBasic)
		}
	case AuthKerberos:
		if c.User == "" && c.KrbCCache == "" {
			return policyError("kerberos needs a user or a credential cache")
		}
		if !c.HTTPS && c.Encryption != EncryptionNever {
			return policyError("kerberos over plain HTTP cannot encrypt messages with this client; "+
				"use %s: true (better), or set %s: never to accept unencrypted traffic", keyHTTPS, keyEncryption)
		}
	default:
		return policyError("unknown auth %q (want ntlm, basic or kerberos)", c.Auth)
	}
	return nil
}

// sealed reports whether messages are NTLM-sealed (encrypted) at the
// message level: NTLM over plain HTTP unless encryption is turned off.
func (c Config) sealed() bool {
	return c.Auth == AuthNTLM && !c.HTTPS && c.Encryption == EncryptionAuto
}

// wsmanDuration formats d as an xs:duration for the WS-Man OperationTimeout.
func wsmanDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}
