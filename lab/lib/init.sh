#!/bin/bash
# PID 1 of one lab host for one boot, run by supervisor.sh under
# `ip netns exec NS unshare --mount --pid --fork --uts …`. It mounts the
# host's root (overlay: shared lower, per-host upper, so disk state persists
# across boots), gives it fresh /run, /tmp, /dev and a new boot id, starts the
# real sshd, then waits. A TERM (reboot, shutdown, systemctl reboot) makes it
# exit, and the kernel then kills every process of the host: power off.
#
# usage: init.sh HOSTDIR LOWER REPO NAME IP BOOTLOG
set -euo pipefail
h=$1 lower=$2 repo=$3 name=$4 ip=$5 bootlog=$6
r=$h/root

mount -t overlay overlay -o "lowerdir=$lower,upperdir=$h/upper,workdir=$h/work" "$r"
mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
mount --bind "$h/boot_id" "$r/proc/sys/kernel/random/boot_id"
mount -o remount,bind,ro "$r/proc/sys/kernel/random/boot_id"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$r/run"
install -d -m 0755 "$r/run/sshd" "$r/run/lock"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/tmp"

# /dev: a tmpfs with the few host devices a shell and apt need, and a pty
# instance of the host's own.
mount -t tmpfs -o mode=0755,nosuid tmpfs "$r/dev"
for d in null zero full random urandom tty; do
	: >"$r/dev/$d"
	mount --bind "/dev/$d" "$r/dev/$d"
done
mkdir -p "$r/dev/pts" "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$r/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/dev/shm"
ln -s pts/ptmx "$r/dev/ptmx"
ln -s /proc/self/fd "$r/dev/fd"
ln -s /proc/self/fd/0 "$r/dev/stdin"
ln -s /proc/self/fd/1 "$r/dev/stdout"
ln -s /proc/self/fd/2 "$r/dev/stderr"

mount --bind "$repo" "$r/srv/labrepo"
mount -o remount,bind,ro "$r/srv/labrepo"
printf '%s' "$name" >/proc/sys/kernel/hostname

if [ ! -e "$h/faults/sshd" ]; then
	# Absolute -f/-E: with a relative log path sshd resets every connection.
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C chroot "$r" /usr/sbin/sshd \
		-f /etc/ssh/sshd_lab_config -E /var/log/sshd.log -o "ListenAddress=$ip"
fi
printf '%s %s up %s\n' "$EPOCHREALTIME" "$name" "$(cat "$h/boot_id")" >>"$bootlog"

# Bash as PID 1 reaps orphans (sshd sessions, detached reboot timers) while
# it waits; TERM from inside the host is a reboot.
trap 'exit 0' TERM INT HUP
set +e
while :; do
	sleep 3600 &
	wait $!
done
