package fleet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"time"

	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/patchrun/patchrun/lease"
)

// maxCommandsSeen bounds the per-host command log so a long benchmark does
// not grow memory without limit.
const maxCommandsSeen = 512

// SimHost is one simulated Linux host: its disk (files, installed packages),
// its running state (boot id, /run, running kernel), its SSH listener and its
// faults.
//
// Concurrency: every field below mu is guarded by mu; the rest is set once in
// newHost and read-only afterwards. Methods are safe for concurrent use.
// Goroutines a host starts (accept loop, connections, sessions, background
// jobs, reboot timers) are joined by Fleet.Close.
type SimHost struct {
	f       *Fleet
	name    string
	prof    *profile
	addr    string // "127.0.0.1:port", fixed for the host's life
	port    int
	hostKey ssh.Signer
	altKey  ssh.Signer // served when Faults.ChangedHostKey
	// lock is the host's patchrun lease file (/var/lib/patchrun/lock);
	// safe for concurrent use on its own, and it survives reboots.
	lock lease.Sim

	mu sync.Mutex
	// disk: survives reboots
	files     map[string]string
	dirs      map[string]bool
	installed map[string]*instPkg
	updates   map[string]Update // catalog, by package name: the newest offer
	// superseded holds older offers AddUpdate replaced: still in the
	// repositories, installable when named with their version.
	superseded map[string][]Update
	kernels    []string
	halfConfig map[string]bool // dpkg iU packages after a conffile prompt
	// facts (facts.go)
	firstBootAge              time.Duration   // uptime the first boot starts with
	lastInstall               time.Time       // dpkg.log's last install, rpm INSTALLTIME of what it installed
	lastPkg, lastOld, lastNew string          // the package it installed, for dpkg.log
	addrOctet                 int             // eth0's addresses end in it
	confDirty                 map[string]bool // conffiles the admin modified (ModifiedConffile)
	hooks                     []string        // hook commands run (rollout.go)
	healthChecks              int             // health-check commands run
	// running state: reset on boot
	up         bool
	ln         net.Listener
	bootCtx    context.Context
	bootCancel context.CancelFunc
	conns      map[net.Conn]struct{}
	bootID     string
	bootedAt   time.Time
	kernel     string
	rebootPkgs []string // packages that asked for a reboot since boot (rpm distros)
	rebootSet  context.CancelFunc
	units      map[string]*transientUnit // transient systemd units of this boot
	jobs       map[string]*simJob        // patchrun's detached jobs of this boot
	// counters and faults
	reboots   int
	commands  []string
	faults    Faults
	lockUntil time.Time
	rng       *rand.Rand
}

// instPkg is one installed package with every installed version (several
// only for install-only kernels), oldest first.
type instPkg struct {
	arch     string
	versions []string
}

func (p *instPkg) newest() string { return p.versions[len(p.versions)-1] }

func newHost(f *Fleet, spec HostSpec, hostKey, altKey ssh.Signer, seed uint64) *SimHost {
	prof := profileFor(spec.Distro)
	h := &SimHost{
		f: f, name: spec.Name, prof: prof, hostKey: hostKey, altKey: altKey,
		files: map[string]string{
			"/etc/os-release":      prof.osRelease,
			"/etc/hostname":        spec.Name + "\n",
			"/etc/machine-id":      "",
			"/etc/ssh/sshd_config": "# simulated\n",
		},
		dirs:       map[string]bool{"/run": true, "/tmp": true, "/root": true, "/lib/modules": true, "/var/lib": true},
		installed:  map[string]*instPkg{},
		updates:    map[string]Update{},
		superseded: map[string][]Update{},
		halfConfig: map[string]bool{},
		confDirty:  map[string]bool{},
		conns:      map[net.Conn]struct{}{},
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	h.files["/etc/machine-id"] = fmt.Sprintf("%016x%016x\n", h.rng.Uint64(), h.rng.Uint64())
	h.files["/usr/lib/os-release"] = prof.osRelease
	h.seedFactsLocked(time.Now())
	for _, p := range prof.installed {
		h.installed[p.Name] = &instPkg{arch: p.Arch, versions: []string{p.Version}}
	}
	for _, u := range prof.updates {
		h.updates[u.Name] = u
	}
	for _, k := range prof.kernels {
		h.addKernelLocked(k)
	}
	h.setFaultsLocked(spec.Faults)
	return h
}

func (h *SimHost) addKernelLocked(k string) {
	h.kernels = append(h.kernels, k)
	h.files["/lib/modules/"+k+"/modules.dep"] = ""
}

// removeKernelsLocked deletes every installed kernel's /lib/modules
// directory, as apk and pacman do when they replace a kernel package.
func (h *SimHost) removeKernelsLocked() {
	for _, k := range h.kernels {
		prefix := "/lib/modules/" + k + "/"
		for f := range h.files {
			if strings.HasPrefix(f, prefix) {
				delete(h.files, f)
			}
		}
	}
	h.kernels = nil
}

// Lock is the host's patchrun lease: Hold makes the host look locked by
// another run, Holder shows who holds it.
func (h *SimHost) Lock() *lease.Sim { return &h.lock }

// Name is the host's inventory name (also its hostname).
func (h *SimHost) Name() string { return h.name }

// Distro is the host's profile.
func (h *SimHost) Distro() Distro { return h.prof.distro }

// Addr is "127.0.0.1:port"; it stays the same across reboots.
func (h *SimHost) Addr() string { return h.addr }

// BootID is the current boot id ("" while the host is down).
func (h *SimHost) BootID() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.up {
		return ""
	}
	return h.bootID
}

