package runner

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// fakeFleet is an in-memory fleet: a Dialer, a DetectFunc and, per host, a
// Backend whose behaviour each test sets. It models a connection that dies
// when its host reboots, boot ids that change only when a host comes back,
// and hosts that drop, hang, never return or loop their updates.
//
// Concurrency: every field of the fleet and of its hosts is guarded by mu;
// channels in fakeHost are set before Run and only read afterwards.
type fakeFleet struct {
	t     testing.TB
	mu    sync.Mutex
	hosts map[string]*fakeHost
	order []string

	busy, maxBusy           int      // calls in flight at once
	rebooting, maxRebooting int      // hosts between Reboot and a good Ready
	trace                   []string // "reboot h", "up h", in order
	busyCh                  chan int // each new busy count (dropped when full)
	open, maxOpen           int      // connections (and dials in flight) open now, and at most
}

// fakeHost is one simulated host: knobs first, then state.
type fakeHost struct {
	name string

	dialErr       error // every dial fails with this
	dialHang      bool  // dial blocks until its ctx ends
	pending       []patch.Update
	waves         [][]patch.Update // the next wave appears at each reboot
	factsReboot   bool             // a reboot is already required
	installReboot bool             // any install sets the reboot flag
	stickyReboot  bool             // the flag survives reboots
	loop          bool             // installed updates are pending again after a reboot
	installFail   map[string]string
	installErr    error
	scanErr       error
	rescanErr     error // scans after a reboot fail with this
	scanReadErr   error // a BootState read that carries the scan fails with this (its answer too large, say)
	scanPanic     bool
	installHang   bool          // Install blocks until its ctx ends
	installGate   chan struct{} // Install finishes only once this is closed
	installStart  chan struct{} // closed when Install begins
	scanGate      chan struct{} // Scan finishes only once this is closed
	scanHang      bool          // Scan blocks until its ctx ends
	scanStart     chan struct{} // closed when the first Scan begins
	dropInInstall bool          // the connection dies as an install finishes
	lostInInstall bool          // the connection dies before an install's end is seen (it did install)
	goneAfterLoss bool          // and the host cannot be dialled after that
	dropWaiting   bool          // the connection dies after the post-install check
	neverBack     bool          // after a reboot, dials fail forever
	// downFor: after a reboot the host is off the network this long (real
	// time: use synctest); a dial meanwhile hangs until its ctx ends, as a
	// connect to a host whose link is down does.
	downFor       time.Duration
	authAfterBoot bool // after a reboot, the host rejects our credentials
	authFailDials int  // after a reboot, this many dials are rejected (services still starting)
	readyHang     bool // Ready blocks until its ctx ends
	neverReboots  bool // Reboot does nothing: the boot id never changes
	sameBootDials int  // dials after Reboot that still see the old boot
	downDials     int  // then dials that fail while it is down
	readyFails    int  // Ready fails this many times after each boot
	rebootErr     error
	cancelErr     error         // CancelReboot fails with this
	rebootHang    bool          // Reboot schedules the reboot, then blocks until its ctx ends
	rebootIssued  chan struct{} // closed at the first Reboot
	// bootState: the backend reads boot id and reboot signals in one
	// command (patch.BootStater) and reboots on condition of a boot id
	// (patch.BootIDRebooter).
	bootState  bool
	staleFacts bool // Facts reports a boot id the host no longer runs
	execResult transport.Result
	execErr    error
	// Remote commands the backend runs over the transport (so the runner's
	// transport decorator sees them), answered from runs, else execResult.
	runs         map[string]transport.Result
	roundTrips   int                                        // remote commands received over any connection
	answer       func(line string) (transport.Result, bool) // asked first (with the fleet's lock held); may cut the connection (gen++)
	hangOn       func(line string) bool                     // a command it is true for blocks until its ctx ends (asked without the lock)
	runErrs      map[string]error
	probeLine    string   // Facts runs it (a probe; its output is ignored)
	scanLine     string   // Scan runs it; non-zero fails the scan
	installLines []string // Install runs them in order; the install fails if the first exits non-zero
	installOut   string   // the backend's own InstallResult.Output
	hint         string   // RecoveryHint, if not the default
	// lock answers the lease commands (the host's lease file); nil: a
	// fresh one on first use.
	lock *lease.Sim

	// state
	boot, gen      int
	afterReboot    int // 0 none; 1 going down; 2 down
	sameLeft       int
	authLeft       int
	downLeft       int
	readyLeft      int
	rebootReq      bool
	rebootChecks   int // RebootRequired calls
	scans          int // Scan calls
	bootScans      int // scans done inside a BootState read
	bootIDReads    int // BootID and BootState calls
	dials          int
	installs       int
	fullInstalls   []bool // the mode of each Install call
	reboots        int
	cancels        int
	installedNames []string
	closes, opens  int
	conns          []weak.Pointer[fakeTransport] // every connection, nil once collected
	rebootAt       time.Time
	backAt         time.Time   // when a dial last found it back up with a new boot
	dialAt         []time.Time // when each dial started
	hanging        int         // dials hanging on the down link now
	maxHanging     int
}

