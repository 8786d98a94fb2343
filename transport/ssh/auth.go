package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/transport"
)

// credentials are the auth methods for one Dial. The agent connection, if
// any, lives until close (after the handshake): agent signers sign through it.
type credentials struct {
	methods  []gossh.AuthMethod
	names    []string // what we offer, for error messages ("publickey (1 key file, agent)")
	agent    net.Conn
	agentErr error // why the agent was not usable, for error messages
}

func (c *credentials) close() {
	if c.agent != nil {
		c.agent.Close()
	}
}

// describe names the user and the methods offered. It never includes the
// password.
func (c *credentials) describe(user string) string {
	s := fmt.Sprintf("user %q, methods offered: %s", user, strings.Join(c.names, ", "))
	if c.agentErr != nil {
		s += fmt.Sprintf(" (agent not used: %v)", c.agentErr)
	}
	return s
}

// loadCredentials reads key files, connects to the agent, and builds the
// methods in OpenSSH's order: publickey, then keyboard-interactive and
// password. Key files come before agent keys so an explicitly configured
// key is tried first (sshd's MaxAuthTries counts every key offered).
func loadCredentials(ctx context.Context, cfg Config) (*credentials, error) {
	creds := &credentials{}
	var signers []gossh.Signer
	var encrypted []string // passphrase-protected key files
	var encryptedErr error
	for _, path := range cfg.KeyFiles {
		s, err := cfg.Keys.signer(path)
		if errors.Is(err, errPassphrase) {
			// Usually such a key is loaded in the agent (the common
			// workstation setup): skip the file and let the agent offer it.
			encrypted = append(encrypted, path)
			if encryptedErr == nil {
				encryptedErr = err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		signers = append(signers, s)
	}

	var agentClient agent.ExtendedAgent
	if ep, ok := agentEndpointFor(runtime.GOOS, cfg.AgentSocket); ok {
		conn, err := dialAgent(ctx, ep)
		if err != nil {
			creds.agentErr = err
		} else {
			creds.agent = conn
			agentClient = agent.NewClient(conn)
		}
	}

	if len(encrypted) > 0 && agentClient == nil {
		creds.close()
		return nil, encryptedErr
	}
	if len(signers) > 0 || agentClient != nil {
		var parts []string
		if n := len(signers); n > 0 {
			parts = append(parts, fmt.Sprintf("%d key file(s)", n))
		}
		if agentClient != nil {
			parts = append(parts, "agent")
		}
		if len(encrypted) > 0 {
			parts = append(parts, "passphrase-protected "+strings.Join(encrypted, ", ")+" skipped: expected in the agent (ssh-add)")
		}
		creds.names = append(creds.names, "publickey ("+strings.Join(parts, ", ")+")")
		creds.methods = append(creds.methods, gossh.PublicKeysCallback(func() ([]gossh.Signer, error) {
			all := append([]gossh.Signer(nil), signers...)
			if agentClient != nil {
				fromAgent, err := agentClient.Signers()
				if err != nil && len(all) == 0 {
					return nil, err
				}
				all = append(all, fromAgent...)
			}
			return all, nil
		}))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		creds.names = append(creds.names, "keyboard-interactive", "password")
		creds.methods = append(creds.methods,
			gossh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				// PAM's usual single "Password:" prompt; any prompt gets the
				// password, as OpenSSH's sshpass-style users expect.
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}),
			gossh.Password(pw))
	}
	if len(creds.methods) == 0 {
		creds.close()
		err := fmt.Errorf("no credentials for user %q: set a key file, an ssh-agent socket or a password: %w", cfg.User, transport.ErrAuth)
		if creds.agentErr != nil {
			err = fmt.Errorf("%w (%v)", err, creds.agentErr)
		}
		return nil, err
	}
	return creds, nil
}

// errPassphrase marks a key file that is protected by a passphrase.
var errPassphrase = errors.New("protected by a passphrase")

// readKeyFile parses one private key. An encrypted key cannot be used
// unattended: the user is told to load it into ssh-agent instead.
func readKeyFile(path string) (gossh.Signer, error) {
	pem, err := fsread.ReadFile(path, fsread.LimitKey)
	if err != nil {
		return nil, fmt.Errorf("private key: %w: %w", err, transport.ErrAuth)
	}
	s, err := gossh.ParsePrivateKey(pem)
	var missing *gossh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("private key %s is %w; load it into ssh-agent (ssh-add %s) and connect with the agent: %w",
			path, errPassphrase, shellQuote(path), transport.ErrAuth)
	}
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w: %w", path, transport.ErrAuth, err)
	}
	return s, nil
}
