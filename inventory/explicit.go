package inventory

import "strings"

// ExplicitKeys marks which connection settings the inventory itself wrote
// for a host (in the host entry, a group's vars or defaults, in any format),
// as opposed to values resolveHost filled in. connect needs the difference
// to let ~/.ssh/config fill only what the inventory left open, the way
// OpenSSH lets the command line win over its config file. A plain value.
type ExplicitKeys uint8

// Keys ExplicitKeys can mark.
const (
	ExplicitAddress   ExplicitKeys = 1 << iota // address / ansible_host
	ExplicitUser                               // user / ansible_user
	ExplicitPort                               // port / ansible_port / host:port
	ExplicitSSHKey                             // ssh_key / ansible_ssh_private_key_file
	ExplicitProxyJump                          // proxy_jump / -J in ansible_ssh_common_args
)

var explicitNames = []struct {
	k    ExplicitKeys
	name string
}{
	{ExplicitAddress, keyAddress}, {ExplicitUser, keyUser}, {ExplicitPort, keyPort},
	{ExplicitSSHKey, keySSHKey}, {ExplicitProxyJump, keyProxyJump},
}

// Has reports whether every key in k was set by the inventory.
func (e ExplicitKeys) Has(k ExplicitKeys) bool { return e&k == k }

// String lists the marked keys by their inventory names: "address,port".
func (e ExplicitKeys) String() string {
	var out []string
	for _, n := range explicitNames {
		if e.Has(n.k) {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ",")
}

// explicitKeys marks the settings written in any layer of v. The port is
// passed in because resolver.port may ignore an inherited one (the standard
// port of the other transport), and an ignored value is not explicit.
func explicitKeys(v values, h Host, portSet bool) ExplicitKeys {
	var e ExplicitKeys
	mark := func(key string, k ExplicitKeys) {
		if _, _, ok := v.get(key); ok {
			e |= k
		}
	}
	mark(keyAddress, ExplicitAddress)
	mark(keyUser, ExplicitUser)
	mark(keyProxyJump, ExplicitProxyJump)
	if h.Transport == TransportSSH {
		mark(keySSHKey, ExplicitSSHKey)
	}
	if portSet {
		e |= ExplicitPort
	}
	return e
}
