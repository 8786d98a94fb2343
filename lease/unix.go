package lease

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// UnixMarker starts the first line of every Unix lease command: a shell
// comment carrying the Request as base64 JSON, which a simulated host reads
// instead of interpreting the script.
const UnixMarker = "# patchrun-lease "

// UnixFunctions defines the lease as shell functions, evaluated by the
// login shell itself: _pl_lease OP DIR RUN_ID RECORD FORCE FRAME performs
// one operation as root and prints its answer between two FRAME lines (the
// status, "now=EPOCH" by the host's clock, "--", the other run's lease
// file). It returns 0 when the operation went our way (acquired, took
// over, renewed, released, removed or none), 1 when it did not (held,
// busy, lost, not-held, live), 3 when it could not do its job (unwritable
// directory, no clock). Its variables all start with _pl_, so a command
// run after it in the same shell finds its own untouched.
//
// A new lease is created with noclobber (O_EXCL: atomic, so of two takers
// of a free host exactly one succeeds) and written at once. Every other
// look at, or change of, an existing lease holds DIR/lock.guard, itself
// created with noclobber: two takers of a stale lease cannot both win, and
// a renewal never overwrites a lease another run just took. A changed
// lease is written into the guard, which is then renamed over DIR/lock:
// the lease is replaced and the guard dropped in one atomic step. A lease
// without a readable renewal time counts as being written (busy) for two
// minutes, then as expired; a guard left behind by a killed script is
// removed once it is two minutes old.
//
// It starts as few processes as it can: on a busy host each one costs
// milliseconds, and a run leases every host. Taking a free host starts
// none; renewing, releasing or finding a host held starts one (the mv or
// rm that also drops the guard). The clock is $EPOCHSECONDS where the shell
// has it (bash 5, busybox), else date(1); the lease file is read with
// builtins; the umask is read from /proc where there is one.
const UnixFunctions = `_pl_load() {
  unset _pl_f_run _pl_f_started _pl_f_renewed _pl_f_ttl; _pl_text= _pl_n=0
  [ -f "$_pl_lock" ] || return 0
  { while [ "$_pl_n" -lt 64 ] && { IFS= read -r _pl_line || [ -n "$_pl_line" ]; }; do
    _pl_n=$((_pl_n + 1)) _pl_text=$_pl_text$_pl_line'
'
    case $_pl_line in
    run_id=*) [ "${_pl_f_run+x}" ] || _pl_f_run=${_pl_line#*=};;
    started=*) [ "${_pl_f_started+x}" ] || _pl_f_started=${_pl_line#*=};;
    renewed=*) [ "${_pl_f_renewed+x}" ] || _pl_f_renewed=${_pl_line#*=};;
    ttl=*) [ "${_pl_f_ttl+x}" ] || _pl_f_ttl=${_pl_line#*=};;
    esac
  done < "$_pl_lock"; } 2>/dev/null
}
_pl_answer() { printf '%s\n%s\nnow=%s\n--\n%s%s\n' "$_pl_frame" "$1" "$_pl_now" "$2" "$_pl_frame"; }
_pl_record() { printf '%s\nstarted=%s\nrenewed=%s\n' "$_pl_rec" "$1" "$_pl_now"; }
_pl_ours() { [ "${_pl_f_run+x}" ] && [ "$_pl_f_run" = "$_pl_run" ]; }
_pl_num() { case $1 in ''|*[!0-9]*) _pl_v=0;; *) _pl_v=$1;; esac; }
_pl_expired() {
  case $_pl_f_renewed in
  ''|*[!0-9]*) [ -n "$(find "$_pl_lock" -prune -mmin +2 2>/dev/null)" ];;
  *) _pl_num "$_pl_f_ttl"; [ "$_pl_now" -gt $((_pl_f_renewed + _pl_v)) ];;
  esac
}
_pl_unreadable() { case $_pl_f_renewed in ''|*[!0-9]*) ! _pl_expired;; *) false;; esac; }
_pl_create() {
  case $- in *C*) _pl_c=1;; *) _pl_c=; set -C;; esac
  _pl_um=
  { while read -r _pl_k _pl_v; do [ "$_pl_k" = Umask: ] && { _pl_um=$_pl_v; break; }; done < /proc/$$/status; } 2>/dev/null
  [ -n "$_pl_um" ] || _pl_um=$(umask)
  umask 077
  { "$@"; } 2>/dev/null; _pl_x=$?
  umask "$_pl_um"; [ -n "$_pl_c" ] || set +C
  return $_pl_x
}
_pl_new_lock() { _pl_record "$_pl_now" > "$_pl_lock"; }
_pl_new_guard() { printf '' > "$_pl_guard"; } # printf, not the special builtin :, whose failed redirection would end the shell
_pl_end() {
  _pl_s=$1 _pl_t=$2; shift 2
  if [ -n "${_pl_last-}" ]; then _pl_answer "$_pl_s" "$_pl_t"; exec rm -f "$@"; fi
  rm -f "$@" || return 3
  _pl_answer "$_pl_s" "$_pl_t"
}
_pl_replace() {
  _pl_num "$1"
  _pl_record "$_pl_v" > "$_pl_guard" && mv -f "$_pl_guard" "$_pl_lock" && return 0
  rm -f "$_pl_guard"; return 3
}
_pl_lease() {
  _pl_op=$1 _pl_dir=$2 _pl_run=$3 _pl_rec=$4 _pl_force=$5 _pl_frame=$6
  _pl_lock=$_pl_dir/lock _pl_guard=$_pl_dir/lock.guard
  _pl_now=${EPOCHSECONDS-}
  case $_pl_now in ''|*[!0-9]*) _pl_now=$(date +%s) || return 3;; esac
  case $_pl_now in ''|*[!0-9]*) echo "patchrun lease: unusable host clock: $_pl_now" >&2; return 3;; esac
  if [ ! -d "$_pl_dir" ]; then (umask 077 && mkdir -p "$_pl_dir") || return 3; fi
  if [ "$_pl_op" = acquire ] && _pl_create _pl_new_lock; then _pl_answer acquired ""; return 0; fi
  if ! _pl_create _pl_new_guard; then
    _pl_load
    if [ -n "$(find "$_pl_guard" -prune -mmin +2 2>/dev/null)" ]; then rmdir "$_pl_guard" 2>/dev/null || rm -f "$_pl_guard"; fi
    _pl_answer busy "$_pl_text"; return 1
  fi
  _pl_load
  case $_pl_op in
  acquire)
    if [ ! -f "$_pl_lock" ]; then
      if _pl_create _pl_new_lock; then rm -f "$_pl_guard"; _pl_answer acquired ""; return 0; fi
      _pl_load
    fi
    if _pl_ours; then _pl_replace "$_pl_f_started" || return 3; _pl_answer acquired ""; return 0; fi
    if _pl_unreadable; then rm -f "$_pl_guard"; _pl_answer busy "$_pl_text"; return 1; fi
    if _pl_expired; then _pl_replace "$_pl_now" || return 3; _pl_answer took-over "$_pl_text"; return 0; fi
    rm -f "$_pl_guard"; _pl_answer held "$_pl_text"; return 1;;
  renew)
    if _pl_ours; then _pl_replace "$_pl_f_started" || return 3; _pl_answer renewed ""; return 0; fi
    rm -f "$_pl_guard"; _pl_answer lost "$_pl_text"; return 1;;
  release)
    if _pl_ours; then _pl_end released "" "$_pl_lock" "$_pl_guard" || return 3; return 0; fi
    _pl_end not-held "$_pl_text" "$_pl_guard"; return 1;;
  unlock)
    if [ ! -f "$_pl_lock" ]; then rm -f "$_pl_guard"; _pl_answer none ""; return 0; fi
    if [ "$_pl_force" = force ] || _pl_expired; then rm -f "$_pl_lock" "$_pl_guard" || return 3; _pl_answer removed "$_pl_text"; return 0; fi
    rm -f "$_pl_guard"; _pl_answer live "$_pl_text"; return 1;;
  esac
  rm -f "$_pl_guard"; echo "patchrun lease: unknown operation $_pl_op" >&2; return 3
}
_pl_finish() {
  _pl_rc=$1; shift
  if [ "$_pl_root" = 0 ] && [ "$_pl_rc" = 0 ]; then _pl_last=1 _pl_lease release "$@"; exit 0; fi
  _pl_do release "$@"; exit "$_pl_rc"
}
_pl_do() {
  if [ "$_pl_root" = 0 ]; then _pl_lease "$@"; return; fi
  sudo -n sh -c "$_pl_S"'
_pl_lease "$@"' patchrun-lease "$@"
}
`

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// prelude is what every Unix lease command line starts with: the marker
// line, then the functions, defined in the login shell itself (no process
// to start, and bash's clock). A root login runs them directly; any other
// runs them through `sudo -n sh`, which never prompts.
func prelude(req Request) string {
	js, _ := json.Marshal(req)
	return UnixMarker + base64.StdEncoding.EncodeToString(js) + "\n" +
		"_pl_S=" + shellQuote(UnixFunctions) + "\n" +
		"eval \"$_pl_S\"\n" +
		"_pl_root=${EUID:-$(id -u)}\n"
}