func newFleet(t testing.TB, hosts ...*fakeHost) *fakeFleet {
	f := &fakeFleet{t: t, hosts: map[string]*fakeHost{}, busyCh: make(chan int, 4096)}
	for _, h := range hosts {
		h.rebootReq = h.factsReboot
		f.hosts[h.name] = h
		f.order = append(f.order, h.name)
	}
	return f
}

func (f *fakeFleet) inventory() []inventory.Host {
	var out []inventory.Host
	for _, n := range f.order {
		out = append(out, inventory.Host{Name: n, Address: n + ".example", Transport: inventory.TransportSSH})
	}
	return out
}

func (f *fakeFleet) deps() Deps {
	return Deps{Dialer: f, Detect: f.detect}
}

func (f *fakeFleet) host(name string) *fakeHost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hosts[name]
}

// track brackets every fake call (use: defer f.track()()) so tests can see
// how many run at once.
func (f *fakeFleet) track() func() {
	f.mu.Lock()
	f.busy++
	f.maxBusy = max(f.maxBusy, f.busy)
	n := f.busy
	f.mu.Unlock()
	select {
	case f.busyCh <- n:
	default:
	}
	return func() {
		f.mu.Lock()
		f.busy--
		f.mu.Unlock()
	}
}

func (f *fakeFleet) snapshot(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func bootID(name string, boot int) string { return fmt.Sprintf("%s-boot-%d", name, boot) }

func (f *fakeFleet) Dial(ctx context.Context, ih inventory.Host) (transport.Transport, error) {
	defer f.track()()
	f.mu.Lock()
	h := f.hosts[ih.Name]
	h.dials++
	h.dialAt = append(h.dialAt, time.Now())
	switch {
	case h.dialHang:
		f.mu.Unlock()
		<-ctx.Done()
		return nil, fmt.Errorf("dial %s: %w: %w", ih.Name, transport.ErrUnreachable, ctx.Err())
	case h.dialErr != nil:
		f.mu.Unlock()
		return nil, fmt.Errorf("dial %s: %w", ih.Name, h.dialErr)
	}
	if h.afterReboot != 0 && h.downFor > 0 && time.Since(h.rebootAt) < h.downFor {
		// The attempt holds a socket until it gives up: it counts as open.
		h.hanging++
		h.maxHanging = max(h.maxHanging, h.hanging)
		f.open++
		f.maxOpen = max(f.maxOpen, f.open)
		f.mu.Unlock()
		<-ctx.Done()
		f.mu.Lock()
		h.hanging--
		f.open--
		f.mu.Unlock()
		return nil, fmt.Errorf("dial %s: %w: %w", ih.Name, transport.ErrUnreachable, ctx.Err())
	}
	defer f.mu.Unlock()
	if h.afterReboot != 0 && h.downFor > 0 {
		h.afterReboot = 2
	}
	switch h.afterReboot {
	case 1:
		if h.neverReboots {
			break
		}
		if h.sameLeft > 0 {
			h.sameLeft--
			break
		}
		h.afterReboot = 2
		fallthrough
	case 2:
		if h.authAfterBoot || h.authLeft > 0 {
			h.authLeft--
			return nil, fmt.Errorf("dial %s: %w", ih.Name, transport.ErrAuth)
		}
		if h.neverBack || h.downLeft > 0 {
			h.downLeft--
			return nil, fmt.Errorf("dial %s: %w: connection refused", ih.Name, transport.ErrUnreachable)
		}
		f.comeUp(h)
	}
	h.opens++
	f.open++
	f.maxOpen = max(f.maxOpen, f.open)
	t := &fakeTransport{f: f, h: h, gen: h.gen}
	h.conns = append(h.conns, weak.Make(t))
	return t, nil
}

// comeUp boots h: a new boot id, the reboot flag cleared, the next wave of
// updates revealed. Called with f.mu held.
func (f *fakeFleet) comeUp(h *fakeHost) {
	h.afterReboot = 0
	h.boot++
	h.backAt = time.Now()
	h.readyLeft = h.readyFails
	if !h.stickyReboot {
		h.rebootReq = false
	}
	if len(h.waves) > 0 {
		h.pending = append(h.pending, h.waves[0]...)
		h.waves = h.waves[1:]
	}
	if h.loop {
		for _, n := range h.installedNames {
			h.pending = append(h.pending, patch.Update{Name: n, Available: "2"})
		}
	}
	f.trace = append(f.trace, "boot "+h.name)
}

func (f *fakeFleet) detect(ctx context.Context, ih inventory.Host, t transport.Transport) (patch.Backend, error) {
	b := &fakeBackend{f: f, h: f.host(ih.Name)}
	if b.h.bootState { // knob: set before Run
		return fakeStater{b}, nil
	}
	return b, nil
}

// The commands fakeStater's BootState and RebootIfBoot send.
const (
	fakeBootStateLine    = "fake-boot-state"
	fakeRebootIfBootLine = "fake-reboot-if-boot"
)

// fakeStater is a fakeBackend that also reads the boot id and the reboot
// flag in one call, with the scan when asked on a new boot.
type fakeStater struct{ *fakeBackend }

func (b fakeStater) BootState(ctx context.Context, t transport.Transport, q patch.BootQuery) (patch.BootState, error) {
	defer b.f.track()()
	var st patch.BootState
	// One command, as on a real host: what the transport puts in front
	// of it (a lease renewal) shares its round trip.
	if _, err := b.run(ctx, t, fakeBootStateLine); err != nil {
		return st, err
	}
	err := b.call(t, func() error {
		if q.Scan && b.h.scanReadErr != nil {
			return b.h.scanReadErr
		}
		b.h.bootIDReads++
		st = patch.BootState{ID: bootID(b.h.name, b.h.boot), Signals: true, RebootRequired: b.h.rebootReq}
		if b.h.rebootReq {
			st.RebootReasons = []string{"fake-flag"}
		}
		if q.Scan && st.ID != q.Before {
			b.h.bootScans++
			st.Scanned, st.Updates, st.ScanErr = true, slices.Clone(b.h.pending), cmp.Or(b.h.rescanErr, b.h.scanErr)
		}
		return nil
	})
	return st, err
}

func (b fakeStater) RebootIfBoot(ctx context.Context, t transport.Transport, id string) error {
	// One command, as on a real host (see BootState).
	if _, err := b.run(ctx, t, fakeRebootIfBootLine); err != nil {
		return err
	}
	var changed bool
	err := b.call(t, func() error {
		changed = id != bootID(b.h.name, b.h.boot)
		return nil
	})
	if err != nil {
		return err
	}
	if changed {
		return fmt.Errorf("reboot: %w", patch.ErrBootChanged)
	}
	return b.Reboot(ctx, t)
}

// fakeTransport is one connection. It dies (ErrConnLost) when its host
// reboots; using it after Close is a runner bug the test reports.
type fakeTransport struct {
	f      *fakeFleet
	h      *fakeHost
	gen    int
	closed bool
}

// alive checks the connection; called with f.mu held.
func (t *fakeTransport) alive() error {
	if t.closed {
		t.f.t.Errorf("host %s: transport used after Close", t.h.name)
		return fmt.Errorf("use of closed transport: %w", transport.ErrConnLost)
	}
	if t.gen != t.h.gen {
		return fmt.Errorf("%s: %w", t.h.name, transport.ErrConnLost)
	}
	return nil
}

func (t *fakeTransport) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	defer t.f.track()()
	if t.h.hangOn != nil && t.h.hangOn(cmd.Line) {
		<-ctx.Done()
		return transport.Result{}, fmt.Errorf("%s: %w", cmd.Line, ctx.Err())
	}
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if err := t.alive(); err != nil {
		return transport.Result{}, err
	}
	t.h.roundTrips++
	if req, ok := lease.ParseUnixCommand(cmd.Line); ok {
		if t.h.lock == nil {
			t.h.lock = &lease.Sim{}
		}
		if req.Then == "" {
			return transport.Result{Stdout: []byte(t.h.lock.UnixAnswer(req))}, nil
		}
		var out transport.Result
		var runErr error
		out.ExitCode = t.h.lock.UnixWrapped(req, func(s string) { out.Stdout = append(out.Stdout, s...) }, func(line string) int {
			var res transport.Result
			res, runErr = t.runLocked(line)
			out.Stdout = append(out.Stdout, res.Stdout...)
			out.Stderr = append(out.Stderr, res.Stderr...)
			return res.ExitCode
		})
		if cmd.MaxOutput > 0 && len(out.Stdout) > cmd.MaxOutput {
			out.Stdout, out.Truncated = out.Stdout[:cmd.MaxOutput], true
		}
		return out, runErr
	}
	return t.runLocked(cmd.Line)
}

