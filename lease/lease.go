// Package lease takes a run's lease on a host, on the host itself, over the
// host's own transport: no server, no agent. A lease is one small file
// (/var/lib/patchrun/lock on Unix, %ProgramData%\patchrun\lock on Windows)
// created atomically, naming the run that holds it.
//
// Every decision about time is taken on the host, by the host's clock: the
// file records when the host saw the lease taken and last renewed, and the
// holder's TTL; a lease is expired when the host's clock is past its last
// renewal plus that TTL. Controllers with skewed clocks therefore agree on
// expiry, because they never compare their own clock with the host's.
//
// Changes to an existing lease (renew, release, takeover, unlock) are made
// under a guard (a directory or file created atomically next to the lease),
// so two controllers cannot both take over the same stale lease, and a
// renewal cannot overwrite a lease another run just took.
//
// See docs/locking.md.
package lease

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/transport"
)

// DefaultTTL is how long a lease lives past its last renewal.
const DefaultTTL = 30 * time.Minute

// Default lease directories.
const (
	UnixDir    = "/var/lib/patchrun"
	WindowsDir = `%ProgramData%\patchrun`
)

// maxHolder bounds what is read of a lease file: its content comes from
// the host and is untrusted.
const maxHolder = 4096

// Status is the outcome of one lease operation.
type Status string

const (
	Acquired Status = "acquired"  // the lease is ours now (new, or ours already)
	TookOver Status = "took-over" // an expired lease of another run was replaced by ours
	Held     Status = "held"      // another run holds a live lease
	Busy     Status = "busy"      // another controller is changing the lease right now
	Renewed  Status = "renewed"   // our lease's renewal time moved to the host's now
	Lost     Status = "lost"      // the lease is no longer ours (taken over, or removed)
	Released Status = "released"  // our lease is gone
	NotHeld  Status = "not-held"  // release found no lease of ours
	None     Status = "none"      // unlock found no lease
	Removed  Status = "removed"   // unlock removed the lease
	Live     Status = "live"      // unlock refused: the lease is live (no force)
)

func (s Status) valid() bool {
	switch s {
	case Acquired, TookOver, Held, Busy, Renewed, Lost, Released, NotHeld, None, Removed, Live:
		return true
	}
	return false
}

// Holder is what a lease file says about the run holding it. Times are the
// host's clock. Every string came from the host: escape it before display
// (String does).
type Holder struct {
	RunID      string
	Controller string // host name of the machine running patchrun
	User       string
	PID        int
	Started    time.Time     // when the host saw the lease taken
	Renewed    time.Time     // the host's clock at the last renewal
	TTL        time.Duration // the holder's --lock-ttl
}

// Expires is the host-clock time after which the lease may be taken over.
func (h Holder) Expires() time.Time { return h.Renewed.Add(h.TTL) }

