# shellcheck shell=bash
# Faults on demand: lab fault HOST KIND [on|off] [ARG]. Flags live in the
# host's faults/ dir so a fault that must outlive a reboot (sshd, link,
# noreturn) is honoured by init.sh and supervisor.sh on the next boot.

fault_usage() {
	cat >&2 <<'USAGE'
usage: lab fault HOST KIND [on|off] [ARG]
  sshd      on|off       sshd stopped: connections refused (persists across reboots)
  link      on|off       link down: connections time out (persists across reboots)
  noreturn  on|off       the host never comes back from its next reboot
  hostkey   on|off       new host key (on) or the original one back (off); sshd restarted
  dpkglock  SECONDS      hold dpkg's locks for SECONDS (default 20), as a running apt would
  loss      on|off PCT   drop PCT% (default 20) of packets each way (nftables in the host's netns)
USAGE
	exit 2
}

lab_fault() {
	[ $# -ge 2 ] || fault_usage
	local name=$1 kind=$2 mode=${3:-on} h ns
	host_field "$name" 1 >/dev/null
	h=$(host_dir "$name")
	ns=$(host_ns "$name")
	case $kind in
	sshd)
		case $mode in
		on) touch "$h/faults/sshd"; stop_sshd "$name" ;;
		off) rm -f "$h/faults/sshd"; start_sshd "$name" ;;
		*) fault_usage ;;
		esac
		;;
	link)
		case $mode in
		on) touch "$h/faults/link"; ip -n "$ns" link set eth0 down ;;
		off)
			rm -f "$h/faults/link"
			# A host in its reboot downtime gets its link back when it boots.
			if host_init_pid "$name" >/dev/null; then ip -n "$ns" link set eth0 up; fi
			;;
		*) fault_usage ;;
		esac
		;;
	noreturn)
		case $mode in
		on) touch "$h/faults/noreturn" ;;
		off) rm -f "$h/faults/noreturn" ;;
		*) fault_usage ;;
		esac
		;;
	hostkey)
		case $mode in
		on) in_host "$name" sh -c 'rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub &&
			ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key' ;;
		off) in_host "$name" sh -c 'cat >/etc/ssh/ssh_host_ed25519_key && chmod 600 /etc/ssh/ssh_host_ed25519_key &&
			ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key >/etc/ssh/ssh_host_ed25519_key.pub' <"$h/hostkey.orig" ;;
		*) fault_usage ;;
		esac
		[ -e "$h/faults/sshd" ] || { stop_sshd "$name"; start_sshd "$name"; }
		;;
	dpkglock)
		local secs=${3:-20}
		[[ $secs =~ ^[0-9]+$ ]] || fault_usage
		in_host "$name" sh -c "rm -f /run/lab-dpkglock.log; setsid lab-hold-dpkg-lock $secs </dev/null >/run/lab-dpkglock.log 2>&1 &"
		# Return only once the lock is held, so a test can rely on it.
		local i
		for ((i = 0; i < 50; i++)); do
			in_host "$name" grep -q holding /run/lab-dpkglock.log 2>/dev/null && return 0
			sleep 0.1
		done
		die "dpkg lock holder on $name did not start: $(in_host "$name" cat /run/lab-dpkglock.log 2>&1)"
		;;
	loss)
		case $mode in
		on)
			local pct=${4:-20}
			if ! [[ $pct =~ ^[0-9]+$ ]] || [ "$pct" -gt 100 ]; then fault_usage; fi
			ip netns exec "$ns" nft delete table inet lab_loss 2>/dev/null || true
			ip netns exec "$ns" nft -f - <<NFT || die "nft on $name failed"
table inet lab_loss {
	chain input { type filter hook input priority 0; policy accept; numgen random mod 100 < $pct drop; }
	chain output { type filter hook output priority 0; policy accept; numgen random mod 100 < $pct drop; }
}
NFT
			;;
		off) ip netns exec "$ns" nft delete table inet lab_loss 2>/dev/null || true ;;
		*) fault_usage ;;
		esac
		;;
	*) fault_usage ;;
	esac
	say "fault $kind $mode on $name"
}

# start_sshd NAME: the same command line init.sh uses.
start_sshd() {
	local ip
	ip=$(host_field "$1" 2)
	in_host "$1" /usr/sbin/sshd -f /etc/ssh/sshd_lab_config -E /var/log/sshd.log -o "ListenAddress=$ip"
}

# stop_sshd NAME: the listener goes; established sessions stay, as with
# `systemctl stop ssh`. Returns once nothing listens any more.
stop_sshd() {
	# shellcheck disable=SC2016 # expanded inside the host
	in_host "$1" sh -c 'pid=$(cat /run/sshd.pid 2>/dev/null) || exit 0
		kill "$pid" 2>/dev/null
		i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
		rm -f /run/sshd.pid'
}
