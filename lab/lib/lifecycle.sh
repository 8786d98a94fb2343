# shellcheck shell=bash
# lab up / lab down / lab status.

LAB_BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-90}

lab_up() {
	local n=20 t0 t1 tarball width i name
	while [ $# -gt 0 ]; do
		case $1 in
		-n) n=${2:?-n needs a number}; shift ;;
		-n*) n=${1#-n} ;;
		*) die "up: unknown argument $1" ;;
		esac
		shift
	done
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 2000 ]; then die "up: -n must be 1..2000"; fi
	need_root
	[ -e "$LAB_STATE/hosts.txt" ] || [ -n "$(lab_netns)" ] &&
		die "lab $LAB_NAME is already up (or half up): run 'lab down' first"
	ensure_prereqs
	t0=$(now)
	# Whatever fails from here on, leave nothing behind.
	trap 'say "up failed; tearing down"; lab_down >/dev/null 2>&1 || true' EXIT
	tarball=$(ensure_base)
	mkdir -p "$LAB_STATE"
	# A tmpfs state dir: unpacking 200 MB onto this ext4 took 1-11 s, on
	# tmpfs 0.4 s; and teardown is one umount.
	if [ "${LAB_TMPFS:-1}" = 1 ]; then
		mount -t tmpfs -o "mode=0755,size=${LAB_TMPFS_SIZE:-4g}" "patchrun-lab-$LAB_NAME" "$LAB_STATE" ||
			die "mounting a tmpfs on $LAB_STATE failed"
	fi
	mkdir -p "$LAB_STATE/hosts"

	t1=$(now)
	ssh-keygen -q -t ed25519 -N '' -C "patchrun-lab-$LAB_NAME" -f "$LAB_STATE/id_ed25519" || die "ssh-keygen failed"
	repo_init
	unpack_base "$tarball" "$LAB_STATE/lower"
	provision_lower "$LAB_STATE/lower"
	width=${#n}
	[ "$width" -lt 2 ] && width=2
	: >"$LAB_STATE/hosts.txt"
	: >"$LAB_STATE/boots.log"
	net_up_ctl
	for ((i = 1; i <= n; i++)); do
		name=$(host_name "$i" "$width")
		net_up_host "$i" "$name"
		provision_host "$name"
	done
	write_client_files
	say "prepared $n hosts in $(elapsed "$t1") s"

	t1=$(now)
	local sup=$LAB_DIR/lib/supervisor.sh
	while read -r name _; do
		LAB_DIR=$LAB_DIR LAB_NAME=$LAB_NAME LAB_DOWNTIME=$LAB_DOWNTIME \
			setsid -f "$sup" "$name" "$LAB_STATE" </dev/null >>"$(host_dir "$name")/supervisor.log" 2>&1
	done < <(lab_hosts)
	wait_ready "$n"
	say "booted $n hosts in $(elapsed "$t1") s (sshd answering with the expected host keys)"
	trap - EXIT
	say "lab $LAB_NAME up in $(elapsed "$t0") s: inventory $LAB_STATE/inventory.yaml"
	say "run patchrun with: $LAB_DIR/lab run -- patchrun scan -i $LAB_STATE/inventory.yaml"
}