// String names the holder for a person, with every host-supplied value
// escaped for a terminal.
func (h Holder) String() string {
	s := "run " + termtext.Line(orUnknown(h.RunID))
	s += " (controller " + termtext.Line(orUnknown(h.Controller))
	s += ", user " + termtext.Line(orUnknown(h.User))
	if h.PID > 0 {
		s += ", pid " + strconv.Itoa(h.PID)
	}
	if !h.Started.IsZero() {
		s += ", since " + h.Started.UTC().Format(time.RFC3339)
	}
	if !h.Renewed.IsZero() {
		s += ", expires " + h.Expires().UTC().Format(time.RFC3339)
	}
	return s + ")"
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// Outcome is what one operation found and did.
type Outcome struct {
	Status Status
	// HostNow is the host's clock when the operation ran.
	HostNow time.Time
	// Holder is the other run's lease: the live one that stopped us (Held,
	// Busy, Lost, NotHeld, Live), the expired one we replaced (TookOver) or
	// the one unlock removed (Removed). nil when there was none.
	Holder *Holder
}

// Identity is who takes a lease.
type Identity struct {
	RunID      string
	Controller string
	User       string
	PID        int
}

// runIDRe keeps run ids to a safe, file-name- and shell-friendly set.
var runIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// CheckRunID says whether id can name a lease.
func CheckRunID(id string) error {
	if !runIDRe.MatchString(id) {
		return fmt.Errorf("run id %q: use 1-128 letters, digits, '.', '_', ':' or '-'", id)
	}
	return nil
}

// Options locate and size a lease.
type Options struct {
	// TTL is how long the lease lives past each renewal (0: DefaultTTL).
	TTL time.Duration
	// Dir holds the lease file (""; UnixDir or WindowsDir). Tests point it
	// at a temporary directory.
	Dir string
	// Windows selects the PowerShell implementation (a WinRM host).
	Windows bool
}

// Lease is one run's lease on one host. It is not safe for concurrent use;
// the caller serialises (the runner's renewal ticker holds a mutex).
type Lease struct {
	t     transport.Transport
	id    Identity
	opts  Options
	frame string // see Request.Frame
}

// New prepares a lease on the host behind t; nothing is sent yet.
func New(t transport.Transport, id Identity, opts Options) (*Lease, error) {
	if err := CheckRunID(id.RunID); err != nil {
		return nil, err
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TTL < time.Second {
		opts.TTL = time.Second
	}
	if opts.Dir == "" {
		opts.Dir = UnixDir
		if opts.Windows {
			opts.Dir = WindowsDir
		}
	}
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return &Lease{t: t, id: id, opts: opts, frame: "@@patchrun-lease-" + hex.EncodeToString(nonce) + "@@"}, nil
}

// SetTransport points the lease at a new connection (after a reboot).
func (l *Lease) SetTransport(t transport.Transport) { l.t = t }

// TTL is the lease's time to live past a renewal.
func (l *Lease) TTL() time.Duration { return l.opts.TTL }

// Acquire takes the lease: created if there is none, ours already (a
// reconnect), or taken over if the other run's lease expired. One round
// trip. Held and Busy are outcomes, not errors.
func (l *Lease) Acquire(ctx context.Context) (Outcome, error) { return l.do(ctx, opAcquire, false) }

// Renew moves our lease's renewal time to the host's now; Lost if it is no
// longer ours.
func (l *Lease) Renew(ctx context.Context) (Outcome, error) { return l.do(ctx, opRenew, false) }

// Release removes our lease (never another run's).
func (l *Lease) Release(ctx context.Context) (Outcome, error) { return l.do(ctx, opRelease, false) }

// Unlock removes whatever lease the host has if it expired, or also a live
// one when force is set (`patchrun unlock`). Live when refused.
func (l *Lease) Unlock(ctx context.Context, force bool) (Outcome, error) {
	return l.do(ctx, opUnlock, force)
}

// Operations, as the scripts name them.
const (
	opAcquire = "acquire"
	opRenew   = "renew"
	opRelease = "release"
	opUnlock  = "unlock"
)

// Request is one operation's arguments, as both scripts and the simulated
// hosts receive them.
type Request struct {
	Op     string `json:"op"`
	Dir    string `json:"dir"`
	RunID  string `json:"run_id"`
	Record string `json:"record"` // the key=value lines we write (without times)
	Force  bool   `json:"force,omitempty"`
	// Frame is the line that starts and ends each answer (Unix), unique
	// to this lease, so an answer can be told apart from other output.
	Frame string `json:"frame,omitempty"`
	// Then, on a wrapped command (WrapUnix, RenewThenUnix), is the command
	// to run once Op (acquire or renew) went our way; with Release, a
	// release follows it.
	Then    string `json:"then,omitempty"`
	Release bool   `json:"release,omitempty"`
}

func (l *Lease) request(op string, force bool) Request {
	return Request{Op: op, Dir: l.opts.Dir, RunID: l.id.RunID, Record: record(l.id, l.opts.TTL), Force: force, Frame: l.frame}
}

// record is the part of the lease file the controller writes; the host adds
// started= and renewed= from its own clock.
func record(id Identity, ttl time.Duration) string {
	return "run_id=" + oneLine(id.RunID) + "\n" +
		"controller=" + oneLine(id.Controller) + "\n" +
		"user=" + oneLine(id.User) + "\n" +
		"pid=" + strconv.Itoa(id.PID) + "\n" +
		"ttl=" + strconv.FormatInt(int64((ttl+time.Second-1)/time.Second), 10)
}

// oneLine keeps a value on its line and out of the shell's way: control
// characters and quotes become '?', and it is cut to 128 bytes.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\'' || r == '"' || r == '`' || r == '\\' || r == '$' {
			return '?'
		}
		return r
	}, s)
	if len(s) > 128 {
		s = strings.ToValidUTF8(s[:128], "")
	}
	return s
}

// ErrProtocol: the host answered something that is not a lease outcome.
var ErrProtocol = errors.New("unexpected answer from the lease script")

func (l *Lease) do(ctx context.Context, op string, force bool) (Outcome, error) {
	req := l.request(op, force)
	if l.opts.Windows {
		return runWindows(ctx, l.t, req)
	}
	return runUnix(ctx, l.t, req)
}

// parseAnswer reads the lease protocol's answer: a status line, "now=EPOCH",
// "--", then the holder's lease file (bounded).
func parseAnswer(out []byte) (Outcome, error) {
	if len(out) > 3*maxHolder {
		out = out[:3*maxHolder]
	}
	head, rest, _ := strings.Cut(string(out), "\n--\n")
	lines := strings.Split(strings.TrimSpace(head), "\n")
	if len(lines) < 2 {
		return Outcome{}, fmt.Errorf("%w: %q", ErrProtocol, termtext.Line(firstN(string(out), 80)))
	}
	st := Status(strings.TrimSpace(lines[len(lines)-2]))
	nowText, ok := strings.CutPrefix(strings.TrimSpace(lines[len(lines)-1]), "now=")
	now, err := strconv.ParseInt(nowText, 10, 64)
	if !st.valid() || !ok || err != nil {
		return Outcome{}, fmt.Errorf("%w: %q", ErrProtocol, termtext.Line(firstN(string(out), 80)))
	}
	o := Outcome{Status: st, HostNow: time.Unix(now, 0).UTC()}
	if h, ok := ParseHolder(rest); ok {
		o.Holder = &h
	}
	return o, nil
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ParseHolder reads a lease file's key=value lines (at most 4 KiB of
// them); ok is false when there is no run_id.
func ParseHolder(text string) (Holder, bool) {
	if len(text) > maxHolder {
		text = text[:maxHolder]
	}
	var h Holder
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimRight(sc.Text(), "\r"), "=")
		if !ok {
			continue
		}
		switch k {
		case "run_id":
			h.RunID = v
		case "controller":
			h.Controller = v
		case "user":
			h.User = v
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "started":
			h.Started = epoch(v)
		case "renewed":
			h.Renewed = epoch(v)
		case "ttl":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n < 1<<31 {
				h.TTL = time.Duration(n) * time.Second
			}
		}
	}
	return h, h.RunID != ""
}

func epoch(v string) time.Time {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
