package ssh

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ParseProxyJump turns an OpenSSH ProxyJump value ("[user@]host[:port]",
// "ssh://user@host:port", or a comma-separated chain of them, nearest hop
// first) into the Config to put in target.Jump.
//
// Each hop inherits from target what OpenSSH would reuse: key files, agent,
// known_hosts, timeouts, keepalive, retries and DialContext; its user
// defaults to target.User. The password is NOT inherited: a bastion should
// not receive the target's password.
func ParseProxyJump(spec string, target Config) (*Config, error) {
	var prev *Config
	for _, hop := range strings.Split(spec, ",") {
		user, host, port, err := splitJumpHop(strings.TrimSpace(hop))
		if err != nil {
			return nil, fmt.Errorf("proxy jump %q: %w", spec, err)
		}
		c := target
		c.Password = ""
		c.Address, c.Port, c.Jump = host, port, prev
		if user != "" {
			c.User = user
		}
		prev = &c
	}
	return prev, nil
}

// splitJumpHop parses "[ssh://][user@]host[:port]"; port 0 means default.
func splitJumpHop(hop string) (user, host string, port int, err error) {
	hop = strings.TrimPrefix(hop, "ssh://")
	if hop == "" {
		return "", "", 0, fmt.Errorf("empty hop")
	}
	if i := strings.LastIndex(hop, "@"); i >= 0 {
		user, hop = hop[:i], hop[i+1:]
	}
	host = hop
	if h, p, splitErr := net.SplitHostPort(hop); splitErr == nil {
		host = h
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return "", "", 0, fmt.Errorf("bad port in %q", hop)
		}
	} else if strings.Count(hop, ":") == 1 {
		return "", "", 0, fmt.Errorf("bad host:port %q", hop)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return "", "", 0, fmt.Errorf("no host in %q", hop)
	}
	return user, host, port, nil
}