// Up reports whether the host is accepting connections.
func (h *SimHost) Up() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

// Reboots counts completed reboots (power-off followed by a boot).
func (h *SimHost) Reboots() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reboots
}

// Kernel is the running kernel release (uname -r).
func (h *SimHost) Kernel() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kernel
}

// Installed returns the newest installed version of pkg, "" if absent.
func (h *SimHost) Installed(pkg string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p := h.installed[pkg]; p != nil {
		return p.newest()
	}
	return ""
}

// PendingUpdate is an update the host would install now.
type PendingUpdate struct {
	Name      string
	Current   string
	Available string
	Security  bool
	Reboot    bool
}

// Pending lists what a full upgrade would install now, sorted by name: the
// updates of installed packages plus the new packages they pull in (a
// kernel image behind a metapackage, Current ""), as apt's Inst lines show.
func (h *SimHost) Pending() []PendingUpdate {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []PendingUpdate
	for _, s := range h.planLocked(h.pendingLocked()) {
		out = append(out, PendingUpdate{Name: s.U.Name, Current: s.Old, Available: s.U.Version,
			Security: s.U.Security, Reboot: s.U.Reboot})
	}
	return out
}

// RebootRequired reports whether an installed update asked for a reboot
// that has not happened yet.
func (h *SimHost) RebootRequired() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rebootPkgs) > 0
}

// CommandsSeen returns the command lines the host ran, oldest first (the
// last maxCommandsSeen of them).
func (h *SimHost) CommandsSeen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.commands...)
}

// AddUpdate publishes a new update in the host's repositories (for example
// to test a second patch round). It becomes the package's offer; an older
// offer stays in the repositories, installable when named with its version
// (apt name=version, dnf name-version, zypper name=version).
func (h *SimHost) AddUpdate(u Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u.Arch == "" {
		if p := h.installed[u.Name]; p != nil {
			u.Arch = p.arch
		}
	}
	if old, ok := h.updates[u.Name]; ok && old.Version != u.Version {
		h.superseded[u.Name] = append(h.superseded[u.Name], old)
	}
	h.updates[u.Name] = u
}

// offerLocked finds the offer of name at version ("" = the newest).
func (h *SimHost) offerLocked(name, version string) (Update, bool) {
	u, ok := h.updates[name]
	if !ok || version == "" || u.Version == version {
		return u, ok
	}
	for _, old := range h.superseded[name] {
		if old.Version == version {
			return old, true
		}
	}
	return Update{}, false
}

// Faults returns the host's current faults; counters show what is left and
// LockHeld the time the lock is still held.
func (h *SimHost) Faults() Faults {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.faults
	f.LockHeld = max(0, time.Until(h.lockUntil))
	return f
}

// SetFaults replaces the host's faults. LockHeld starts counting now.
// Connections already open keep their key and auth; new ones see the change.
func (h *SimHost) SetFaults(f Faults) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setFaultsLocked(f)
}

// UpdateFaults edits the faults in place under the host's lock, e.g.
// h.UpdateFaults(func(f *fleet.Faults) { f.HandshakeResets = 3 }).
func (h *SimHost) UpdateFaults(edit func(*Faults)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.faults
	f.LockHeld = max(0, time.Until(h.lockUntil))
	edit(&f)
	h.setFaultsLocked(f)
}

