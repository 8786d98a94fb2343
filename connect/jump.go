package connect

import (
	"fmt"

	"github.com/patchrun/patchrun/transport/ssh"
)

// proxyJump builds target's jump chain from a ProxyJump spec. Each hop is
// looked up in the user's ssh config by the name written in the spec, as
// `ssh -J bastion` would, so "ProxyJump bastion" plus a "Host bastion"
// block with HostName/User/Port/IdentityFile just works. What the spec
// itself says (user@, :port) wins over the hop's config block; a hop with
// neither uses target's user (ParseProxyJump's rule) and port 22. A hop's
// own ProxyJump in the config is not followed.
func (d *Dialer) proxyJump(spec string, target ssh.Config) (*ssh.Config, error) {
	// An empty target user lets us see which hops named their own user.
	anon := target
	anon.User = ""
	last, err := ssh.ParseProxyJump(spec, anon)
	if err != nil {
		return nil, err
	}
	for hop := last; hop != nil; hop = hop.Jump {
		name := hop.Address
		e, err := d.userConfig.lookup(name)
		if err != nil {
			return nil, fmt.Errorf("jump host %s: %w", name, err)
		}
		if e.HostName != "" {
			hop.Address = e.HostName
		}
		if hop.User == "" {
			hop.User = e.User
		}
		if hop.User == "" {
			hop.User = target.User
		}
		if hop.Port == 0 {
			hop.Port = e.Port
		}
		if e.IdentityFiles != nil {
			keys, err := d.userConfig.identityFiles(e.IdentityFiles, d.opts.Home, *hop, name)
			if err != nil {
				return nil, fmt.Errorf("jump host %s: %w", name, err)
			}
			hop.KeyFiles = keys
		}
	}
	return last, nil
}
