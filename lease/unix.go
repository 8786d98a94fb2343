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

// UnixScript is the lease script, run as root by a POSIX shell with the
// arguments OP DIR RUN_ID RECORD FORCE. It prints the status, "now=EPOCH"
// (the host's clock), "--" and the other run's lease file; it exits non-zero
// only when it could not do its job (unwritable directory, no clock).
//
// Every operation holds DIR/lock.guard while it looks at or changes the
// lease: a file created with noclobber (O_EXCL, atomic), so two takers of a
// stale lease cannot both win, a renewal never overwrites a lease another
// run just took, and nobody reads a lease half written. A new lease is
// written under the guard with noclobber too; a changed one is written into
// the guard, which is then renamed over DIR/lock: the lease is replaced and
// the guard dropped in one atomic step. A guard left behind by a killed
// script is removed once it is two minutes old.
//
// It starts as few processes as it can: on a busy host each one costs
// milliseconds, and a run leases every host. The common paths start one
// (rm or mv); the clock is bash's $EPOCHSECONDS where there is one, else
// date(1), and the lease file is read with shell builtins.
const UnixScript = `op=$1 dir=$2 run=$3 rec=$4 force=$5
lock=$dir/lock guard=$dir/lock.guard nl='
'
umask 077
now=${EPOCHSECONDS-}
case $now in ''|*[!0-9]*) now=$(date +%s) || exit 3;; esac
case $now in ''|*[!0-9]*) echo "patchrun lease: unusable host clock: $now" >&2; exit 3;; esac
[ -d "$dir" ] || mkdir -p "$dir" || exit 3
load() {
  unset f_run f_started f_renewed f_ttl; text= n=0
  [ -f "$lock" ] || return 0
  { while [ "$n" -lt 64 ] && { IFS= read -r line || [ -n "$line" ]; }; do
    n=$((n + 1)) text=$text$line$nl
    case $line in
    run_id=*) [ "${f_run+x}" ] || f_run=${line#*=};;
    started=*) [ "${f_started+x}" ] || f_started=${line#*=};;
    renewed=*) [ "${f_renewed+x}" ] || f_renewed=${line#*=};;
    ttl=*) [ "${f_ttl+x}" ] || f_ttl=${line#*=};;
    esac
  done < "$lock"; } 2>/dev/null
}
answer() { echo "$1"; echo "now=$now"; echo "--"; [ -z "$2" ] || printf '%s' "$2"; }
record() { printf '%s\nstarted=%s\nrenewed=%s\n' "$rec" "$1" "$now"; }
ours() { [ "${f_run+x}" ] && [ "$f_run" = "$run" ]; }
expired() {
  r=$f_renewed t=$f_ttl
  case $r in ''|*[!0-9]*) r=0;; esac
  case $t in ''|*[!0-9]*) t=0;; esac
  [ "$now" -gt $((r + t)) ]
}
started() { s=$f_started; case $s in ''|*[!0-9]*) s=0;; esac; }
exclusive() { set -C; printf '' > "$1"; x=$?; set +C; return $x; }
drop() { rm -f "$guard"; }
fail() { rm -f "$guard"; exit 3; }
replace() { record "$1" > "$guard" && mv -f "$guard" "$lock" || fail; }
if ! exclusive "$guard" 2>/dev/null; then
  load
  if [ -n "$(find "$guard" -prune -mmin +2 2>/dev/null)" ]; then rmdir "$guard" 2>/dev/null || rm -f "$guard"; fi
  answer busy "$text"; exit 0
fi
load
case $op in
acquire)
  if [ ! -f "$lock" ]; then
    if { set -C; record "$now" > "$lock"; } 2>/dev/null; then set +C; drop; answer acquired ""; exit 0; fi
    set +C; load
  fi
  if ours; then started; replace "$s"; answer acquired ""
  elif expired; then h=$text; replace "$now"; answer took-over "$h"
  else drop; answer held "$text"; fi;;
renew)
  if ours; then started; replace "$s"; answer renewed ""; else drop; answer lost "$text"; fi;;
release)
  if ours; then rm -f "$lock" "$guard" || fail; answer released ""; else drop; answer not-held "$text"; fi;;
unlock)
  if [ ! -f "$lock" ]; then drop; answer none ""
  elif [ "$force" = force ] || expired; then rm -f "$lock" "$guard" || fail; answer removed "$text"
  else drop; answer live "$text"; fi;;
*) drop; echo "patchrun lease: unknown operation $op" >&2; exit 2;;
esac
`

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// UnixCommand is the command line for req: the marker line, then the
// script. A root login runs it in a subshell of the login shell (no new
// process to start, and bash's clock); any other login runs it through
// `sudo -n sh`, which never prompts.
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
		`if [ "${EUID:-$(id -u)}" = 0 ]; then (eval "$S"); else sudo -n sh -c "$S" patchrun-lease "$@"; fi`
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
