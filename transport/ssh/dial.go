package ssh

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/patchrun/patchrun/transport"
)

// Dial connects to cfg's host (through cfg.Jump when set), verifies its key,
// authenticates, and starts keepalives. ctx bounds the whole dial including
// retries; once Dial returns, ctx no longer affects the connection.
//
// Errors wrap transport.ErrUnreachable, ErrAuth or ErrHostKey (or ctx's
// error when ctx was cancelled). Auth and host-key failures are never
// retried; a handshake the server drops is retried cfg.HandshakeRetries
// times with exponential backoff and jitter.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	hostport := cfg.hostport()

	var jump *Client
	if cfg.Jump != nil {
		jcfg := *cfg.Jump
		if jcfg.HostKeys == nil {
			jcfg.HostKeys = cfg.HostKeys
		}
		if jcfg.DialContext == nil {
			jcfg.DialContext = cfg.DialContext
		}
		if jcfg.Keys == nil {
			jcfg.Keys = cfg.Keys
		}
		var err error
		if jump, err = Dial(ctx, jcfg); err != nil {
			return nil, fmt.Errorf("ssh %s: jump host: %w", hostport, err)
		}
	}

	creds, err := loadCredentials(ctx, cfg)
	if err != nil {
		closeJump(jump)
		return nil, fmt.Errorf("ssh %s: %w", hostport, err)
	}
	defer creds.close()

	ccfg := &gossh.ClientConfig{
		User:              cfg.User,
		Auth:              creds.methods,
		HostKeyCallback:   cfg.HostKeys.callback,
		HostKeyAlgorithms: cfg.HostKeys.algorithmsFor(hostport),
	}
	conn, chans, reqs, err := handshakeWithRetry(ctx, cfg, ccfg, jump)
	if err != nil {
		closeJump(jump)
		if transport.Kind(err) == "auth" {
			return nil, fmt.Errorf("ssh %s: %s: %w", hostport, creds.describe(cfg.User), err)
		}
		return nil, fmt.Errorf("ssh %s: %w", hostport, err)
	}
	return newClient(cfg, gossh.NewClient(conn, chans, reqs), jump), nil
}

func closeJump(jump *Client) {
	if jump != nil {
		jump.Close()
	}
}

// handshakeWithRetry runs handshakeOnce until it succeeds, fails in a way a
// retry cannot fix, runs out of retries, or ctx ends.
func handshakeWithRetry(ctx context.Context, cfg Config, ccfg *gossh.ClientConfig, jump *Client) (gossh.Conn, <-chan gossh.NewChannel, <-chan *gossh.Request, error) {
	backoff := cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		conn, chans, reqs, err := handshakeOnce(ctx, cfg, ccfg, jump)
		if err == nil {
			return conn, chans, reqs, nil
		}
		if !retryable(err) || attempt > cfg.HandshakeRetries {
			if attempt > 1 {
				err = fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return nil, nil, nil, err
		}
		// Full jitter around the backoff spreads a fleet's retries so they
		// do not hit sshd's MaxStartups again in lockstep.
		wait := backoff/2 + rand.N(backoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, nil, fmt.Errorf("retrying after %v: %w", err, classify(stageHandshake, ctx.Err()))
		case <-t.C:
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

// handshakeOnce dials TCP (directly or through the jump host) and runs the
// SSH handshake and auth, bounded by HandshakeTimeout and ctx.
func handshakeOnce(ctx context.Context, cfg Config, ccfg *gossh.ClientConfig, jump *Client) (gossh.Conn, <-chan gossh.NewChannel, <-chan *gossh.Request, error) {
	hostport := cfg.hostport()
	raw, err := dialTCP(ctx, cfg, jump)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, nil, nil, classify(stageDial, err)
	}

	// x/crypto's handshake takes no context: closing the connection is the
	// one way to stop it, and it also covers jump channels, which have no
	// deadlines.
	hctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
	defer cancel()
	stop := context.AfterFunc(hctx, func() { raw.Close() })
	conn, chans, reqs, err := gossh.NewClientConn(raw, hostport, ccfg)
	if !stop() {
		if conn != nil {
			conn.Close()
		}
		if ctx.Err() != nil {
			return nil, nil, nil, classify(stageHandshake, ctx.Err())
		}
		return nil, nil, nil, fmt.Errorf("%s: no answer within %s: %w", stageHandshake, cfg.HandshakeTimeout, transport.ErrUnreachable)
	}
	if err != nil {
		return nil, nil, nil, classify(stageHandshake, err)
	}
	return conn, chans, reqs, nil
}

// dialTCP opens the byte stream the handshake runs over.
func dialTCP(ctx context.Context, cfg Config, jump *Client) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if jump != nil {
		return jump.ssh.DialContext(dctx, "tcp", cfg.hostport())
	}
	return cfg.DialContext(dctx, "tcp", cfg.hostport())
}