// call is the shell call of req's operation (or of op instead).
func call(req Request, op string) string {
	force := ""
	if req.Force {
		force = "force"
	}
	args := []string{op, req.Dir, req.RunID, req.Record, force, req.Frame}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return "_pl_do " + strings.Join(args, " ")
}

// unixCommand is the command line for one lease operation.
func unixCommand(req Request) string {
	return prelude(req) + call(req, req.Op) + "\n"
}

// unixWrapped is the command line that performs req.Op (acquire or renew)
// and, only if that went our way, runs req.Then in the login shell; with
// req.Release it also releases the lease when that command ends, however
// it ends (an EXIT trap). One round trip where two or three would be. The
// command's exit status is the session's.
func unixWrapped(req Request) string {
	line := prelude(req) + "_pl_cmd=" + shellQuote(req.Then) + "\n" +
		"if " + call(req, req.Op) + "; then\n"
	if req.Release {
		finish := strings.Replace(call(req, opRelease), "_pl_do 'release'", `_pl_finish "$_pl_rc"`, 1)
		line += "  trap '_pl_rc=$?; trap - EXIT; echo; " + strings.ReplaceAll(finish, "'", `'\''`) + "' EXIT\n"
	}
	return line + "  eval \"$_pl_cmd\"\nfi\n"
}

