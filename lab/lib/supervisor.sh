#!/bin/bash
# Keeps one lab host "powered": boots it (init.sh as PID 1 of fresh PID,
# mount, UTS and time namespaces inside the host's network namespace), waits
# for that PID 1 to exit (a reboot), keeps the link down for LAB_DOWNTIME
# seconds and boots it again with a new boot id. The "noreturn" fault keeps
# it off. TERM stops it and powers the host off for good.
#
# usage: supervisor.sh NAME STATE_DIR   (environment: LAB_NAME, LAB_DIR, LAB_DOWNTIME)
# STATE_DIR is an argument so that `lab down` can find strays by command line.
set -uo pipefail
LAB_DIR=${LAB_DIR:?}
LAB_STATE=${2:?}
# shellcheck source=/dev/null
. "$LAB_DIR/lib/common.sh"

name=$1
h=$(host_dir "$name")
ns=$(host_ns "$name")
ip=$(host_field "$name" 2)
bootlog=$LAB_STATE/boots.log
echo $$ >"$h/supervisor.pid"

stopping=0
child=0
trap 'stopping=1; [ "$child" -gt 0 ] && kill -KILL "$child" 2>/dev/null' TERM INT HUP

# pause N: sleep that a TERM interrupts at once.
pause() {
	sleep "$1" &
	child=$!
	wait "$child"
	kill "$child" 2>/dev/null
	child=0
}

timens=()
if unshare --time --boottime -1 true 2>/dev/null; then timens=(--time); fi

first=1
while [ "$stopping" -eq 0 ]; do
	if [ "$first" -eq 0 ]; then
		ip -n "$ns" link set eth0 down
		pause "$LAB_DOWNTIME"
		while [ "$stopping" -eq 0 ] && [ -e "$h/faults/noreturn" ]; do pause 1; done
		[ "$stopping" -eq 0 ] || break
	fi
	first=0
	cat /proc/sys/kernel/random/uuid >"$h/boot_id"
	[ -e "$h/faults/link" ] || ip -n "$ns" link set eth0 up
	boottime=()
	if [ ${#timens[@]} -gt 0 ]; then
		read -r up _ </proc/uptime
		boottime=(--boottime "-${up%.*}")
	fi
	# --kill-child: if this supervisor kills unshare, the host's PID 1 dies too.
	ip netns exec "$ns" unshare --mount --pid --fork --uts "${timens[@]}" "${boottime[@]}" \
		--propagation private --kill-child \
		"$LAB_DIR/lib/init.sh" "$h" "$LAB_STATE/lower" "$LAB_STATE/repo" "$name" "$ip" "$bootlog" \
		>>"$h/console.log" 2>&1 &
	child=$!
	echo "$child" >"$h/unshare.pid"
	while kill -0 "$child" 2>/dev/null; do wait "$child"; done
	child=0
	rm -f "$h/unshare.pid"
	printf '%s %s down\n' "$EPOCHREALTIME" "$name" >>"$bootlog"
done
ip -n "$ns" link set eth0 down 2>/dev/null
rm -f "$h/supervisor.pid"
