# Sourced by tests and benchmarks that put members in network namespaces
# of their own: a hub namespace holds a bridge, each "host" namespace gets
# a veth to it (eth0, 10.251.0.I/24). What a cloud does not bill stays off
# the link: every host knows every other's MAC address (permanent
# neighbour entries, no ARP) and IPv6 is off (no neighbour discovery or
# router solicitations). Names carry a random tag, unique per run; the
# caller's trap calls nsl_cleanup, which deletes them all.
#   nsl_setup PREFIX          the hub namespace; NSL_TAG, NSL_HUB set
#   nsl_add I                 host I (1..250): namespace $(nsl_ns I)
#   nsl_neigh                 permanent neighbour entries between all hosts
#   nsl_ns I / nsl_ip I       host I's namespace name / its address
#   nsl_cleanup               delete every namespace made here
# Members, ntpnode daemons in the hosts (NSL_NODE, NSL_CTL: the binaries;
# member I's config NSL_WORK/nI.conf, control socket NSL_WORK/cI.sock,
# output NSL_WORK/nI.out and nI.log; NSL_PIDS: what was started, for the
# caller's trap to stop by PID):
#   nsl_in NS CMD...          CMD in namespace NS
#   nsl_until SECS CMD...     poll CMD, quiet, until it succeeds
#   nsl_start I ARGS...       ntpnode ARGS in host I without CAP_SYS_TIME
#   nsl_ctl I ARGS...         ntpctl against member I
#   nsl_form N SECS           init member 1, join 2..N with one token, wait
#                             (SECS) for N reachable voters; says what failed
# Needs root (ip netns).
# shellcheck shell=bash

NSL_NSS=()
NSL_HOSTS=()
NSL_PIDS=()

nsl_setup() {
	NSL_TAG=$(printf '%04x%04x' "$RANDOM" "$$")
	NSL_PREFIX=$1
	NSL_HUB="${NSL_PREFIX}${NSL_TAG}h"
	ip netns add "$NSL_HUB" || return 1
	NSL_NSS+=("$NSL_HUB")
	ip -n "$NSL_HUB" link add br0 type bridge &&
		ip -n "$NSL_HUB" link set br0 up
}

nsl_ns() { echo "${NSL_PREFIX}${NSL_TAG}m$1"; }
nsl_ip() { echo "10.251.0.$1"; }

nsl_add() {
	local i=$1 ns
	ns=$(nsl_ns "$i")
	ip netns add "$ns" || return 1
	NSL_NSS+=("$ns")
	NSL_HOSTS+=("$i")
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$ns" link set lo up &&
		ip -n "$NSL_HUB" link add "p$i" type veth peer name eth0 netns "$ns" &&
		ip -n "$NSL_HUB" link set "p$i" master br0 up &&
		ip -n "$ns" addr add "$(nsl_ip "$i")/24" dev eth0 &&
		ip -n "$ns" link set eth0 up
}

nsl_neigh() {
	local i j mac
	for i in "${NSL_HOSTS[@]}"; do
		mac=$(ip netns exec "$(nsl_ns "$i")" cat /sys/class/net/eth0/address) ||
			return 1
		for j in "${NSL_HOSTS[@]}"; do
			[ "$i" = "$j" ] && continue
			ip -n "$(nsl_ns "$j")" neigh replace "$(nsl_ip "$i")" \
				lladdr "$mac" dev eth0 nud permanent || return 1
		done
	done
}

nsl_cleanup() {
	local ns
	for ns in "${NSL_NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	NSL_NSS=()
}

nsl_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

nsl_until() {
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# (ip netns exec, then setpriv, exec the daemon: $! is ntpnode's PID)
nsl_start() {
	local i=$1
	shift
	ip netns exec "$(nsl_ns "$i")" setpriv --bounding-set=-sys_time \
		--inh-caps=-sys_time "$NSL_NODE" "$@" -c "$NSL_WORK/n$i.conf" \
		>"$NSL_WORK/n$i.out" 2>>"$NSL_WORK/n$i.log" &
	NSL_PIDS+=($!)
}

nsl_ctl() {
	local i=$1
	shift
	timeout 10 "$NSL_CTL" -s "$NSL_WORK/c$i.sock" "$@"
}

nsl_voters() {
	nsl_ctl 1 -o json cluster status |
		jq -e --argjson n "$1" \
			'[.members[]|select(.role=="voter" and .reachable)]|length==$n'
}

nsl_form() {
	local n=$1 secs=$2 token i
	nsl_start 1 init
	nsl_until 30 test -S "$NSL_WORK/c1.sock" ||
		{ echo "member 1's init did not come up" >&2; return 1; }
	token=$(nsl_ctl 1 token create --uses $((n - 1))) ||
		{ echo "token create failed" >&2; return 1; }
	(umask 077 && printf '%s\n' "$token" >"$NSL_WORK/token")
	for i in $(seq 2 "$n"); do
		nsl_start "$i" join --token-file "$NSL_WORK/token"
	done
	nsl_until "$secs" nsl_voters "$n" ||
		{ echo "no $n reachable voters after $secs s" >&2; return 1; }
}
