package lease

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchrun/patchrun/transport"
)

// hostShell runs the real Unix lease command with a POSIX shell on this
// machine, against a temporary directory, with a `date` whose clock the test
// sets: the host clock is injected, the script is the one hosts run. The
// shell is one without bash's $EPOCHSECONDS (dash, or /bin/sh when it has
// none), so the script asks date(1).
type hostShell struct {
	t     *testing.T
	sh    string // the shell
	dir   string // the lease directory
	bin   string // holds the fake date
	clock string // file the fake date prints
}

// clocklessShell finds a POSIX shell that has no $EPOCHSECONDS.
func clocklessShell(t *testing.T) string {
	t.Helper()
	for _, sh := range []string{"dash", "/bin/sh"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		out, err := exec.Command(path, "-c", `echo "${EPOCHSECONDS-}"`).Output()
		if err == nil && strings.TrimSpace(string(out)) == "" {
			return path
		}
	}
	t.Skip("needs a POSIX shell without $EPOCHSECONDS (dash) to inject the host clock through date(1)")
	return ""
}

func newHostShell(t *testing.T) *hostShell {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	for _, tool := range []string{"rm", "mv", "mkdir", "find"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	root := t.TempDir()
	h := &hostShell{t: t, sh: clocklessShell(t), dir: filepath.Join(root, "state"), bin: filepath.Join(root, "bin"), clock: filepath.Join(root, "clock")}
	if err := os.MkdirAll(h.bin, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.bin, "date"), []byte("#!/bin/sh\ncat "+shellQuote(h.clock)+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.setClock(time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC))
	return h
}

func (h *hostShell) setClock(at time.Time) {
	if err := os.WriteFile(h.clock, []byte(strconv.FormatInt(at.Unix(), 10)+"\n"), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

func (h *hostShell) env() []string {
	return append(os.Environ(), "PATH="+h.bin+":"+os.Getenv("PATH"))
}

// testFrame frames the answers of scripts the tests run directly.
const testFrame = "@@patchrun-lease-test@@"

// script runs the lease functions directly (no root needed) and parses
// the answer.
func (h *hostShell) script(op, run string, ttl time.Duration, force bool) Outcome {
	h.t.Helper()
	f := ""
	if force {
		f = "force"
	}
	rec := record(Identity{RunID: run, Controller: "ctl-" + run, User: "u", PID: 42}, ttl)
	cmd := exec.Command(h.sh, "-c", UnixFunctions+`_pl_lease "$@"`, "patchrun-lease", op, h.dir, run, rec, f, testFrame)
	cmd.Env = h.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		h.t.Fatalf("%s %s: %v: %s", op, run, err, stderr.String())
	}
	o, _, end, ok, err := unframe(out, testFrame, 0)
	if err != nil || !ok || end != len(out) {
		h.t.Fatalf("%s %s: answer %q: ok %v, %v", op, run, out, ok, err)
	}
	if want := o.Status == Held || o.Status == Busy || o.Status == Lost || o.Status == NotHeld || o.Status == Live; want != (ee != nil) {
		h.t.Fatalf("%s %s: %s with exit error %v; want exit 1 exactly when the operation did not go our way", op, run, o.Status, err)
	}
	return o
}

func TestUnixScriptAcquireHeldRenewRelease(t *testing.T) {
	h := newHostShell(t)
	t0 := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	if o := h.script(opAcquire, "run-a", 10*time.Minute, false); o.Status != Acquired || !o.HostNow.Equal(t0) {
		t.Fatalf("first acquire = %+v, want acquired at the host's clock %v", o, t0)
	}
	fi, err := os.Stat(filepath.Join(h.dir, "lock"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, mode %v; want 0600", err, fi.Mode())
	}
	h.setClock(t0.Add(5 * time.Minute))
	o := h.script(opAcquire, "run-b", 10*time.Minute, false)
	if o.Status != Held || o.Holder == nil || o.Holder.RunID != "run-a" || o.Holder.Controller != "ctl-run-a" ||
		o.Holder.PID != 42 || !o.Holder.Started.Equal(t0) || o.Holder.TTL != 10*time.Minute {
		t.Fatalf("second run's acquire = %+v holder %+v, want held by run-a since %v", o, o.Holder, t0)
	}
	if o := h.script(opRenew, "run-b", 10*time.Minute, false); o.Status != Lost {
		t.Fatalf("renew by a run that does not hold it = %s, want lost", o.Status)
	}
	if o := h.script(opRelease, "run-b", 10*time.Minute, false); o.Status != NotHeld {
		t.Fatalf("release by a run that does not hold it = %s, want not-held", o.Status)
	}
	h.setClock(t0.Add(9 * time.Minute))
	if o := h.script(opRenew, "run-a", 10*time.Minute, false); o.Status != Renewed {
		t.Fatalf("renew = %s", o.Status)
	}
	// 15 minutes after the start but 6 after the renewal: still live.
	h.setClock(t0.Add(15 * time.Minute))
	o = h.script(opAcquire, "run-b", 10*time.Minute, false)
	if o.Status != Held || !o.Holder.Renewed.Equal(t0.Add(9*time.Minute)) || !o.Holder.Started.Equal(t0) {
		t.Fatalf("after renewal: %+v %+v, want held, renewed at +9m, started kept", o, o.Holder)
	}
	if o := h.script(opRelease, "run-a", 10*time.Minute, false); o.Status != Released {
		t.Fatalf("release = %s", o.Status)
	}
	if o := h.script(opAcquire, "run-b", 10*time.Minute, false); o.Status != Acquired {
		t.Fatalf("acquire after release = %s", o.Status)
	}
	left, _ := filepath.Glob(filepath.Join(h.dir, "lock.*"))
	if len(left) != 0 {
		t.Fatalf("temporary files or guard left behind: %v", left)
	}
}

func TestUnixScriptTakesOverOnlyExpiredLease(t *testing.T) {
	h := newHostShell(t)
	t0 := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	h.script(opAcquire, "run-a", 30*time.Minute, false)
	h.setClock(t0.Add(30 * time.Minute)) // exactly at expiry: still live
	if o := h.script(opAcquire, "run-b", time.Minute, false); o.Status != Held {
		t.Fatalf("at expiry = %s, want held (the holder's own TTL counts, not the taker's)", o.Status)
	}
	if o := h.script(opUnlock, "", 0, false); o.Status != Live {
		t.Fatalf("unlock of a live lease = %s, want live", o.Status)
	}
	h.setClock(t0.Add(30*time.Minute + time.Second))
	o := h.script(opAcquire, "run-b", time.Minute, false)
	if o.Status != TookOver || o.Holder == nil || o.Holder.RunID != "run-a" {
		t.Fatalf("past expiry = %+v, want took-over naming run-a", o)
	}
	if o := h.script(opRenew, "run-a", 30*time.Minute, false); o.Status != Lost || o.Holder.RunID != "run-b" {
		t.Fatalf("the old holder's renewal = %+v, want lost to run-b", o)
	}
	if o := h.script(opUnlock, "", 0, true); o.Status != Removed || o.Holder.RunID != "run-b" {
		t.Fatalf("forced unlock = %+v, want removed run-b", o)
	}
	if o := h.script(opUnlock, "", 0, false); o.Status != None {
		t.Fatalf("unlock with no lease = %s, want none", o.Status)
	}
}

func TestUnixScriptLeftoverGuardAnswersBusy(t *testing.T) {
	h := newHostShell(t)
	h.script(opAcquire, "run-a", time.Minute, false)
	if err := os.Mkdir(filepath.Join(h.dir, "lock.guard"), 0o700); err != nil {
		t.Fatal(err)
	}
	if o := h.script(opAcquire, "run-b", time.Minute, false); o.Status != Busy || o.Holder.RunID != "run-a" {
		t.Fatalf("with a guard present = %+v, want busy naming run-a", o)
	}
	old := time.Now().Add(-3 * time.Minute)
	if err := os.Chtimes(filepath.Join(h.dir, "lock.guard"), old, old); err != nil {
		t.Fatal(err)
	}
	h.script(opAcquire, "run-b", time.Minute, false) // still busy, but clears the stale guard
	if o := h.script(opRenew, "run-a", time.Minute, false); o.Status != Renewed {
		t.Fatalf("after a stale guard = %s, want renewed", o.Status)
	}
}

// TestUnixScriptConcurrentTakers starts many acquirers at once, first on a
// free host, then on one whose lease has expired: exactly one wins each time.
func TestUnixScriptConcurrentTakers(t *testing.T) {
	h := newHostShell(t)
	race := func(prefix string) map[Status]int {
		const n = 8
		var wg sync.WaitGroup
		got := make([]Outcome, n)
		for i := range n {
			wg.Go(func() {
				got[i] = h.script(opAcquire, prefix+strconv.Itoa(i), time.Minute, false)
			})
		}
		wg.Wait()
		count := map[Status]int{}
		for _, o := range got {
			count[o.Status]++
		}
		return count
	}
	if c := race("free-"); c[Acquired] != 1 || c[Acquired]+c[Held]+c[Busy] != 8 {
		t.Fatalf("racing for a free host: %v, want exactly one acquired", c)
	}
	h.setClock(time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)) // the winner's minute is long over
	if c := race("late-"); c[TookOver] != 1 || c[Acquired] != 0 {
		t.Fatalf("racing for an expired lease: %v, want exactly one took-over", c)
	}
}

// localShell is a transport.Transport running lines with a shell here
// (sh; "" means /bin/sh), as a host's login shell would.
type localShell struct {
	env []string
	sh  string
}

func (l localShell) Run(ctx context.Context, c transport.Command) (transport.Result, error) {
	sh := l.sh
	if sh == "" {
		sh = "/bin/sh"
	}
	cmd := exec.CommandContext(ctx, sh, "-c", c.Line)
	cmd.Env = l.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return transport.Result{ExitCode: ee.ExitCode(), Stdout: out.Bytes(), Stderr: errb.Bytes()}, nil
	}
	return transport.Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}, err
}
func (localShell) Upload(context.Context, string, io.Reader, int64) error {
	return errors.New("no upload")
}
func (localShell) Close() error { return nil }

