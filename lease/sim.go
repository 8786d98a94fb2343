package lease

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sim is one simulated host's lease file, for the fleet simulators
// (internal/fleet, internal/winsim) and tests: it answers a Request exactly
// as the scripts would, by the host clock Now. Tests use Hold to make a host
// look locked by another run.
//
// Concurrency: safe for concurrent use; one mutex makes every operation
// atomic, as the guard does on a real host.
type Sim struct {
	// Now is the host's clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	file  string // the lock file's content; "" when there is none
	guard bool   // a guard left behind: every change answers busy
	ops   []string
}

func (s *Sim) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Hold makes the host locked by h as another run would have locked it
// (h.Renewed zero: renewed now; h.TTL zero: DefaultTTL).
func (s *Sim) Hold(h Holder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if h.Renewed.IsZero() {
		h.Renewed = now
	}
	if h.Started.IsZero() {
		h.Started = h.Renewed
	}
	if h.TTL == 0 {
		h.TTL = DefaultTTL
	}
	s.file = record(Identity{RunID: h.RunID, Controller: h.Controller, User: h.User, PID: h.PID}, h.TTL) +
		"\nstarted=" + strconv.FormatInt(h.Started.Unix(), 10) + "\nrenewed=" + strconv.FormatInt(h.Renewed.Unix(), 10) + "\n"
}

// SetGuard leaves (or removes) a guard, as a controller killed mid-change
// would.
func (s *Sim) SetGuard(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.guard = on
}

// Holder returns the current lease, if any.
func (s *Sim) Holder() (Holder, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ParseHolder(s.file)
}

// Ops lists the operations answered so far ("acquire:acquired", …).
func (s *Sim) Ops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ops...)
}

// Answer performs req and returns the status, the host clock and the other
// run's lease file, as the scripts print them.
func (s *Sim) Answer(req Request) (status Status, now int64, holder string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status, now, holder = s.answerLocked(req)
	s.ops = append(s.ops, req.Op+":"+string(status))
	return status, now, holder
}

// UnixAnswer is Answer as the Unix script prints it, framed by req.Frame.
func (s *Sim) UnixAnswer(req Request) string {
	st, now, h := s.Answer(req)
	return framed(req.Frame, st, now, h)
}

func framed(frame string, st Status, now int64, h string) string {
	out := frame + "\n" + string(st) + "\nnow=" + strconv.FormatInt(now, 10) + "\n--\n"
	if h != "" {
		out += strings.TrimRight(h, "\n") + "\n"
	}
	return out + frame + "\n"
}

// UnixWrapped answers a wrapped command (req.Then set) as the Unix command
// line does: it prints the answer of req.Op (acquire or renew); then, only
// if that went our way, runs req.Then (run prints its output and returns
// its exit status) and, with req.Release, prints a newline and the
// release's answer. It returns the exit status.
func (s *Sim) UnixWrapped(req Request, print func(string), run func(line string) int) int {
	first := req
	first.Then, first.Release = "", false
	st, now, h := s.Answer(first)
	print(framed(first.Frame, st, now, h))
	if st != Acquired && st != TookOver && st != Renewed {
		return 0
	}
	code := run(req.Then)
	if req.Release {
		rel := first
		rel.Op = opRelease
		print("\n" + s.UnixAnswer(rel))
	}
	return code
}

// WindowsAnswer is Answer as the PowerShell script frames it.
func (s *Sim) WindowsAnswer(req Request) WindowsAnswer {
	st, now, h := s.Answer(req)
	return WindowsAnswer{Status: string(st), Now: now, Holder: h}
}

func (s *Sim) answerLocked(req Request) (Status, int64, string) {
	now := s.now().Unix()
	fresh := func(started int64) string {
		return req.Record + "\nstarted=" + strconv.FormatInt(started, 10) + "\nrenewed=" + strconv.FormatInt(now, 10) + "\n"
	}
	if req.Op == opAcquire && s.file == "" {
		s.file = fresh(now)
		return Acquired, now, ""
	}
	h := s.file
	if len(h) > maxHolder {
		h = h[:maxHolder]
	}
	if s.guard {
		return Busy, now, h
	}
	cur, exists := ParseHolder(s.file)
	exists = exists || s.file != ""
	ours := exists && cur.RunID == req.RunID
	expired := exists && now > cur.Renewed.Unix()+int64(cur.TTL/time.Second)
	if cur.Renewed.IsZero() {
		expired = exists && now > int64(cur.TTL/time.Second)
	}
	switch req.Op {
	case opAcquire:
		switch {
		case ours:
			s.file = fresh(cur.Started.Unix())
			return Acquired, now, ""
		case expired:
			s.file = fresh(now)
			return TookOver, now, h
		}
		return Held, now, h
	case opRenew:
		if ours {
			s.file = fresh(cur.Started.Unix())
			return Renewed, now, ""
		}
		return Lost, now, h
	case opRelease:
		if ours {
			s.file = ""
			return Released, now, ""
		}
		return NotHeld, now, h
	case opUnlock:
		switch {
		case !exists:
			return None, now, ""
		case req.Force || expired:
			s.file = ""
			return Removed, now, h
		}
		return Live, now, h
	}
	return Status("unknown-op"), now, ""
}
