package winsim

import (
	"context"
	"time"
)

// Exit codes of shutdown.exe the host produces.
const (
	exitShutdownScheduled  = 1190
	exitShutdownInProgress = 1115
	exitNoShutdown         = 1116
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
	ctx, abort := context.WithCancel(h.ctx)
	h.abortShutdown = abort
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer abort()
		t := time.NewTimer(h.cfg.RebootDelay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		aborted := ctx.Err() != nil
		h.abortShutdown = nil
		h.mu.Unlock()
		if !aborted {
			h.reboot()
		}
	}()
}

// abortShutdownLocked is `shutdown.exe /a`: it cancels a reboot still in its
// delay and answers 0, or 1116 when there is none to abort. Called with mu
// held.
func (h *Host) abortShutdownLocked() int {
	if h.abortShutdown == nil {
		return exitNoShutdown
	}
	h.abortShutdown()
	h.abortShutdown = nil
	h.rebooting = false
	return 0
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
