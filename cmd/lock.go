package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/runner"
)

// lockOptions are the host-lease flags of the commands that change hosts
// (patch, reboot, exec).
type lockOptions struct {
	waitLock time.Duration
	lockTTL  time.Duration
}

func (o *lockOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.DurationVar(&o.waitLock, "wait-lock", 0, "wait up to this long for a host another run has locked (default: skip it at once, error kind locked)")
	f.DurationVar(&o.lockTTL, "lock-ttl", lease.DefaultTTL, "a host's lease expires this long after its last renewal, so another run may take it over if this one vanished")
}

// apply puts the lease settings into p.
func (o *lockOptions) apply(p *runner.Plan) {
	p.Lock.Wait = o.waitLock
	p.Lock.TTL = o.lockTTL
}

// unlockOptions are `unlock`'s flags.
type unlockOptions struct {
	common commonOptions
	force  bool
}

func (a *app) newUnlockCmd() *cobra.Command {
	var o unlockOptions
	c := &cobra.Command{
		Use:   "unlock -i FILE HOST...",
		Short: "Remove a stale host lease left by a run that vanished",
		Long: `unlock removes the lease a patchrun run left on each named host
(/var/lib/patchrun/lock, %ProgramData%\patchrun\lock on Windows), if it has
expired: its holder stopped renewing it more than its --lock-ttl ago, by the
host's clock. A live lease is refused unless --force is given; use --force
only when you know its run is gone (the holder is printed). HOST is a host
name or a --limit pattern. See docs/locking.md.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("unlock: no host given (hint: patchrun unlock -i hosts.yaml web1)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			o.common.limit = limitFlag{pattern: strings.Join(args, ","), set: true}
			hosts, err := a.hostsFor(&o.common)
			if err != nil {
				return err
			}
			return a.unlock(c.Context(), &o, hosts)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.common.inventory, "inventory", "i", "", "inventory file (required)")
	f.BoolVar(&o.force, "force", false, "also remove a live lease (only when its run is known to be gone)")
	f.DurationVar(&o.common.connectTimeout, "connect-timeout", runner.DefaultConnectTimeout, "timeout for one connection attempt")
	f.DurationVar(&o.common.timeout, "timeout", time.Minute, "timeout for the unlock command on each host")
	f.BoolVar(&o.common.askPass, "ask-pass", false, "prompt once for a password used by hosts without password_env/password_file")
	f.BoolVar(&o.common.noSSHConfig, "no-ssh-config", false, "ignore ~/.ssh/config")
	o.common.forks, o.common.output, o.common.order = 1, "text", "inventory"
	return c
}

// unlock removes each host's stale lease, one host at a time, and prints
// what it removed.
func (a *app) unlock(ctx context.Context, o *unlockOptions, hosts []inventory.Host) error {
	dialer, _, _, err := a.newDialer(&o.common)
	if err != nil {
		return err
	}
	defer dialer.Close()
	failed := false
	for _, h := range hosts {
		msg, ok := a.unlockHost(ctx, o, dialer, h)
		fmt.Fprintf(a.streams.Out, "%s: %s\n", termtext.Line(h.Name), msg)
		failed = failed || !ok
	}
	if failed {
		return errHostsFailed // each host's line says why
	}
	return nil
}

func (a *app) unlockHost(ctx context.Context, o *unlockOptions, dialer runner.Dialer, h inventory.Host) (string, bool) {
	dctx, cancel := context.WithTimeout(ctx, h.DialTimeout(o.common.connectTimeout))
	t, err := dialer.Dial(dctx, h)
	cancel()
	if err != nil {
		return "not unlocked: connect: " + termtext.Line(err.Error()), false
	}
	defer t.Close()
	l, err := lease.New(t, lease.Identity{RunID: "unlock"}, lease.Options{Windows: h.Transport == inventory.TransportWinRM})
	if err != nil {
		return "not unlocked: " + err.Error(), false
	}
	uctx, cancel := context.WithTimeout(ctx, o.common.timeout)
	defer cancel()
	out, err := l.Unlock(uctx, o.force)
	if err != nil {
		return "not unlocked: " + termtext.Line(err.Error()), false
	}
	switch out.Status {
	case lease.None:
		return "no lease", true
	case lease.Removed:
		return "removed the lease of " + holderText(out.Holder), true
	case lease.Busy:
		return "not unlocked: another controller is changing the lease right now (" + holderText(out.Holder) + "); try again", false
	}
	return "not unlocked: the lease of " + holderText(out.Holder) + " is live (host clock " +
		out.HostNow.Format(time.RFC3339) + "); --force removes it, once that run is known to be gone", false
}

func holderText(h *lease.Holder) string {
	if h == nil {
		return "an unreadable holder"
	}
	return h.String()
}
