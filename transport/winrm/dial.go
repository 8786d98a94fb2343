package winrm

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/masterzen/winrm"
)

// Dial validates cfg against the security policy, builds a library client
// and opens a remote shell, so that unreachable hosts, bad credentials and
// untrusted certificates all surface here rather than at the first Run.
// Policy refusals (Basic over HTTP without allowance, ...) happen before
// anything touches the network and wrap ErrPolicy.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := c.ensureShell(ctx); err != nil {
		c.guard.kill(errClosed)
		return nil, fmt.Errorf("winrm %s: %w", c.hostPort(), err)
	}
	return c, nil
}

// newClient wires the library client without contacting the host.
func newClient(cfg Config) (*Client, error) {
	host := cfg.Address
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]" // IPv6 literal: the library builds the URL by formatting
	}
	ep := &winrm.Endpoint{
		Host:          host,
		Port:          cfg.Port,
		HTTPS:         cfg.HTTPS,
		Insecure:      cfg.Insecure,
		TLSServerName: cfg.ServerName,
		CACert:        cfg.CACertPEM,
		Timeout:       cfg.ResponseTimeout,
	}
	scheme := "http"
	if cfg.HTTPS {
		scheme = "https"
	}
	url := scheme + "://" + host + ":" + strconv.Itoa(cfg.Port) + "/wsman"
	conns := newConnTracker(cfg.ConnectTimeout)
	inner, err := innerTransporter(cfg, host, url, conns)
	if err != nil {
		return nil, err
	}
	// An NTLM Post may first authenticate a new connection (a dial, TLS and
	// two quick requests): allow for that on top of the response timeout.
	g := newGuard(inner, cfg.ResponseTimeout+2*cfg.ConnectTimeout, conns.CloseAll)

	params := *winrm.DefaultParameters // a copy: the library's value is shared
	params.Timeout = wsmanDuration(cfg.OperationTimeout)
	params.Dial = nil
	params.TransportDecorator = func() winrm.Transporter { return g }
	wc, err := winrm.NewClientWithParameters(ep, cfg.User, cfg.Password, &params)
	if err != nil {
		return nil, fmt.Errorf("winrm %s: %w", cfg.Address, err)
	}
	return &Client{
		cfg:    cfg,
		wc:     wc,
		params: params,
		url:    url,
		guard:  g,
		conns:  conns,
		sem:    make(chan struct{}, 1),
	}, nil
}

// innerTransporter picks the transporter for the auth mode: the library's
// for Basic and Kerberos, ours for every NTLM mode (ntlm_transport.go).
func innerTransporter(cfg Config, host, url string, conns *connTracker) (winrm.Transporter, error) {
	switch cfg.Auth {
	case AuthBasic:
		return winrm.NewClientWithDial(conns.Dial), nil
	case AuthKerberos:
		scheme := "http"
		if cfg.HTTPS {
			scheme = "https"
		}
		spn := cfg.SPN
		if spn == "" {
			spn = "HTTP/" + cfg.Address
		}
		krbConf := cfg.KrbConfig
		if krbConf == "" {
			krbConf = "/etc/krb5.conf"
		}
		return &winrm.ClientKerberos{
			Username: cfg.User, Password: cfg.Password, Realm: cfg.Realm,
			Hostname: host, Port: cfg.Port, Proto: scheme,
			SPN: spn, KrbConf: krbConf, KrbCCache: cfg.KrbCCache,
		}, nil
	default:
		// Not the library's ClientNTLM or Encryption: they authenticate per
		// request on pooled connections (two requests in flight split a
		// handshake across connections and the host answers 401), fall back
		// to Basic or to unsealed NTLM, and dial outside our tracker.
		return newNTLMTransport(cfg, url, conns.DialContext)
	}
}

func (c *Client) hostPort() string {
	return net.JoinHostPort(c.cfg.Address, strconv.Itoa(c.cfg.Port))
}