// ParseUnixCommand is UnixCommand's inverse for a simulated host: ok is
// false when line is not a lease command. A Request with Then set is a
// wrapped command (Lease.WrapUnix).
func ParseUnixCommand(line string) (Request, bool) {
	first, _, _ := strings.Cut(line, "\n")
	b64, ok := strings.CutPrefix(first, UnixMarker)
	if !ok {
		return Request{}, false
	}
	js, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	var req Request
	if err != nil || json.Unmarshal(js, &req) != nil {
		return Request{}, false
	}
	return req, true
}

// frameLine is how a framed answer starts and ends: the frame on a line of
// its own.
func frameLine(frame string) []byte { return []byte(frame + "\n") }

// unframe finds the first answer framed by frame in out at or after
// offset from, and returns it parsed with the byte offsets where the frame
// starts and where it ends. ok is false when there is no complete frame.
func unframe(out []byte, frame string, from int) (o Outcome, start, end int, ok bool, err error) {
	fl := frameLine(frame)
	i := bytes.Index(out[from:], fl)
	if i < 0 || (from+i > 0 && out[from+i-1] != '\n') {
		return Outcome{}, 0, 0, false, nil
	}
	start = from + i
	body := out[start+len(fl):]
	j := bytes.Index(body, fl)
	if j < 0 || (j > 0 && body[j-1] != '\n') {
		return Outcome{}, 0, 0, false, nil
	}
	o, err = parseAnswer(body[:j])
	return o, start, start + len(fl) + j + len(fl), true, err
}

func runUnix(ctx context.Context, t transport.Transport, req Request) (Outcome, error) {
	res, err := t.Run(ctx, transport.Command{Line: unixCommand(req), MaxOutput: 4 * maxHolder})
	if err != nil {
		return Outcome{}, fmt.Errorf("lease %s: %w", req.Op, err)
	}
	o, _, _, ok, perr := unframe(res.Stdout, req.Frame, 0)
	switch {
	case ok && perr == nil && (res.ExitCode == 0 || res.ExitCode == 1):
		return o, nil
	case res.ExitCode != 0 && res.ExitCode != 1:
		return Outcome{}, patch.NewCommandError("lease "+req.Op, res.ExitCode, res.Stdout, res.Stderr)
	case perr != nil:
		return Outcome{}, fmt.Errorf("lease %s: %w", req.Op, perr)
	}
	return Outcome{}, fmt.Errorf("lease %s: %w: no answer in %q", req.Op, ErrProtocol, firstN(string(res.Stdout), 80))
}

// Wrapped is what a wrapped command's output says (Lease.SplitWrapped).
type Wrapped struct {
	// Before is the outcome of the operation before the command (acquire
	// or renew); the command ran only if it went our way (Acquired,
	// TookOver, Renewed).
	Before Outcome
	// After is the release's outcome (WrapUnix); nil when there was none,
	// or its answer is missing (the output was cut at MaxOutput, or the
	// command replaced or killed the shell): the lease may still be held,
	// release it the usual way.
	After *Outcome
	// Result is the command's own: its exit status, and its output with
	// the answers taken out.
	Result transport.Result
}

