# patchrun detached jobs (patch/unix/job.go). Sent on stdin to
#   sh -s -- patchrun-job VERB DIR JOB [ARG]
# so a package-manager transaction runs detached from the SSH session and
# survives a dropped link. Each job keeps its files in DIR/JOB (DIR is 0700):
# cmd (the command line), pid, out, err and rc (its exit status, written
# last). Every answer starts with one line "@@patchrun:job@@ STATE [DETAIL]".
#
#   start LINE    refuse if a job of ours still runs (busy NAME); else start
#                 LINE as JOB (a transient systemd unit when systemd runs
#                 the host, else setsid nohup): started systemd|nohup
#   wait SECONDS  wait up to SECONDS for JOB to end: running; done RC, then
#                 its output (stdout on stdout, stderr on stderr); lost (it
#                 died without an exit status); none (no such job)
#   clean         remove JOB's files
set -u
shift
verb=${1:-} dir=${2:-} job=${3:-}
case $dir in /*) ;; *) echo "patchrun-job: DIR must be an absolute path" >&2; exit 2 ;; esac
case $job in '' | .* | *[!A-Za-z0-9_.-]*) echo "patchrun-job: bad job name" >&2; exit 2 ;; esac
jd=$dir/$job
say() { echo "@@patchrun:job@@ $*"; }

# running JOBDIR: the job has no exit status yet and its process is alive.
running() {
	[ -e "$1/rc" ] && return 1
	[ -s "$1/pid" ] || return 1
	kill -0 "$(cat "$1/pid")" 2>/dev/null
}

case $verb in
start)
	umask 077
	if [ -L "$dir" ]; then
		echo "patchrun-job: $dir is a symbolic link; refusing to use it" >&2
		exit 2
	fi
	mkdir -p "$dir" && chmod 700 "$dir" || exit 2
	for d in "$dir"/*; do
		[ -d "$d" ] || continue
		if running "$d"; then
			say busy "${d##*/}"
			exit 0
		fi
	done
	mkdir "$jd" || exit 2
	printf '%s\n' "${4:-}" >"$jd/cmd"
	# The job itself: run the line with no terminal and no stdin, then
	# publish its exit status atomically.
	run='sh "$0/cmd" >"$0/out" 2>"$0/err" </dev/null; echo $? >"$0/rc.tmp"; mv "$0/rc.tmp" "$0/rc"'
	pid=
	if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
		if ! systemd-run --quiet --unit="$job" --description="patchrun job $job" \
			--property=KillMode=mixed --property=TimeoutStopSec=600 \
			sh -c "$run" "$jd" </dev/null >"$jd/launch" 2>&1; then
			cat "$jd/launch" >&2
			rm -rf "$jd"
			exit 2
		fi
		pid=$(systemctl show -p MainPID "$job.service" 2>/dev/null)
		pid=${pid#MainPID=}
		how=systemd
	else
		if command -v setsid >/dev/null 2>&1; then
			setsid nohup sh -c "$run" "$jd" </dev/null >/dev/null 2>&1 &
		else
			nohup sh -c "$run" "$jd" </dev/null >/dev/null 2>&1 &
		fi
		pid=$!
		how=nohup
	fi
	case $pid in '' | 0 | *[!0-9]*) ;; *) echo "$pid" >"$jd/pid" ;; esac
	say started "$how"
	;;
wait)
	n=${4:-0}
	case $n in '' | *[!0-9]*) n=0 ;; esac
	if [ ! -d "$jd" ]; then
		say none
		exit 0
	fi
	while [ "$n" -gt 0 ] && running "$jd"; do
		sleep 1
		n=$((n - 1))
	done
	if [ -e "$jd/rc" ]; then
		say done "$(cat "$jd/rc")"
	elif running "$jd"; then
		say running
		exit 0
	else
		say lost
	fi
	tail -c 262144 "$jd/out" 2>/dev/null
	tail -c 262144 "$jd/err" >&2 2>/dev/null
	;;
clean)
	rm -rf "$jd"
	rmdir "$dir" 2>/dev/null
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl reset-failed "$job.service" >/dev/null 2>&1
	fi
	say cleaned
	;;
*)
	echo "patchrun-job: unknown verb '$verb'" >&2
	exit 2
	;;
esac
exit 0
