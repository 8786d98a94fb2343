// Package wake sends Wake-on-LAN magic packets and waits for the hosts
// they wake to answer.
//
// A magic packet is a UDP datagram holding six 0xFF bytes, then the
// target's 6-byte MAC address sixteen times (102 bytes). A network card
// armed for Wake-on-LAN powers its machine on when it sees one, whatever
// the destination address and port, so patchrun sends it to a broadcast
// address (the inventory's wol_broadcast, 255.255.255.255 by default) on
// the discard port 9 (wol_port). Nothing answers a magic packet: whether
// the host woke is learned by reaching it on its transport port.
package wake

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"time"
)

// PacketLen is the length of a magic packet.
const PacketLen = 6 + 16*6

// Packet returns the magic packet for mac, which must be 6 bytes long.
func Packet(mac net.HardwareAddr) ([]byte, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("wake: MAC address %q is not 6 bytes long", mac.String())
	}
	p := bytes.Repeat([]byte{0xFF}, 6)
	for range 16 {
		p = append(p, mac...)
	}
	return p, nil
}

// Send sends mac's magic packet to addr ("host:port", usually a
// broadcast address) over UDP. Go enables SO_BROADCAST on UDP sockets, so
// a broadcast address needs nothing more.
func Send(ctx context.Context, mac net.HardwareAddr, addr string) error {
	p, err := Packet(mac)
	if err != nil {
		return err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp4", addr)
	if err != nil {
		return fmt.Errorf("wake: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetWriteDeadline(dl)
	}
	if _, err := c.Write(p); err != nil {
		return fmt.Errorf("wake: send to %s: %w", addr, err)
	}
	return nil
}

// Probe reports whether a host answers now (its transport port accepts a
// connection). It should give up by itself after a few seconds.
type Probe func(ctx context.Context) bool

// DialProbe is a Probe that opens (and closes) a TCP connection to addr
// within timeout.
func DialProbe(addr string, timeout time.Duration) Probe {
	return func(ctx context.Context) bool {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
}

// WaitUp probes every interval until probe answers, for at most wait. It
// returns how long that took and whether the host answered. The first
// probe runs at once.
func WaitUp(ctx context.Context, probe Probe, wait, interval time.Duration) (time.Duration, bool) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return time.Since(start), false
		case <-t.C:
		}
		if probe(ctx) {
			return time.Since(start), true
		}
		t.Reset(interval)
	}
}