// runLocked answers a command line that is not a lease's, holding the
// fleet lock.
func (t *fakeTransport) runLocked(line string) (transport.Result, error) {
	cmd := transport.Command{Line: line}
	if t.h.answer != nil {
		if res, ok := t.h.answer(cmd.Line); ok {
			if err := t.alive(); err != nil { // the answer cut the connection
				return transport.Result{}, err
			}
			return res, nil
		}
	}
	if err, ok := t.h.runErrs[cmd.Line]; ok {
		return transport.Result{}, err
	}
	if res, ok := t.h.runs[cmd.Line]; ok {
		return res, nil
	}
	if t.h.execErr != nil {
		return transport.Result{}, t.h.execErr
	}
	return t.h.execResult, nil
}

func (t *fakeTransport) Upload(ctx context.Context, dst string, src io.Reader, size int64) error {
	return nil
}

func (t *fakeTransport) Close() error {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if !t.closed {
		t.closed = true
		t.h.closes++
		t.f.open--
	}
	return nil
}

// fakeBackend drives a fakeHost. Each call checks its transport is alive.
type fakeBackend struct {
	f *fakeFleet
	h *fakeHost
}

// call runs fn under the fleet lock after checking the transport.
func (b *fakeBackend) call(t transport.Transport, fn func() error) error {
	b.f.mu.Lock()
	defer b.f.mu.Unlock()
	inner := t.(*loggedTransport).Transport
	if rf, ok := inner.(*lease.RenewFirst); ok {
		inner = rf.Transport
	}
	ft, ok := inner.(*fakeTransport)
	if !ok {
		b.f.t.Errorf("unexpected transport %T", t)
	}
	if err := ft.alive(); err != nil {
		return err
	}
	return fn()
}

