package winsim

import (
	"context"
	"time"
)

// Exit codes of shutdown.exe the host produces.
const (
	exitShutdownScheduled  = 1190
	exitShutdownInProgress = 1115
)

// shutdown runs `shutdown.exe /r` as the reboot script does (with its
// abort-and-retry on 1190) and reports the first and final exit codes.
// Called with mu held.
func (h *Host) shutdownLocked() (first, final int, aborted bool) {
	switch {
	case h.faults.ShutdownInProgress:
		h.scheduleRebootLocked()
		return exitShutdownInProgress, exitShutdownInProgress, false
	case h.faults.ShutdownScheduled:
		// Someone else's shutdown: the script aborts it (shutdown /a) and
		// schedules its own.
		h.faults.ShutdownScheduled = false
		h.scheduleRebootLocked()
		return exitShutdownScheduled, 0, true
	case h.rebooting:
		return exitShutdownScheduled, exitShutdownScheduled, false
	}
	h.scheduleRebootLocked()
	return 0, 0, false
}

// scheduleRebootLocked reboots the host after RebootDelay. Called with mu held.
func (h *Host) scheduleRebootLocked() {
	if h.rebooting {
		return
	}
	h.rebooting = true
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTimer(h.cfg.RebootDelay)
		defer t.Stop()
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.reboot()
	}()
}

// reboot takes the host down: running tasks die, the boot identity
// changes, updates that needed a reboot finish, and the listener refuses
// connections for DownTime (or for good with NeverReturn).
func (h *Host) reboot() {
	h.mu.Lock()
	h.bootEnd()
	h.boots++
	now := time.Now().UTC()
	h.lastBoot = now.Add(h.cfg.DownTime).Truncate(100 * time.Nanosecond)
	h.bootCtx, h.bootEnd = context.WithCancel(h.ctx)
	h.signals = Signals{}
	for _, u := range h.updates {
		if u.Loop && u.installed {
			u.installed = false // offered again: the loop
		}
	}
	for _, tk := range h.tasks {
		if tk.running {
			tk.running = false // the installer process died with the boot
			tk.state = "Ready"
		}
	}
	h.busyUntil = now.Add(h.cfg.DownTime + h.cfg.ServicingAfterBoot)
	h.rebooting = false
	never := h.faults.NeverReturn
	h.down = never
	h.mu.Unlock()
	if never {
		h.srv.GoDown()
		return
	}
	h.srv.DownFor(h.cfg.DownTime)
}
