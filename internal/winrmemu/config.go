package winrmemu

import (
	"crypto/tls"
	"time"
)

// Config describes one emulated WinRM listener. The zero value of every
// optional field takes the Windows default noted beside it.
type Config struct {
	// Users maps user name to password; names match case-insensitively, and
	// "DOMAIN\user" or "user@domain" logons match "user".
	Users map[string]string
	// AllowUnencrypted mirrors the service setting: Basic over plain HTTP
	// and unsealed NTLM over plain HTTP are refused (401) unless it is true.
	AllowUnencrypted bool
	// TLS serves HTTPS with a fresh self-signed CA and a certificate for
	// 127.0.0.1 and localhost; CACertPEM returns the CA for clients.
	TLS bool
	// TLSConfig, when set, serves HTTPS with it instead (TLS is then ignored).
	TLSConfig *tls.Config
	// Addr is the listen address; "127.0.0.1:0" when empty.
	Addr string
	// ComputerName appears in NTLM target info and fault details ("WIN-EMU").
	ComputerName string
	// Handler runs commands; CmdHandler{} when nil.
	Handler Handler
	// MaxShellsPerUser is the shell quota per user (30).
	MaxShellsPerUser int
	// MaxConcurrentOperationsPerUser bounds in-flight requests per user (1500).
	MaxConcurrentOperationsPerUser int
	// MaxEnvelopeSize is the largest request body accepted, in bytes (512000).
	MaxEnvelopeSize int
	// DefaultOperationTimeout applies when a request has no
	// w:OperationTimeout (60s).
	DefaultOperationTimeout time.Duration
	// Faults is the initial fault injection state; see SetFaults.
	Faults Faults
}

// Faults are failures the emulator injects on demand (SetFaults). The zero
// value injects nothing.
type Faults struct {
	// RejectAuth answers every request with 401, authenticated or not.
	RejectAuth bool
	// DenyAccess answers shell creation with an access denied fault, as
	// Windows does for a non-administrator.
	DenyAccess bool
	// ShellQuotaExceeded answers shell creation with the MaxShellsPerUser fault.
	ShellQuotaExceeded bool
	// DropReceives closes the TCP connection, without an answer, on the next
	// N Receive requests (a host dying mid-command).
	DropReceives int
	// ReceiveDelay holds every Receive this long before it starts waiting
	// for output (a slow host). It still honours the OperationTimeout.
	ReceiveDelay time.Duration
}

const (
	defaultMaxShells       = 30
	defaultMaxOperations   = 1500
	defaultMaxEnvelopeSize = 512000
	defaultOpTimeout       = 60 * time.Second
	defaultComputerName    = "WIN-EMU"
)

func (c Config) withDefaults() Config {
	if c.Handler == nil {
		c.Handler = CmdHandler{}
	}
	if c.MaxShellsPerUser <= 0 {
		c.MaxShellsPerUser = defaultMaxShells
	}
	if c.MaxConcurrentOperationsPerUser <= 0 {
		c.MaxConcurrentOperationsPerUser = defaultMaxOperations
	}
	if c.MaxEnvelopeSize <= 0 {
		c.MaxEnvelopeSize = defaultMaxEnvelopeSize
	}
	if c.DefaultOperationTimeout <= 0 {
		c.DefaultOperationTimeout = defaultOpTimeout
	}
	if c.ComputerName == "" {
		c.ComputerName = defaultComputerName
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	return c
}