// TestUnixCommandLineAsRoot sends the whole command line (marker, quoting,
// the root/sudo switch) through a shell, as a host's login shell gets it.
func TestUnixCommandLineAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the command line runs the script directly only as root (else via sudo -n)")
	}
	h := newHostShell(t)
	tr := localShell{env: h.env(), sh: h.sh}
	a, _ := New(tr, Identity{RunID: "20261205T020000Z-aaaa", Controller: "cron'box", User: "root", PID: 7}, Options{Dir: h.dir, TTL: time.Hour})
	b, _ := New(tr, Identity{RunID: "20261205T020000Z-bbbb", Controller: "laptop", User: "alice", PID: 8}, Options{Dir: h.dir})
	ctx := context.Background()
	if o, err := a.Acquire(ctx); err != nil || o.Status != Acquired {
		t.Fatalf("a acquire: %+v %v", o, err)
	}
	o, err := b.Acquire(ctx)
	if err != nil || o.Status != Held {
		t.Fatalf("b acquire: %+v %v", o, err)
	}
	if s := o.Holder.String(); !strings.Contains(s, "run 20261205T020000Z-aaaa (controller cron?box, user root, pid 7, since 2026-12-05T02:00:00Z") {
		t.Fatalf("holder = %s", s)
	}
	if o, err := a.Release(ctx); err != nil || o.Status != Released {
		t.Fatalf("a release: %+v %v", o, err)
	}
}

