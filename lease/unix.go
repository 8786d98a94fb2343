package lease

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// UnixMarker starts the first line of every Unix lease command: a shell
// comment carrying the Request as base64 JSON, which a simulated host reads
// instead of interpreting the script.
const UnixMarker = "# patchrun-lease "

// UnixScript is the lease script, run by sh as root with the arguments
// OP DIR RUN_ID RECORD FORCE. It prints the status, "now=EPOCH" (the host's
// clock), "--" and the other run's lease file; it exits non-zero only when
// it could not do its job (unwritable directory, no clock).
//
// The lease file is created complete and atomically (written to a private
// temporary file, then hard-linked to DIR/lock: link fails if the lock
// exists). Every change to an existing lock is made holding DIR/lock.guard
// (mkdir is atomic), and replaced by rename, so two takers of a stale lock
// cannot both win and a reader never sees half a file. A guard left behind
// by a killed script is removed once it is two minutes old.
const UnixScript = `op=$1 dir=$2 run=$3 rec=$4 force=$5
lock=$dir/lock guard=$dir/lock.guard tmp=$dir/lock.new.$$
umask 077
now=$(date +%s) || exit 3
case $now in ''|*[!0-9]*) echo "patchrun lease: unusable host clock: $now" >&2; exit 3;; esac
mkdir -p "$dir" || exit 3
field() { sed -n "s/^$1=//p" "$lock" 2>/dev/null | head -n 1; }
num() { case $1 in ''|*[!0-9]*) echo 0;; *) echo "$1";; esac; }
holder() { [ -f "$lock" ] && dd if="$lock" bs=4096 count=1 2>/dev/null; }
answer() { echo "$1"; echo "now=$now"; echo "--"; [ -z "$2" ] || printf '%s\n' "$2"; }
write() { printf '%s\nstarted=%s\nrenewed=%s\n' "$rec" "$1" "$now" > "$tmp" || exit 3; }
ours() { [ -f "$lock" ] && [ "$(field run_id)" = "$run" ]; }
expired() { r=$(num "$(field renewed)"); t=$(num "$(field ttl)"); [ "$now" -gt $((r + t)) ]; }
if [ "$op" = acquire ]; then
  write "$now"
  if ln "$tmp" "$lock" 2>/dev/null; then rm -f "$tmp"; answer acquired ""; exit 0; fi
fi
if ! mkdir "$guard" 2>/dev/null; then
  h=$(holder); rm -f "$tmp"
  if [ -n "$(find "$guard" -prune -mmin +2 2>/dev/null)" ]; then rmdir "$guard" 2>/dev/null; fi
  answer busy "$h"; exit 0
fi
trap 'rm -f "$tmp"; rmdir "$guard" 2>/dev/null' EXIT
h=$(holder)
case $op in
acquire)
  if [ ! -f "$lock" ]; then
    ln "$tmp" "$lock" 2>/dev/null || mv -f "$tmp" "$lock" || exit 3
    answer acquired ""
  elif ours; then
    write "$(num "$(field started)")"; mv -f "$tmp" "$lock" || exit 3
    answer acquired ""
  elif expired; then
    mv -f "$tmp" "$lock" || exit 3
    answer took-over "$h"
  else
    answer held "$h"
  fi;;
renew)
  if ours; then
    write "$(num "$(field started)")"; mv -f "$tmp" "$lock" || exit 3
    answer renewed ""
  else
    answer lost "$h"
  fi;;
release)
  if ours; then rm -f "$lock" || exit 3; answer released ""; else answer not-held "$h"; fi;;
unlock)
  if [ ! -f "$lock" ]; then answer none ""
  elif [ "$force" = force ] || expired; then rm -f "$lock" || exit 3; answer removed "$h"
  else answer live "$h"; fi;;
*) echo "patchrun lease: unknown operation $op" >&2; exit 2;;
esac
`

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// UnixCommand is the command line for req: the marker line, then the
// script run by sh as root (directly when the login is root, else through
// `sudo -n`, which never prompts).
func unixCommand(req Request) string {
	js, _ := json.Marshal(req)
	force := ""
	if req.Force {
		force = "force"
	}
	args := []string{req.Op, req.Dir, req.RunID, req.Record, force}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return UnixMarker + base64.StdEncoding.EncodeToString(js) + "\n" +
		"S=" + shellQuote(UnixScript) + "\n" +
		"set -- " + strings.Join(args, " ") + "\n" +
		`if [ "$(id -u)" = 0 ]; then sh -c "$S" patchrun-lease "$@"; else sudo -n sh -c "$S" patchrun-lease "$@"; fi`
}

// ParseUnixCommand is UnixCommand's inverse for a simulated host: ok is
// false when line is not a lease command.
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

func runUnix(ctx context.Context, t transport.Transport, req Request) (Outcome, error) {
	res, err := t.Run(ctx, transport.Command{Line: unixCommand(req), MaxOutput: 4 * maxHolder})
	if err != nil {
		return Outcome{}, fmt.Errorf("lease %s: %w", req.Op, err)
	}
	if res.ExitCode != 0 {
		return Outcome{}, patch.NewCommandError("lease "+req.Op, res.ExitCode, res.Stdout, res.Stderr)
	}
	o, err := parseAnswer(res.Stdout)
	if err != nil {
		return Outcome{}, fmt.Errorf("lease %s: %w", req.Op, err)
	}
	return o, nil
}
