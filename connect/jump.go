package connect

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/patchrun/patchrun/transport/ssh"
)

// parseJump reads a ProxyJump spec "[user@]host[:port]" into a config for the
// jump host. It inherits the target's keys, agent and known_hosts: a jump
// host's key is verified like any other.
func parseJump(spec string, target ssh.Config) (ssh.Config, error) {
	jump := target
	jump.Jump = nil
	jump.User = target.User
	jump.Port = 22
	rest := spec
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		jump.User, rest = rest[:at], rest[at+1:]
	}
	host := rest
	if h, p, err := net.SplitHostPort(rest); err == nil {
		port, perr := strconv.Atoi(p)
		if perr != nil || port < 1 || port > 65535 {
			return ssh.Config{}, fmt.Errorf("%q: bad port %q", spec, p)
		}
		host, jump.Port = h, port
	}
	if host == "" || jump.User == "" {
		return ssh.Config{}, fmt.Errorf("%q: want [user@]host[:port]", spec)
	}
	jump.Address = host
	return jump, nil
}