func (h *SimHost) setFaultsLocked(f Faults) {
	h.faults = f
	h.lockUntil = time.Now().Add(f.LockHeld)
	if f.ModifiedConffile {
		for name, u := range h.updates {
			if u.Conffile != "" && h.installed[name] != nil {
				h.confDirty[name] = true
			}
		}
	}
}

// installedNamesLocked lists installed package names, sorted.
func (h *SimHost) installedNamesLocked() []string {
	names := make([]string, 0, len(h.installed))
	for n := range h.installed {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// pendingLocked lists the catalog updates newer than what is installed,
// sorted by name.
func (h *SimHost) pendingLocked() []Update {
	var out []Update
	for _, u := range h.updates {
		p := h.installed[u.Name]
		if p == nil || p.newest() == u.Version {
			continue
		}
		if u.InstallOnly && containsStr(p.versions, u.Version) {
			continue
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// txStep is one package of a transaction.
type txStep struct {
	U   Update
	Old string // "" for a new package
}

// planLocked resolves the transaction that installs want (catalog names),
// pulling in Requires; names that are not pending are skipped. The result is
// sorted by name.
func (h *SimHost) planLocked(want []Update) []txStep {
	seen := map[string]bool{}
	var steps []txStep
	var add func(u Update)
	add = func(u Update) {
		if seen[u.Name] {
			return
		}
		seen[u.Name] = true
		p := h.installed[u.Name]
		old := ""
		if p != nil {
			if p.newest() == u.Version {
				return
			}
			old = p.newest()
		}
		steps = append(steps, txStep{U: u, Old: old})
		for _, r := range u.Requires {
			if ru, ok := h.updates[r]; ok {
				add(ru)
			}
		}
	}
	for _, u := range want {
		add(u)
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].U.Name < steps[j].U.Name })
	return steps
}

// applyLocked installs the steps: versions move, kernels land under
// /lib/modules, and reboot signals are set for packages that need one.
func (h *SimHost) applyLocked(steps []txStep) {
	for _, s := range steps {
		u := s.U
		h.noteInstallLocked(s)
		p := h.installed[u.Name]
		switch {
		case p == nil:
			h.installed[u.Name] = &instPkg{arch: u.Arch, versions: []string{u.Version}}
		case u.InstallOnly:
			p.versions = append(p.versions, u.Version)
			// rpm keeps installonly_limit=3 versions
			if len(p.versions) > 3 {
				p.versions = p.versions[len(p.versions)-3:]
			}
		default:
			p.versions = []string{u.Version}
		}
		if u.Kernel != "" && !containsStr(h.kernels, u.Kernel) {
			if h.prof.kernelInPlace {
				h.removeKernelsLocked()
			}
			h.addKernelLocked(u.Kernel)
		}
		if u.Reboot {
			h.markRebootLocked(u.Name)
		}
	}
}

// markRebootLocked sets the distro's reboot-required signals.
func (h *SimHost) markRebootLocked(pkg string) {
	if !containsStr(h.rebootPkgs, pkg) {
		h.rebootPkgs = append(h.rebootPkgs, pkg)
	}
	switch h.prof.manager {
	case "apt":
		h.files["/run/reboot-required"] = "*** System restart required ***\n"
		h.files["/run/reboot-required.pkgs"] += pkg + "\n"
	case "zypper":
		h.files["/run/reboot-needed"] = ""
	}
}

// lockRemaining is how long the package-manager lock is still held.
func (h *SimHost) lockRemaining() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return max(0, time.Until(h.lockUntil))
}

// takeDropFault consumes one DropDuringInstall.
func (h *SimHost) takeDropFault() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.faults.DropDuringInstall > 0 {
		h.faults.DropDuringInstall--
		return true
	}
	return false
}

// takeHandshakeReset consumes one HandshakeResets.
func (h *SimHost) takeHandshakeReset() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.faults.HandshakeResets > 0 {
		h.faults.HandshakeResets--
		return true
	}
	return false
}

func (h *SimHost) recordCommand(line string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.commands) >= maxCommandsSeen {
		h.commands = append(h.commands[:0], h.commands[1:]...)
	}
	h.commands = append(h.commands, line)
}

func (h *SimHost) logf(format string, args ...any) {
	if h.f.cfg.Logf != nil {
		h.f.cfg.Logf("%s: "+format, append([]any{h.name}, args...)...)
	}
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// newUUID returns a random version-4 UUID from the host's generator.
func (h *SimHost) newUUIDLocked() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := h.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
