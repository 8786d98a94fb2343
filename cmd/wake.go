package cmd

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/wake"
)

// DefaultWakeWait is how long `wake` waits for woken hosts to answer.
const DefaultWakeWait = 5 * time.Minute

// wakePoll is how often `wake` probes a woken host's transport port.
const wakePoll = 5 * time.Second

// wakeDeps are what `wake` reaches the network through (tests replace them).
type wakeDeps struct {
	send  func(ctx context.Context, h inventory.Host) error
	probe func(h inventory.Host) wake.Probe
	poll  time.Duration
}

func defaultWakeDeps(connectTimeout time.Duration) wakeDeps {
	return wakeDeps{
		send: func(ctx context.Context, h inventory.Host) error { return wake.Send(ctx, h.MAC, h.WakeAddr()) },
		probe: func(h inventory.Host) wake.Probe {
			return wake.DialProbe(hostPortOf(h), connectTimeout)
		},
		poll: wakePoll,
	}
}

// hostPortOf is the inventory address and transport port of h.
func hostPortOf(h inventory.Host) string {
	return net.JoinHostPort(h.Address, strconv.Itoa(h.Port))
}

func (a *app) newWakeCmd() *cobra.Command {
	var o commonOptions
	var wait time.Duration
	c := &cobra.Command{
		Use:   "wake",
		Short: "Wake hosts with Wake-on-LAN magic packets and wait until they answer",
		Long: `wake sends a Wake-on-LAN magic packet (UDP: six 0xFF bytes, then the MAC
address 16 times) for every selected host to its wol_broadcast address
(default 255.255.255.255) and wol_port (default 9), then waits until each
host answers on its transport port (SSH 22, WinRM 5985/5986, or the
inventory's port), at most --wait. --wait 0 sends and returns at once.

Hosts need the mac inventory key. The sender must be on the hosts' layer-2
network, or the router must forward directed broadcasts to wol_broadcast.
A host without mac, or one that does not answer in time, makes wake exit 2.`,
		Example: `  patchrun wake -i hosts.yaml -l lab
  patchrun wake -i hosts.yaml -l 'web*' --wait 10m
  patchrun wake -i hosts.yaml --wait 0     # send and return`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if wait < 0 {
				return fmt.Errorf("--wait %s: must be 0 (send only) or positive", wait)
			}
			o.output, o.forks, o.timeout, o.order = "text", 1, time.Minute, "inventory"
			hosts, err := a.hostsFor(&o)
			if err != nil {
				return err
			}
			return a.wakeHosts(c.Context(), hosts, wait, defaultWakeDeps(o.connectTimeout))
		},
	}
	f := c.Flags()
	f.StringVarP(&o.inventory, "inventory", "i", "", "inventory file: patchrun YAML, Ansible YAML/INI, or one host per line (required)")
	f.VarP(&o.limit, "limit", "l", "hosts to wake: names, groups, globs, comma lists, !exclude, &intersect")
	f.DurationVar(&wait, "wait", DefaultWakeWait, "how long to wait for the woken hosts to answer on their transport port (0: send and return)")
	f.DurationVar(&o.connectTimeout, "connect-timeout", 3*time.Second, "timeout for one probe of a host's transport port")
	return c
}

// wakeHosts sends every host its magic packet, then waits for them all
// at once. One line per host says what happened.
func (a *app) wakeHosts(ctx context.Context, hosts []inventory.Host, wait time.Duration, d wakeDeps) error {
	var mu sync.Mutex
	say := func(h inventory.Host, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(a.streams.Out, "%s: %s\n", termtext.Text(h.Name), fmt.Sprintf(format, args...))
	}
	failed := false
	var sent []inventory.Host
	for _, h := range hosts {
		if h.MAC == nil {
			say(h, "not woken: no mac in the inventory (add mac: to its entry)")
			failed = true
			continue
		}
		if err := d.send(ctx, h); err != nil {
			say(h, "not woken: %s", termtext.Text(err.Error()))
			failed = true
			continue
		}
		say(h, "magic packet for %s sent to %s", h.MAC, h.WakeAddr())
		sent = append(sent, h)
	}
	if wait > 0 {
		var wg sync.WaitGroup
		results := make([]bool, len(sent))
		for i, h := range sent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				took, up := wake.WaitUp(ctx, d.probe(h), wait, d.poll)
				results[i] = up
				if up {
					say(h, "up: %s answers after %s", hostPortOf(h), took.Round(time.Second))
				} else {
					say(h, "no answer on %s within %s", hostPortOf(h), wait)
				}
			}()
		}
		wg.Wait()
		for _, up := range results {
			failed = failed || !up
		}
	}
	if ctx.Err() != nil {
		return errInterrupted
	}
	if failed {
		return errHostsFailed
	}
	return nil
}