func (b *fakeBackend) Name() string { return "fakepm" }

func (b *fakeBackend) RecoveryHint() string {
	if b.h.hint != "" {
		return b.h.hint
	}
	return "run fakepm --verify"
}

// run sends a knob's command line over t (outside the fleet lock: the fake
// transport takes it).
func (b *fakeBackend) run(ctx context.Context, t transport.Transport, line string) (transport.Result, error) {
	res, err := t.Run(ctx, transport.Command{Line: line})
	if err != nil {
		return res, fmt.Errorf("%s: %w", line, err)
	}
	if res.ExitCode != 0 {
		return res, patch.NewCommandError(line, res.ExitCode, res.Stdout, res.Stderr)
	}
	return res, nil
}

func (b *fakeBackend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	defer b.f.track()()
	if b.h.probeLine != "" {
		if _, err := b.run(ctx, t, b.h.probeLine); err != nil {
			return patch.Facts{}, err
		}
	}
	var f patch.Facts
	err := b.call(t, func() error {
		f = patch.Facts{OS: "fakeos 1", Family: "fake", BootID: bootID(b.h.name, b.h.boot), RebootRequired: b.h.rebootReq,
			Arch: "x86_64", Uptime: 90 * time.Minute, Addresses: []string{"192.0.2.7/24"}}
		if b.h.rebootReq {
			f.RebootReasons = []string{"fake-flag"}
		}
		if b.h.staleFacts {
			f.BootID = "stale-boot"
		}
		return nil
	})
	return f, err
}

