# shellcheck shell=bash
# Settings and small helpers shared by every lab script. Sourced, never run.
# Every name a lab creates (netns, state dir) derives from LAB_NAME, so two
# labs (a person's and the e2e tests') can coexist on one machine.

LAB_NAME=${LAB_NAME:-prlab}
LAB_STATE=${LAB_STATE:-/var/lib/patchrun-lab/$LAB_NAME}
LAB_CACHE=${LAB_CACHE:-/var/cache/patchrun-lab}
LAB_DOWNTIME=${LAB_DOWNTIME:-3}   # seconds a rebooting host stays off the network
LAB_SUITE=${LAB_SUITE:-bookworm}
# Packages the guest root needs beyond minbase. openssh-server is the real
# sshd under test; perl-base (essential) holds the dpkg lock for the fault.
LAB_INCLUDE=${LAB_INCLUDE:-openssh-server}
# shellcheck disable=SC2034 # the lab scripts that source this file use these
LAB_NET_PREFIX=10.200           # a private /16 that exists only inside the lab's namespaces
# shellcheck disable=SC2034
LAB_CTL_IP=$LAB_NET_PREFIX.0.1

# shellcheck disable=SC2034
CTL_NS=$LAB_NAME-ctl

die() { printf 'lab: %s\n' "$*" >&2; exit 1; }
say() { printf 'lab: %s\n' "$*" >&2; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, mounts)"; }

# now prints the wall clock in seconds with microseconds, without a fork.
now() { printf '%s' "$EPOCHREALTIME"; }

host_ns() { printf '%s-%s' "$LAB_NAME" "$1"; }
host_dir() { printf '%s/hosts/%s' "$LAB_STATE" "$1"; }

# host_ip N / host_mac N: deterministic addresses for host number N (1-based).
host_ip() { printf '%s.%d.%d' "$LAB_NET_PREFIX" $((1 + ($1 - 1) / 250)) $((1 + ($1 - 1) % 250)); }
host_mac() { printf '02:50:00:00:%02x:%02x' $(($1 >> 8)) $(($1 & 255)); }

# host_name N WIDTH: h01, h02 … (zero-padded to at least two digits).
host_name() { printf 'h%0*d' "$2" "$1"; }

# lab_hosts prints "name ip mac" lines of the running lab.
lab_hosts() { [ -f "$LAB_STATE/hosts.txt" ] && cat "$LAB_STATE/hosts.txt"; }

host_field() { # host_field NAME COLUMN(2=ip,3=mac,4=number)
	awk -v n="$1" -v c="$2" '$1 == n { print $c; found=1 } END { exit !found }' "$LAB_STATE/hosts.txt" ||
		die "no host $1 in lab $LAB_NAME"
}

# host_init_pid NAME: the host's PID 1 as seen from outside (unshare's child).
host_init_pid() {
	local u pid
	u=$(cat "$(host_dir "$1")/unshare.pid" 2>/dev/null) || return 1
	# The children file has no trailing newline: read's status means nothing.
	read -r pid _ <"/proc/$u/task/$u/children" 2>/dev/null || true
	[ -n "${pid:-}" ] && printf '%s' "$pid"
}

# in_host NAME CMD…: run CMD inside a running host (its namespaces and root).
in_host() {
	local name=$1 pid
	shift
	pid=$(host_init_pid "$name") || die "host $name is not running"
	nsenter -t "$pid" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C \
		chroot "$(host_dir "$name")/root" "$@"
}

# is_our_pid PID WORD: the process exists and its command line mentions WORD
# (guards every kill against a recycled pid).
is_our_pid() {
	local -a argv
	[ -n "$1" ] && mapfile -d '' argv 2>/dev/null <"/proc/$1/cmdline" || return 1
	[[ " ${argv[*]} " == *"$2"* ]]
}

# elapsed T0: seconds since T0 (from now), with millisecond precision.
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
