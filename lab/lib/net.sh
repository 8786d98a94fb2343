# shellcheck shell=bash
# The lab network: a control namespace holding a bridge on a private /16 and
# one namespace per host joined to it by a veth pair. Nothing is created in
# the machine's root network namespace. Permanent neighbour entries on the
# control side make a host whose link is down time out (as a powered-off
# host behind a router does) instead of failing fast on ARP.

net_up_ctl() {
	ip netns add "$CTL_NS" || die "ip netns add $CTL_NS failed (is a lab named $LAB_NAME already up?)"
	ip -n "$CTL_NS" -batch - <<BATCH || die "control network setup failed"
link set lo up
link add br0 type bridge
addr add $LAB_CTL_IP/16 dev br0
link set br0 up
BATCH
}

# net_up_host NUMBER NAME
net_up_host() {
	local i=$1 name=$2 ns ip mac
	ns=$(host_ns "$name")
	ip=$(host_ip "$i")
	mac=$(host_mac "$i")
	ip netns add "$ns" || die "ip netns add $ns failed"
	ip -n "$CTL_NS" link add "v$i" type veth peer name eth0 netns "$ns" || die "veth for $name failed"
	ip -n "$CTL_NS" -batch - <<BATCH || die "control side of $name failed"
link set v$i master br0
link set v$i up
neigh replace $ip lladdr $mac dev br0 nud permanent
BATCH
	ip -n "$ns" -batch - <<BATCH || die "network of $name failed"
link set lo up
link set eth0 address $mac
addr add $ip/16 dev eth0
BATCH
	printf '%s %s %s %s\n' "$name" "$ip" "$mac" "$i" >>"$LAB_STATE/hosts.txt"
}

# net_down removes every namespace of this lab (the veths and bridge go
# with them).
net_down() {
	local ns
	while read -r ns _; do
		case $ns in "$LAB_NAME"-*) ip netns del "$ns" || say "ip netns del $ns failed" ;; esac
	done < <(ip netns list)
}

# lab_netns lists this lab's namespaces still present.
lab_netns() { ip netns list | awk -v p="$LAB_NAME-" 'index($1, p) == 1 { print $1 }'; }