func (b *fakeBackend) Refresh(ctx context.Context, t transport.Transport) error {
	defer b.f.track()()
	return b.call(t, func() error { return nil })
}

func (b *fakeBackend) Scan(ctx context.Context, t transport.Transport) ([]patch.Update, error) {
	defer b.f.track()()
	b.f.snapshot(func() {
		if b.h.scanStart != nil {
			close(b.h.scanStart)
			b.h.scanStart = nil
		}
	})
	if b.h.scanHang { // knob: set before Run
		<-ctx.Done()
		return nil, fmt.Errorf("scan: %w", ctx.Err())
	}
	if err := waitGate(ctx, b.h.scanGate); err != nil {
		return nil, err
	}
	if b.h.scanLine != "" {
		if _, err := b.run(ctx, t, b.h.scanLine); err != nil {
			return nil, err
		}
	}
	var out []patch.Update
	err := b.call(t, func() error {
		if b.h.scanPanic {
			panic("boom")
		}
		b.h.scans++
		if b.h.scanErr != nil {
			return b.h.scanErr
		}
		if b.h.boot > 0 && b.h.rescanErr != nil {
			return b.h.rescanErr
		}
		out = slices.Clone(b.h.pending)
		return nil
	})
	return out, err
}

func waitGate(ctx context.Context, gate chan struct{}) error {
	if gate == nil {
		return nil
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *fakeBackend) Install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool) (patch.InstallResult, error) {
	defer b.f.track()()
	b.f.snapshot(func() {
		if b.h.installStart != nil && b.h.installs == 0 {
			close(b.h.installStart)
		}
	})
	if b.h.installHang {
		<-ctx.Done()
		return patch.InstallResult{}, fmt.Errorf("install: %w", ctx.Err())
	}
	if err := waitGate(ctx, b.h.installGate); err != nil {
		return patch.InstallResult{}, err
	}
	var installErr error
	for i, line := range b.h.installLines {
		_, err := b.run(ctx, t, line)
		if i == 0 {
			installErr = err
		}
	}
	if installErr != nil {
		return patch.InstallResult{Output: b.h.installOut}, installErr
	}
	res := patch.InstallResult{Output: b.h.installOut}
	err := b.call(t, func() error {
		h := b.h
		h.installs++
		h.fullInstalls = append(h.fullInstalls, full)
		if h.installErr != nil {
			return h.installErr
		}
		for _, u := range updates {
			if e, bad := h.installFail[u.Name]; bad {
				u.Error = e
				res.Updates = append(res.Updates, u)
				continue
			}
			u.Installed = true
			res.Updates = append(res.Updates, u)
			h.installedNames = append(h.installedNames, u.Name)
			h.pending = slices.DeleteFunc(h.pending, func(p patch.Update) bool { return p.Name == u.Name })
			if u.RebootRequired || h.installReboot {
				h.rebootReq = true
			}
		}
		res.RebootRequired = h.rebootReq
		if h.dropInInstall {
			h.gen++
		}
		if h.lostInInstall {
			// The packages went in, but the link died before the
			// package manager's end was seen.
			h.gen++
			if h.goneAfterLoss {
				h.dialErr = transport.ErrUnreachable
			}
			res = patch.InstallResult{}
			return fmt.Errorf("install: %w", transport.ErrConnLost)
		}
		return nil
	})
	return res, err
}