func TestUnixScriptFailsLoudlyOnUnwritableDir(t *testing.T) {
	h := newHostShell(t)
	if err := os.WriteFile(filepath.Join(filepath.Dir(h.dir), "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tr := localShell{env: h.env()}
	if os.Geteuid() != 0 {
		t.Skip("runs the command line, which needs root")
	}
	l, _ := New(tr, Identity{RunID: "r1"}, Options{Dir: filepath.Join(filepath.Dir(h.dir), "file", "sub")})
	if _, err := l.Acquire(context.Background()); err == nil {
		t.Fatal("acquire under a file succeeded; want an error, not a lease")
	}
}

// TestUnixScriptStartsOneProcessPerOperation counts the programs the script
// starts on a host that already has the lease directory: on a busy host
// each costs milliseconds, and a run leases every host, so taking a free
// host must start none, the other common paths one (the rm or mv that also
// drops the guard), and the lease be read with shell builtins. (date is the
// test's clock: dash has no $EPOCHSECONDS.)
func TestUnixScriptStartsOneProcessPerOperation(t *testing.T) {
	h := newHostShell(t)
	log := filepath.Join(h.bin, "calls")
	for _, tool := range []string{"rm", "mv", "mkdir", "rmdir", "find", "sed", "head", "dd", "ln", "id"} { // not cat: the fake date uses it {
		real, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		wrapper := "#!/bin/sh\necho " + tool + " >> " + shellQuote(log) + "\nexec " + shellQuote(real) + ` "$@"` + "\n"
		if err := os.WriteFile(filepath.Join(h.bin, tool), []byte(wrapper), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// date is the fake clock: count it too.
	if err := os.WriteFile(filepath.Join(h.bin, "date"), []byte("#!/bin/sh\necho date >> "+shellQuote(log)+"\ncat "+shellQuote(h.clock)+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	calls := func() []string {
		b, _ := os.ReadFile(log)
		os.Remove(log)
		return strings.Fields(string(b))
	}
	h.script(opAcquire, "warm", time.Minute, false) // creates the directory
	h.script(opRelease, "warm", time.Minute, false)
	calls()
	steps := []struct {
		op, run string
		want    Status
		calls   string
	}{
		{opAcquire, "run-a", Acquired, "date"},    // a free host: noclobber alone
		{opAcquire, "run-a", Acquired, "date mv"}, // ours already: renewed in place
		{opRenew, "run-a", Renewed, "date mv"},
		{opAcquire, "run-b", Held, "date rm"},
		{opRelease, "run-a", Released, "date rm"},
	}
	for _, s := range steps {
		if o := h.script(s.op, s.run, time.Minute, false); o.Status != s.want {
			t.Fatalf("%s by %s = %s, want %s", s.op, s.run, o.Status, s.want)
		}
		if got := strings.Join(calls(), " "); got != s.calls {
			t.Errorf("%s by %s started %q, want %q", s.op, s.run, got, s.calls)
		}
	}
}

// TestUnixScriptUsesBashClock runs the script under bash, as most Linux
// root logins do: the host clock is $EPOCHSECONDS (no date process), and it
// is the real clock, not the fake date's.
func TestUnixScriptUsesBashClock(t *testing.T) {
	h := newHostShell(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("needs bash")
	}
	if out, _ := exec.Command(bash, "-c", `echo "${EPOCHSECONDS-}"`).Output(); strings.TrimSpace(string(out)) == "" {
		t.Skip("this bash has no $EPOCHSECONDS (bash < 5)")
	}
	h.sh = bash
	before := time.Now().Add(-time.Second)
	o := h.script(opAcquire, "run-a", time.Minute, false)
	if o.Status != Acquired || o.HostNow.Before(before.Truncate(time.Second)) || o.HostNow.After(time.Now().Add(time.Second)) {
		t.Fatalf("acquire under bash = %+v, want acquired at the real clock (fake date says 2026-12-05T02:00Z)", o)
	}
}

// TestUnixScriptGuardFileOfAnotherRunAnswersBusy: a guard file (this
// version's) held by another controller makes every operation busy, and
// naming the holder; it goes once stale.
func TestUnixScriptGuardFileOfAnotherRunAnswersBusy(t *testing.T) {
	h := newHostShell(t)
	h.script(opAcquire, "run-a", time.Minute, false)
	guard := filepath.Join(h.dir, "lock.guard")
	if err := os.WriteFile(guard, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{opAcquire, opRenew, opRelease} {
		if o := h.script(op, "run-a", time.Minute, false); o.Status != Busy || o.Holder == nil || o.Holder.RunID != "run-a" {
			t.Fatalf("%s with another controller's guard = %+v, want busy naming run-a", op, o)
		}
	}
	if _, err := os.Stat(guard); err != nil {
		t.Fatalf("a live guard of another controller was removed: %v", err)
	}
	old := time.Now().Add(-3 * time.Minute)
	if err := os.Chtimes(guard, old, old); err != nil {
		t.Fatal(err)
	}
	h.script(opAcquire, "run-b", time.Minute, false) // busy, and clears the stale guard
	if o := h.script(opRelease, "run-a", time.Minute, false); o.Status != Released {
		t.Fatalf("after a stale guard = %s, want released", o.Status)
	}
}

// TestUnixScriptLeaseBeingWrittenIsBusy: a new lease is created, then
// written; one without a readable renewal time is being written (busy) for
// two minutes, and only then counts as expired (a damaged file).
func TestUnixScriptLeaseBeingWrittenIsBusy(t *testing.T) {
	h := newHostShell(t)
	if err := os.MkdirAll(h.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(h.dir, "lock")
	if err := os.WriteFile(lock, []byte("run_id=run-a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if o := h.script(opAcquire, "run-b", time.Minute, false); o.Status != Busy {
		t.Fatalf("a lease just created, not yet written = %s, want busy", o.Status)
	}
	old := time.Now().Add(-3 * time.Minute)
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	if o := h.script(opAcquire, "run-b", time.Minute, false); o.Status != TookOver {
		t.Fatalf("an unreadable lease three minutes old = %s, want took-over", o.Status)
	}
}