# wait_ready N: every host's sshd answers with the key in known_hosts.
wait_ready() {
	local want=$1 deadline got expected
	deadline=$((SECONDS + LAB_BOOT_TIMEOUT))
	expected=$(awk '{ split($1, a, ","); print a[2], $2, $3 }' "$LAB_STATE/known_hosts" | sort)
	# Scanning hosts still booting costs a keyscan timeout; wait for the
	# boot log first (cheap), then check the keys.
	while [ "$(lab_hosts_up)" -lt "$want" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
	while :; do
		got=$(cut -d' ' -f2 "$LAB_STATE/hosts.txt" |
			ip netns exec "$CTL_NS" ssh-keyscan -T 2 -t ed25519 -f - 2>/dev/null | sort || true)
		[ "$(comm -12 <(printf '%s\n' "$expected") <(printf '%s\n' "$got") | grep -c .)" -eq "$want" ] && return 0
		[ "$SECONDS" -lt "$deadline" ] || die "only $(printf '%s\n' "$got" | grep -c .) of $want hosts answered within ${LAB_BOOT_TIMEOUT}s"
		sleep 0.5
	done
}

# lab_hosts_up counts hosts whose PID 1 is running.
lab_hosts_up() {
	local name n=0
	while read -r name _; do
		if host_init_pid "$name" >/dev/null; then n=$((n + 1)); fi
	done < <(lab_hosts)
	printf '%d' "$n"
}

lab_down() {
	need_root
	local name pid ns deadline left=0 t0
	t0=$(now)
	# 1. Supervisors power their hosts off and exit.
	if [ -d "$LAB_STATE/hosts" ]; then
		for pid in "$LAB_STATE"/hosts/*/supervisor.pid; do
			[ -f "$pid" ] || continue
			pid=$(cat "$pid")
			is_our_pid "$pid" "$LAB_STATE" && kill -TERM "$pid" 2>/dev/null
		done
	fi
	deadline=$((SECONDS + 15))
	while [ -n "$(stray_pids)" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
	# 2. Anything still alive in our namespaces or naming our state dir dies.
	for pid in $(stray_pids); do kill -KILL "$pid" 2>/dev/null; done
	deadline=$((SECONDS + 5))
	while [ -n "$(stray_pids)" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
	net_down
	# 3. Files: only when nothing is mounted below the state dir.
	if mountpoint -q "$LAB_STATE" && ! grep -qF " $LAB_STATE/" /proc/self/mountinfo; then
		umount "$LAB_STATE" || say "umount $LAB_STATE failed"
	fi
	if grep -qF " $LAB_STATE/" /proc/self/mountinfo; then
		say "mounts left under $LAB_STATE; not removing it:"
		grep -F " $LAB_STATE/" /proc/self/mountinfo >&2
		left=1
	elif [ -d "$LAB_STATE" ]; then
		rm -rf --one-file-system "$LAB_STATE"
		rmdir "$(dirname "$LAB_STATE")" 2>/dev/null || true
	fi
	lab_check_clean || left=1
	[ "$left" -eq 0 ] || die "teardown left things behind (see above)"
	say "lab $LAB_NAME down in $(elapsed "$t0") s; nothing left (netns, mounts, processes, $LAB_STATE)"
}

# stray_pids: processes in this lab's namespaces or whose command line names
# its state dir (supervisors, init, unshare).
stray_pids() {
	local ns pid
	for ns in $(lab_netns); do ip netns pids "$ns" 2>/dev/null; done
	for pid in /proc/[0-9]*; do
		pid=${pid#/proc/}
		if [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ]; then continue; fi
		is_our_pid "$pid" "$LAB_STATE" && printf '%s\n' "$pid"
	done
}

# lab_check_clean reports anything of this lab still on the machine.
lab_check_clean() {
	local bad=0 s
	s=$(lab_netns)
	[ -z "$s" ] || { say "netns left: $s"; bad=1; }
	s=$(grep -F " $LAB_STATE" /proc/self/mountinfo)
	[ -z "$s" ] || { say "mounts left: $s"; bad=1; }
	s=$(stray_pids)
	[ -z "$s" ] || { say "processes left: $s"; bad=1; }
	[ ! -e "$LAB_STATE" ] || { say "state dir left: $LAB_STATE"; bad=1; }
	return "$bad"
}

lab_status() {
	[ -f "$LAB_STATE/hosts.txt" ] || die "lab $LAB_NAME is not up"
	local name ip _mac _i h state faults
	printf '%-6s %-14s %-5s %-36s %s\n' HOST ADDRESS STATE BOOT_ID FAULTS
	while read -r name ip _mac _i; do
		h=$(host_dir "$name")
		state=down
		host_init_pid "$name" >/dev/null && state=up
		faults=$(find "$h/faults" -type f -printf '%f ' 2>/dev/null)
		printf '%-6s %-14s %-5s %-36s %s\n' "$name" "$ip" "$state" "$(cat "$h/boot_id" 2>/dev/null)" "$faults"
	done < <(lab_hosts)
}