func (b *fakeBackend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	defer b.f.track()()
	var req bool
	var why []string
	err := b.call(t, func() error {
		b.h.rebootChecks++
		req = b.h.rebootReq
		if req {
			why = []string{"fake-flag"}
		}
		if b.h.dropWaiting && b.h.installs > 0 && b.h.reboots == 0 {
			b.h.gen++
		}
		return nil
	})
	return req, why, err
}

func (b *fakeBackend) BootID(ctx context.Context, t transport.Transport) (string, error) {
	defer b.f.track()()
	var id string
	err := b.call(t, func() error {
		b.h.bootIDReads++
		id = bootID(b.h.name, b.h.boot)
		return nil
	})
	return id, err
}

func (b *fakeBackend) Reboot(ctx context.Context, t transport.Transport) error {
	defer b.f.track()()
	err := b.call(t, func() error {
		h := b.h
		h.reboots++
		h.gen++ // the issuing connection dies with the old boot
		h.afterReboot, h.sameLeft, h.downLeft, h.authLeft = 1, h.sameBootDials, h.downDials, h.authFailDials
		h.rebootAt = time.Now()
		b.f.rebooting++
		b.f.maxRebooting = max(b.f.maxRebooting, b.f.rebooting)
		b.f.trace = append(b.f.trace, "reboot "+h.name)
		if h.rebootIssued != nil && h.reboots == 1 {
			close(h.rebootIssued)
		}
		return h.rebootErr
	})
	if b.h.rebootHang { // knob: set before Run
		<-ctx.Done()
		return fmt.Errorf("reboot: %w", ctx.Err())
	}
	return err
}

func (b *fakeBackend) CancelReboot(ctx context.Context, t transport.Transport) error {
	defer b.f.track()()
	return b.call(t, func() error {
		h := b.h
		h.cancels++
		if h.cancelErr != nil {
			return h.cancelErr
		}
		if h.afterReboot != 1 {
			return fmt.Errorf("cancel reboot: %w", patch.ErrRebootNotPending)
		}
		h.afterReboot = 0
		b.f.rebooting--
		b.f.trace = append(b.f.trace, "cancel "+h.name)
		return nil
	})
}

func (b *fakeBackend) Ready(ctx context.Context, t transport.Transport) error {
	defer b.f.track()()
	if b.h.readyHang { // knob: set before Run
		<-ctx.Done()
		return fmt.Errorf("ready: %w", ctx.Err())
	}
	return b.call(t, func() error {
		if b.h.readyLeft > 0 {
			b.h.readyLeft--
			return fmt.Errorf("not ready yet: %w", patch.ErrCommandFailed)
		}
		b.f.rebooting--
		b.f.trace = append(b.f.trace, "up "+b.h.name)
		return nil
	})
}

