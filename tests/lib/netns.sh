# netns.sh -- network namespaces of a test's own, and always removing them
#
# For the tests that need mail servers and a DNS server on real addresses
# and ports (25, 53) without touching the host's network: every interface
# is a veth made inside the test's namespaces (none ever exists in the
# host's), with addresses the test chooses; nothing else is reached.
#
# netns_add NAME: a namespace, loopback up; remembered for netns_cleanup.
#   Use names unique to the run (with $$): a leftover of a killed run
#   then never clashes with this one.
# netns_link NS1 IF1 ADDR1/LEN NS2 IF2 ADDR2/LEN: a veth pair, IF1 in NS1
#   and IF2 in NS2, each with its address, up.
# netns_resolver NS ADDR: /etc/netns/NS/resolv.conf naming ADDR, which
#   `ip netns exec NS` bind-mounts over /etc/resolv.conf for everything
#   run in NS (the host's resolv.conf is untouched).
# netns_daemon NS CMD...: CMD run in NS, for daemon_start (it ends in
#   exec, so that $pid is CMD's own and daemon_cleanup stops CMD itself).
# netns_cleanup, in the script's tap_cleanup: SIGTERM to every process
#   still in each namespace (SIGKILL 5 s later), then the namespace (and
#   its veths) and its /etc/netns directory are deleted.

netns_list=""

netns_add() {
	ip netns add "$1" || return 1
	netns_list="$netns_list $1"
	ip -n "$1" link set lo up
}

netns_link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
	    ip -n "$1" addr add "$3" dev "$2" &&
	    ip -n "$4" addr add "$6" dev "$5" &&
	    ip -n "$1" link set "$2" up &&
	    ip -n "$4" link set "$5" up
}

netns_resolver() {
	mkdir -p "/etc/netns/$1" &&
	    echo "nameserver $2" > "/etc/netns/$1/resolv.conf"
}

netns_daemon() {
	_netns_n=$1
	shift
	exec ip netns exec "$_netns_n" "$@"
}

# netns_kill NS SIGNAL: SIGNAL to every process in NS; returns 1 if there
# was none.
netns_kill() {
	_netns_p=$(ip netns pids "$1" 2>/dev/null)
	[ -n "$_netns_p" ] || return 1
	kill -"$2" $_netns_p 2>/dev/null
	return 0
}

netns_cleanup() {
	for _netns_n in $netns_list; do
		netns_kill "$_netns_n" TERM || continue
		_netns_i=0
		while [ $_netns_i -lt 50 ] && [ -n "$(ip netns pids "$_netns_n")" ]
		do
			sleep 0.1
			_netns_i=$((_netns_i + 1))
		done
		netns_kill "$_netns_n" KILL
	done
	for _netns_n in $netns_list; do
		ip netns del "$_netns_n" 2>/dev/null
		rm -rf "/etc/netns/$_netns_n"
	done
	rmdir /etc/netns 2>/dev/null
	netns_list=""
}