// Ran reports whether the command ran (the operation before it went our
// way).
func (w Wrapped) Ran() bool {
	switch w.Before.Status {
	case Acquired, TookOver, Renewed:
		return true
	}
	return false
}

// Wraps reports whether this lease can wrap a command (Unix hosts).
func (l *Lease) Wraps() bool { return !l.opts.Windows }

// WrapUnix is the command line that takes the lease, runs line in the
// login shell only if the lease is ours, and releases it when line ends,
// however it ends: one round trip instead of three. Read its result with
// SplitWrapped. line runs as it would alone, except that it must not
// replace the shell (exec) or clear its EXIT trap to keep the release in
// the same round trip; if it does, SplitWrapped says so.
func (l *Lease) WrapUnix(line string) string {
	req := l.request(opAcquire, false)
	req.Then, req.Release = line, true
	return unixWrapped(req)
}

// RenewThenUnix is the command line that renews the lease and runs line in
// the login shell only if the lease is still ours: a renewal that costs no
// round trip of its own. Read its result with SplitWrapped.
func (l *Lease) RenewThenUnix(line string) string {
	req := l.request(opRenew, false)
	req.Then = line
	return unixWrapped(req)
}

// SplitWrapped takes the lease's answers out of a wrapped command's result.
func (l *Lease) SplitWrapped(res transport.Result) (Wrapped, error) {
	out := res.Stdout
	before, _, beforeEnd, ok, err := unframe(out, l.frame, 0)
	if err != nil || !ok || !bytes.HasPrefix(out, frameLine(l.frame)) {
		if err == nil {
			err = fmt.Errorf("%w: no lease answer before the command (exit code %d, stderr %q)", ErrProtocol, res.ExitCode, firstN(string(res.Stderr), 200))
		}
		return Wrapped{}, fmt.Errorf("lease: %w", err)
	}
	w := Wrapped{Before: before, Result: res}
	w.Result.Stdout = out[beforeEnd:]
	if !w.Ran() {
		w.Result.Stdout = nil
		return w, nil
	}
	fl := frameLine(l.frame)
	if !bytes.HasSuffix(out[beforeEnd:], fl) {
		return w, nil
	}
	// The release's answer ends the output, after the newline the EXIT
	// trap prints so it starts on a line of its own.
	tail := out[beforeEnd : len(out)-len(fl)]
	nl := bytes.LastIndex(tail, append([]byte{'\n'}, fl...))
	if nl < 0 {
		return w, nil
	}
	after, _, _, ok, err := unframe(out, l.frame, beforeEnd+nl+1)
	if !ok || err != nil {
		return w, nil
	}
	w.After = &after
	w.Result.Stdout = out[beforeEnd : beforeEnd+nl]
	return w, nil
}

// ErrNotRenewed: a command sent through RenewFirst did not run, because
// the lease is no longer ours.
var ErrNotRenewed = errors.New("the lease is no longer ours")

// RenewFirst is a transport whose next command renews the lease in the
// same round trip (RenewThenUnix) and runs only if the lease is still
// ours: what a renewal right before a step costs, without its own round
// trip. Renewal holds the renewal's outcome once an answer came back;
// until then (a connection lost under the command, as a reboot does) the
// command ran only if the renewal went our way. Later commands, and every
// command on a host where the lease cannot wrap one (Windows), pass
// through unchanged: renew those hosts the usual way.
//
// Concurrency: like any Transport, one goroutine at a time.
type RenewFirst struct {
	transport.Transport
	Lease   *Lease
	Renewal *Outcome
}

// Run runs cmd, the first time with the renewal in front of it. A lease
// found lost is ErrNotRenewed, with Renewal naming who holds it now.
func (r *RenewFirst) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if r.Renewal != nil || !r.Lease.Wraps() {
		return r.Transport.Run(ctx, cmd)
	}
	cmd.Line = r.Lease.RenewThenUnix(cmd.Line)
	if cmd.MaxOutput > 0 {
		cmd.MaxOutput += 2 * maxHolder
	}
	res, err := r.Transport.Run(ctx, cmd)
	if err != nil {
		return res, err
	}
	w, err := r.Lease.SplitWrapped(res)
	if err != nil {
		return transport.Result{}, err
	}
	r.Renewal = &w.Before
	if !w.Ran() {
		return transport.Result{}, fmt.Errorf("%w (%s)", ErrNotRenewed, w.Before.Status)
	}
	return w.Result, nil
}
