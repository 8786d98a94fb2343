package fleet

import (
	"context"
	"errors"
	"net"
	"time"
)

// The power lifecycle of a host: boot (new boot id, empty /run, newest
// kernel, listener on the fixed address), power-off (listener closed, every
// connection dropped, running commands and background jobs killed), and
// scheduled reboots.

// boot brings the host up on ln (nil: listen again on the host's address).
func (h *SimHost) boot(ln net.Listener, first bool) error {
	if ln == nil {
		var err error
		if ln, err = h.relisten(); err != nil {
			return err
		}
	}
	h.mu.Lock()
	if h.f.ctx.Err() != nil { // the fleet closed while we were down
		h.mu.Unlock()
		ln.Close()
		return h.f.ctx.Err()
	}
	h.bootID = h.newUUIDLocked()
	h.bootedAt = time.Now()
	h.clearTmpfsLocked()
	h.kernel = h.kernels[len(h.kernels)-1]
	h.rebootPkgs = nil
	h.units = map[string]*transientUnit{}
	h.jobs = map[string]*simJob{}
	h.lockUntil = time.Time{} // whoever held the lock died with the old boot
	h.faults.LockHeld = 0
	if !first {
		h.reboots++
	}
	h.bootCtx, h.bootCancel = context.WithCancel(h.f.ctx)
	h.ln, h.up = ln, true
	bootCtx := h.bootCtx
	h.mu.Unlock()
	h.logf("booted, boot id %s", h.BootID())
	h.f.goTracked(func() { h.acceptLoop(bootCtx, ln) })
	return nil
}

// relisten binds the host's fixed address again, retrying for a while in
// case the old socket is still being torn down.
func (h *SimHost) relisten() (net.Listener, error) {
	var lastErr error
	for i := 0; i < 50; i++ {
		ln, err := net.Listen("tcp", h.addr)
		if err == nil {
			return ln, nil
		}
		lastErr = err
		if !sleepCtx(h.f.ctx, 20*time.Millisecond) {
			return nil, h.f.ctx.Err()
		}
	}
	h.logf("cannot listen again on %s: %v", h.addr, lastErr)
	return nil, lastErr
}

// powerOff takes the host down: no listener, no connections, no processes.
// It reports whether the host was up.
func (h *SimHost) powerOff() bool {
	h.mu.Lock()
	if !h.up {
		h.mu.Unlock()
		return false
	}
	h.up = false
	ln, cancel := h.ln, h.bootCancel
	h.ln = nil
	conns := make([]net.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	clear(h.conns)
	h.rebootSet = nil
	h.mu.Unlock()
	ln.Close()
	cancel()
	for _, c := range conns {
		c.Close()
	}
	h.logf("powered off, %d connections dropped", len(conns))
	return true
}

// powerCycle is a reboot: off, DownTime, on. With halt (or the NeverReturn
// fault) the host stays off.
func (h *SimHost) powerCycle(halt bool) {
	if !h.powerOff() {
		return
	}
	h.mu.Lock()
	stay := halt || h.faults.NeverReturn
	h.mu.Unlock()
	if stay {
		h.logf("stays down")
		return
	}
	if !sleepCtx(h.f.ctx, h.f.cfg.DownTime) {
		return
	}
	if err := h.boot(nil, false); err != nil && !errors.Is(err, context.Canceled) {
		h.logf("boot failed: %v", err)
	}
}

// scheduleReboot arranges a power cycle after delay. It returns false when
// the host is down or a reboot is already scheduled.
func (h *SimHost) scheduleReboot(delay time.Duration, halt bool) bool {
	h.mu.Lock()
	if !h.up || h.rebootSet != nil {
		h.mu.Unlock()
		return false
	}
	ctx, cancel := context.WithCancel(h.bootCtx)
	h.rebootSet = cancel
	h.mu.Unlock()
	h.f.goTracked(func() {
		defer cancel()
		if sleepCtx(ctx, delay) {
			h.powerCycle(halt)
		}
	})
	return true
}

// cancelReboot cancels a scheduled reboot (shutdown -c).
func (h *SimHost) cancelReboot() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rebootSet == nil {
		return false
	}
	h.rebootSet()
	h.rebootSet = nil
	return true
}

// Reboot power-cycles the host now, from outside (like a hypervisor reset).
func (h *SimHost) Reboot() { h.f.goTracked(func() { h.powerCycle(false) }) }

// closeForShutdown drops the listener and connections when the fleet closes.
func (h *SimHost) closeForShutdown() {
	h.mu.Lock()
	ln := h.ln
	h.ln, h.up = nil, false
	conns := make([]net.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	clear(h.conns)
	h.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.Close()
	}
}

// sleepCtx waits d or until ctx ends; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
