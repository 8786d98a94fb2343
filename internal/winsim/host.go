package winsim

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

// Host is one running simulated Windows host.
//
// Concurrency: all methods are safe for concurrent use. mu guards the
// Windows state (updates, signals, tasks, files, boot); the emulator has
// its own lock. Every goroutine the host starts (installer tasks, pending
// reboots) is counted in wg and joined by Close.
type Host struct {
	cfg Config
	srv *winrmemu.Server

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	faults    Faults
	updates   []*updateState
	signals   Signals
	boots     int
	lastBoot  time.Time
	bootCtx   context.Context // ends when this boot ends (reboot, Close)
	bootEnd   context.CancelFunc
	busyUntil time.Time // servicing stack busy until then
	files     map[string]string
	tasks     map[string]*task
	rebooting bool // a reboot is scheduled or in progress
	// abortShutdown cancels a scheduled reboot still in its delay
	// (shutdown /a); nil once the host has started going down.
	abortShutdown context.CancelFunc
	down          bool // went down for good (NeverReturn)
	commands      []string

	// faultsChanged is closed (and replaced) whenever faults change, to
	// wake an installer holding for DropDuringInstall polls. Guarded by mu.
	faultsChanged chan struct{}
}

// updateState is an update and what happened to it. Guarded by Host.mu.
type updateState struct {
	UpdateSpec
	installed bool
	installs  int
}

// Start runs the host's WinRM listener on 127.0.0.1 (a random port). It
// runs until Close or until ctx ends; call Close in either case.
func Start(ctx context.Context, cfg Config) (*Host, error) {
	cfg = cfg.withDefaults()
	h := &Host{cfg: cfg, faults: cfg.Faults, faultsChanged: make(chan struct{}), signals: cfg.Signals,
		files: map[string]string{}, tasks: map[string]*task{}}
	for _, u := range cfg.Updates {
		h.updates = append(h.updates, &updateState{UpdateSpec: u})
	}
	h.ctx, h.cancel = context.WithCancel(ctx)
	h.lastBoot = time.Now().UTC().Add(-72 * time.Hour).Truncate(100 * time.Nanosecond)
	h.bootCtx, h.bootEnd = context.WithCancel(h.ctx)

	srv, err := winrmemu.New(winrmemu.Config{
		Users:            cfg.Users,
		AllowUnencrypted: cfg.AllowUnencrypted,
		TLS:              cfg.TLS,
		ComputerName:     cfg.Name,
		Handler:          h,
		Faults:           cfg.Faults.WinRM,
	})
	if err != nil {
		h.cancel()
		return nil, fmt.Errorf("winsim %s: %w", cfg.Name, err)
	}
	if _, err := srv.Start(h.ctx); err != nil {
		h.cancel()
		return nil, fmt.Errorf("winsim %s: %w", cfg.Name, err)
	}
	h.srv = srv
	return h, nil
}

// Close stops the listener and every background goroutine, and waits for
// them. Safe to call more than once.
func (h *Host) Close() error {
	h.cancel()
	err := h.srv.Close()
	h.wg.Wait()
	return err
}

// Name is the computer name.
func (h *Host) Name() string { return h.cfg.Name }

// Addr is "127.0.0.1:port".
func (h *Host) Addr() string { return h.srv.Addr() }

// Address is the host part of Addr.
func (h *Host) Address() string {
	host, _, _ := net.SplitHostPort(h.Addr())
	return host
}

// Port is the listener's port.
func (h *Host) Port() int {
	_, p, _ := net.SplitHostPort(h.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// HTTPS reports whether the listener serves TLS.
func (h *Host) HTTPS() bool { return h.cfg.TLS }

// CACertPEM is the CA of the self-signed certificate (TLS), or nil.
func (h *Host) CACertPEM() []byte { return h.srv.CACertPEM() }

// Credentials returns the built-in Administrator (or, without one, the
// first user by name) and its password.
func (h *Host) Credentials() (user, password string) {
	if p, ok := h.cfg.Users["Administrator"]; ok {
		return "Administrator", p
	}
	names := make([]string, 0, len(h.cfg.Users))
	for n := range h.cfg.Users {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "", ""
	}
	return names[0], h.cfg.Users[names[0]]
}

// Server is the WinRM emulator in front of the host (for Stats and its
// own fault injection).
func (h *Host) Server() *winrmemu.Server { return h.srv }

// SetFaults replaces the host's faults, the emulator's included.
func (h *Host) SetFaults(f Faults) {
	h.mu.Lock()
	h.faults = f
	h.faultsChangedLocked()
	h.mu.Unlock()
	h.srv.SetFaults(f.WinRM)
}

// faultsChangedLocked wakes whoever waits on a change of h.faults.
func (h *Host) faultsChangedLocked() {
	close(h.faultsChanged)
	h.faultsChanged = make(chan struct{})
}

// Boots is how many times the host has rebooted.
func (h *Host) Boots() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.boots
}

// LastBootUpTime is the boot identity as the scripts report it.
func (h *Host) LastBootUpTime() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return formatTime(h.lastBoot)
}

// Signals returns the pending-reboot signals now.
func (h *Host) Signals() Signals {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.signals
}

// SetSignals sets the pending-reboot signals.
func (h *Host) SetSignals(s Signals) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.signals = s
}

// Installs returns how many times each update id was installed.
func (h *Host) Installs() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, u := range h.updates {
		if u.installs > 0 {
			out[u.ID] = u.installs
		}
	}
	return out
}

// Tasks lists the names of the scheduled tasks that exist now.
func (h *Host) Tasks() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for id := range h.tasks {
		out = append(out, taskPrefix+id)
	}
	slices.Sort(out)
	return out
}

// Files lists the paths of the files on the host (lower case), for tests
// that check cleanup.
func (h *Host) Files() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for p := range h.files {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Commands returns the names of the patchrun scripts (or the first word of
// other command lines) the host has run, in order.
func (h *Host) Commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.commands)
}

// SetServicingBusy keeps the servicing stack busy for d from now.
func (h *Host) SetServicingBusy(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.busyUntil = time.Now().Add(d)
}

func (h *Host) isFiltered(user string) bool {
	for _, u := range h.cfg.FilteredUsers {
		if strings.EqualFold(u, user) {
			return true
		}
	}
	return false
}

// formatTime is .NET's round-trip ("o") format of a UTC DateTime.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}