// recorder is an Observer that keeps every event and checks, as they come,
// that the runner serialises calls and that no host does anything after its
// end.
type recorder struct {
	t        testing.TB
	mu       sync.Mutex
	events   []Event
	inCall   bool
	ended    map[string]int
	inReboot map[string]bool
	maxInRbt int
}

func newRecorder(t testing.TB) *recorder {
	return &recorder{t: t, ended: map[string]int{}, inReboot: map[string]bool{}}
}

func (r *recorder) Event(e Event) {
	// TryLock fails only if two Event calls overlap: the runner must
	// serialise them.
	if !r.mu.TryLock() {
		r.t.Errorf("observer called concurrently")
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	if e.Host != "" && r.ended[e.Host] > 0 {
		r.t.Errorf("event after host end: %+v", e)
	}
	// A host reboots from its rebooting phase until it is back (verifying)
	// or ends: a host releasing its lease after its batch is not rebooting.
	switch {
	case e.Kind == EventHostEnd:
		r.ended[e.Host]++
		delete(r.inReboot, e.Host)
	case e.Kind == EventPhase && e.Phase == report.PhaseRebooting:
		r.inReboot[e.Host] = true
		r.maxInRbt = max(r.maxInRbt, len(r.inReboot))
	case e.Kind == EventPhase && e.Phase != report.PhaseWaitingDown && e.Phase != report.PhaseWaitingUp:
		delete(r.inReboot, e.Host)
	}
}

func (r *recorder) kinds(k EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// phases lists the phases a host entered, in order.
func (r *recorder) phases(host string) []report.Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []report.Phase
	for _, e := range r.events {
		if e.Kind == EventPhase && e.Host == host {
			out = append(out, e.Phase)
		}
	}
	return out
}

// fastPlan is a plan with millisecond timings for tests.
func fastPlan(cmd report.Command, f *fakeFleet) Plan {
	return Plan{
		Command:        cmd,
		Hosts:          f.inventory(),
		Forks:          4,
		ConnectTimeout: time.Second,
		StepTimeout:    5 * time.Second,
		Refresh:        true,
		Reboot:         RebootIfRequired,
		Batches:        Batches{{N: 1}},
		MaxFailures:    Budget{Unlimited: true},
		RebootTimeout:  2 * time.Second,
		Timing:         Timing{PollInterval: time.Millisecond, PollMax: 4 * time.Millisecond, ProbeTimeout: time.Second},
	}
}

// realTimePlan is a plan with the real default timeouts and poll timing,
// for tests that run in a synctest bubble, where they take no real time.
func realTimePlan(cmd report.Command, f *fakeFleet) Plan {
	p := fastPlan(cmd, f)
	p.ConnectTimeout, p.StepTimeout, p.RebootTimeout, p.Timing = 0, 0, 0, Timing{}
	return p
}

// runPlan runs plan against f with a recorder and returns both.
func runPlan(t testing.TB, ctx context.Context, plan Plan, f *fakeFleet, stop <-chan struct{}) (report.Report, *recorder) {
	t.Helper()
	rec := newRecorder(t)
	deps := f.deps()
	deps.Observer = rec
	deps.Stop = stop
	rep, err := Run(ctx, plan, deps)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep, rec
}

func upd(name string, security, reboot bool) patch.Update {
	return patch.Update{Name: name, Current: "1", Available: "2", Security: security, RebootRequired: reboot}
}

func byName(r report.Report) map[string]report.HostResult {
	m := map[string]report.HostResult{}
	for _, h := range r.Hosts {
		m[h.Name] = h
	}
	return m
}

// endErr is the Err of host's end event.
func (r *recorder) endErr(host string) error {
	for _, e := range r.kinds(EventHostEnd) {
		if e.Host == host {
			return e.Err
		}
	}
	return nil
}
